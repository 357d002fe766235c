// The circuit breaker's state is shared through Redis: an outage one worker process saw opens
// the circuit for all of them, a half-open trial is given to exactly one, and failures of a
// user-supplied host (the website provider's target) never count. Time is injected, not slept.
import { Redis } from 'ioredis';
import { createProviderPolicy, BrokenCircuitError, type ResilienceSettings } from '../../src/engine/resilience.js';
import { ProviderError } from '../../src/engine/provider-error.js';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { testNames } from '../support/env.js';
import website from '../../plugins/providers/website/index.js';
import type { App } from '../../src/app.js';

const names = testNames('engine-breaker');
let redis: Redis;
beforeAll(() => {
  redis = new Redis(names.redisUrl);
});
afterAll(async () => {
  const keys = await redis.keys(`${names.prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const settings: ResilienceSettings = { timeoutMs: 5000, maxRetries: 0, backoffBaseMs: 1, maxRetryAfterMs: 1000, breakerThreshold: 5, breakerCooldownMs: 30_000 };
let n = 0;
/** Two "processes": separate policy objects, separate Redis connections, one breaker key. */
function twoWorkers() {
  const key = `${names.prefix}:breaker:p${++n}`;
  let t = Date.UTC(2031, 0, 1);
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const other = new Redis(names.redisUrl);
  const a = createProviderPolicy(settings, { shared: { redis, key }, now: clock.now });
  const b = createProviderPolicy(settings, { shared: { redis: other, key }, now: clock.now });
  return { a, b, clock, close: () => other.disconnect() };
}
const fail = (kind: 'server' | 'network' | 'client', extra: { hostFault?: boolean } = {}) => async () => {
  throw new ProviderError(kind, `boom (${kind})`, extra);
};
const ok = async () => 'answer';

test('five failures seen by one worker open the circuit for another, which then makes no call', async () => {
  const { a, b, close } = twoWorkers();
  for (let i = 0; i < 5; i++) await expect(a.policy.execute(fail('server'))).rejects.toBeInstanceOf(ProviderError);
  let called = 0;
  await expect(b.policy.execute(async () => (called++, 'x'))).rejects.toBeInstanceOf(BrokenCircuitError);
  expect(called).toBe(0);
  expect(await b.breaker.state()).toBe('open');
  close();
});

test('after the cool-down exactly one worker gets the half-open trial; its success closes the circuit for all', async () => {
  const { a, b, clock, close } = twoWorkers();
  for (let i = 0; i < 5; i++) await expect(b.policy.execute(fail('network'))).rejects.toBeInstanceOf(ProviderError);
  clock.advance(settings.breakerCooldownMs + 1);
  expect(await a.breaker.state()).toBe('half-open');
  let release: (() => void) | undefined;
  const trial = a.policy.execute(() => new Promise<string>((r) => (release = () => r('back'))));
  while (!release) await new Promise((r) => setImmediate(r)); // the trial call is in flight

  await expect(b.policy.execute(ok)).rejects.toBeInstanceOf(BrokenCircuitError); // trial in flight elsewhere
  release();
  expect(await trial).toBe('back');
  expect(await b.policy.execute(ok)).toBe('answer');
  expect(await b.breaker.state()).toBe('closed');
  close();
});

test('a failed trial re-opens the circuit for a new cool-down', async () => {
  const { a, b, clock, close } = twoWorkers();
  for (let i = 0; i < 5; i++) await expect(a.policy.execute(fail('server'))).rejects.toBeInstanceOf(ProviderError);
  clock.advance(settings.breakerCooldownMs + 1);
  await expect(b.policy.execute(fail('server'))).rejects.toBeInstanceOf(ProviderError);
  await expect(a.policy.execute(ok)).rejects.toBeInstanceOf(BrokenCircuitError);
  clock.advance(settings.breakerCooldownMs + 1);
  expect(await a.policy.execute(ok)).toBe('answer');
  close();
});

test('a success or a permanent 4xx in between resets the count of consecutive failures', async () => {
  const { a, b, close } = twoWorkers();
  for (let i = 0; i < 4; i++) await expect(a.policy.execute(fail('server'))).rejects.toBeInstanceOf(ProviderError);
  await expect(b.policy.execute(fail('client'))).rejects.toMatchObject({ kind: 'client' });
  for (let i = 0; i < 4; i++) await expect(a.policy.execute(fail('server'))).rejects.toBeInstanceOf(ProviderError);
  expect(await b.policy.execute(ok)).toBe('answer');
  close();
});

test('failures of a user-supplied host never count toward the breaker', async () => {
  const { a, b, close } = twoWorkers();
  for (let i = 0; i < 20; i++) await expect(a.policy.execute(fail('server', { hostFault: true }))).rejects.toMatchObject({ hostFault: true });
  expect(await b.breaker.state()).toBe('closed');
  expect(await b.policy.execute(ok)).toBe('answer');
  close();
});

test('a call whose own retries open the circuit fails with its own last error; the next call is refused', async () => {
  const policy = createProviderPolicy({ ...settings, maxRetries: 3, breakerThreshold: 2 });
  let called = 0;
  const failing = async () => {
    called++;
    throw new ProviderError('network', 'connection reset');
  };
  await expect(policy.policy.execute(failing)).rejects.toMatchObject({ kind: 'network', message: 'connection reset' });
  expect(called).toBe(2); // the third attempt met the open circuit and made no request
  await expect(policy.policy.execute(ok)).rejects.toBeInstanceOf(BrokenCircuitError);
});

describe('the website provider against broken sites', () => {
  let site: FakeServer;
  let dns: DnsServer;
  let app: App & { names: ReturnType<typeof testNames> };
  beforeAll(async () => {
    site = await startFakeServer({ 'GET /': (req) => (req.headers.host?.startsWith('good.com') ? { headers: { 'content-type': 'text/html' }, body: '<title>Good Co</title>' } : { status: 503, body: 'down' }) });
    dns = await startDnsServer({ a: Object.fromEntries(['good.com', ...Array.from({ length: 8 }, (_, i) => `broken${i}.com`)].map((d) => [d, ['127.0.0.1']])) });
    app = await startTestApp({
      file: 'engine-breaker-website',
      plugins: { website },
      dnsServers: [dns.address],
      overrides: {
        plugins: { providers: ['website'] },
        providers: { website: { httpsPort: 9, httpPort: site.port } },
        waterfalls: { companyProfile: ['website'] },
        net: { allowPrivateHosts: ['127.0.0.1'] },
        resilience: { maxRetries: 0, breakerThreshold: 3 },
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    if (app) await dropTestData(app.names);
    await site.close();
    await dns.close();
  });

  test('eight sites answering 503 leave the website circuit closed for the next workspace', async () => {
    for (let i = 0; i < 8; i++) {
      const r = await app.enrichAndWait({ workspace: 'hostile', input: `broken${i}.com`, groups: ['companyProfile'] });
      expect(r.outcomes[0]).toMatchObject({ provider: 'website', outcome: 'error', reason: expect.stringContaining('503') });
    }
    const good = await app.enrichAndWait({ workspace: 'innocent', input: 'good.com', groups: ['companyProfile'] });
    expect(good.outcomes[0]).toMatchObject({ provider: 'website', outcome: 'matched' });
    expect(good.company?.fields.name?.value).toBe('Good Co');
  }, 60_000);
});
