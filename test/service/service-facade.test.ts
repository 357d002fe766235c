// A trigger holds the service through a facade: every EnrichService method, called on the one
// service, and nothing that leads to the config, the store or the service's internals. The list
// of methods is tied to the interface by the type check; this checks what the type check cannot.
import { serviceFacade, SERVICE_METHODS } from '../../src/service/service-facade.js';
import { EnrichServiceImpl } from '../../src/service/enrich-service.js';
import type { EnrichService } from '../../src/plugin/service.js';

/** The service's methods that are not for triggers: the App and the worker call them. */
const INTERNAL = ['constructor', 'validate', 'cancelJob', 'jobFinished', 'close', 'checkTrigger', 'refuseForgotten'];

test('every public method of the service is either on the facade or a known internal one: a new method cannot be left off by accident', () => {
  const own = Object.getOwnPropertyNames(EnrichServiceImpl.prototype).filter((m) => typeof Object.getOwnPropertyDescriptor(EnrichServiceImpl.prototype, m)?.value === 'function');
  expect(own.filter((m) => !INTERNAL.includes(m)).sort()).toEqual([...SERVICE_METHODS].sort());
});

test('the facade calls the service with the service as `this`, and holds nothing else', async () => {
  const calls: [string, unknown, unknown[]][] = [];
  const service = { config: { secret: 'sk-live' } } as Record<string, unknown>;
  for (const m of SERVICE_METHODS) {
    service[m] = function (this: unknown, ...args: unknown[]) {
      calls.push([m, this, args]);
      return `answer of ${m}`;
    };
  }
  const facade = serviceFacade(service as unknown as EnrichService);
  expect(Object.keys(facade).sort()).toEqual([...SERVICE_METHODS].sort());
  expect(Object.getPrototypeOf(facade)).toBeNull();
  expect(Object.isFrozen(facade)).toBe(true);
  expect('config' in facade).toBe(false);
  expect(await facade.status('enr_1', 'W')).toBe('answer of status');
  expect(calls).toEqual([['status', service, ['enr_1', 'W']]]);
});
