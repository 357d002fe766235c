// The books of one paid call: a pending row under the call's idempotency key before the call, the
// same row settled after it, the answer cached before the books are written, and a failed ledger
// write that neither loses the answer nor causes a second (paid) call.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { callProvider, type CallServices } from '../../src/engine/provider-call.js';
import { Ledger, type LedgerInput } from '../../src/engine/ledger.js';
import { ProviderCache } from '../../src/engine/provider-cache.js';
import { RateLimiter } from '../../src/engine/rate-limit.js';
import { utcDay } from '../../src/clock.js';
import type { App } from '../../src/app.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

/** A ledger whose writes of call outcomes fail, as when the database drops out after the call. */
class FailingLedger extends Ledger {
  override async record(entry: LedgerInput, id?: string): Promise<string> {
    if (entry.outcome !== 'cached' && entry.outcome !== 'pending') throw new Error('ledger write failed (injected)');
    return super.record(entry, id);
  }
  override async settle(): Promise<void> {
    throw new Error('ledger write failed (injected)');
  }
}

let fake: FakeServer;
let app: TestApp;
const PRICE = 0.25;

beforeAll(async () => {
  fake = await startFakeServer();
  app = await startTestApp({
    file: 'engine-ledger-books',
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: PRICE }) },
    overrides: { plugins: { providers: ['co'] }, providers: { co: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['co'] }, spendCaps: { dailyUsd: 100 } },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});

const services = (ledger: Ledger): CallServices => ({
  ledger,
  cache: new ProviderCache(app.store.models),
  spendCap: app.spendCap,
  rateLimiter: new RateLimiter(app.redis, app.names.prefix),
  clock: app.clock,
  safeFetch: app.safeFetch,
});
const call = (domain: string, runTag: string, svc: CallServices) => {
  const provider = app.providers.get('co')!;
  return callProvider({ provider, operation: provider.plugin.operations[0], input: { domain }, group: 'companyProfile', workspace: 'W', jobId: runTag.split('#')[0], runTag, signal: new AbortController().signal }, svc);
};
const spentMicros = async () => Number((await app.redis.get(`${app.names.prefix}:spend:${utcDay(app.clock.now())}:global`)) ?? 0);

test('a paid call writes a pending row at its reserved price before the call, and settles that same row after', async () => {
  let seenDuringCall: unknown[] = [];
  fake.on('POST /co', async () => {
    seenDuringCall = await app.store.models.Ledger.find({ provider: 'co', jobId: 'job1' }).lean();
    return { json: { found: true, fields: { 'company.name': 'Pending Co' }, confidence: 0.9 } };
  });
  const res = await call('pending.com', 'job1#1.1', services(new Ledger(app.store.models, 4096)));
  expect(res.outcome.outcome).toBe('matched');
  expect(seenDuringCall).toEqual([expect.objectContaining({ outcome: 'pending', costUsd: PRICE, reservedUsd: PRICE, charged: false })]);
  const id = (seenDuringCall[0] as { _id: string })._id;
  expect(id).toMatch(/^job1#1\.1\|co\|lookup\|[0-9a-f]{40}$/);
  expect(res.outcome.ledgerId).toBe(id);
  const rows = await app.store.models.Ledger.find({ provider: 'co', jobId: 'job1' }).lean();
  expect(rows).toEqual([expect.objectContaining({ _id: id, outcome: 'matched', costUsd: PRICE, charged: true })]);
});

test('a ledger write that fails after a successful call keeps the answer, and a re-run does not call again', async () => {
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Kept Co' }, confidence: 0.9 } }));
  const before = fake.requests.length;
  const spentBefore = await spentMicros();
  const res = await call('kept.com', 'job2#1.1', services(new FailingLedger(app.store.models, 4096)));
  expect(res.result).toMatchObject({ outcome: 'matched', fields: { 'company.name': 'Kept Co' } });
  expect(fake.requests.length - before).toBe(1);
  // The row stays pending at its reservation, and so do the counters: the books still agree.
  const rows = await app.store.models.Ledger.find({ jobId: 'job2' }).lean();
  expect(rows).toEqual([expect.objectContaining({ outcome: 'pending', costUsd: PRICE })]);
  expect((await spentMicros()) - spentBefore).toBe(Math.round(PRICE * 1e6));

  // The job is retried (its run threw, or its worker died): the answer comes from the cache.
  const again = await call('kept.com', 'job2#1.2', services(new Ledger(app.store.models, 4096)));
  expect(again.outcome.outcome).toBe('cached');
  expect(again.result).toMatchObject({ fields: { 'company.name': 'Kept Co' } });
  expect(fake.requests.length - before).toBe(1);

  // An hour later the sweeper counts the unsettled row as lost (billed).
  await app.sweeper!.runOnce();
  expect((await app.store.models.Ledger.findOne({ jobId: 'job2', outcome: { $ne: 'cached' } }).lean())?.outcome).toBe('pending');
  const realNow = app.clock.now;
  app.clock.now = () => new Date(realNow().getTime() + 2 * 3600_000);
  try {
    expect((await app.sweeper!.runOnce()).lost).toBe(1);
  } finally {
    app.clock.now = realNow;
  }
  expect(await app.store.models.Ledger.findOne({ jobId: 'job2', outcome: { $ne: 'cached' } }).lean()).toMatchObject({ outcome: 'lost', charged: true, costUsd: PRICE });
});

/** A cache whose writes fail, as when the database drops out between the call and its books. */
class FailingCache extends ProviderCache {
  override async put(): Promise<void> {
    throw new Error('cache write failed (injected)');
  }
}

test('a cache write that fails after a paid call still settles its books; only a later request pays again', async () => {
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Uncached Co' }, confidence: 0.9 } }));
  const before = fake.requests.length;
  const spentBefore = await spentMicros();
  const res = await call('uncached.com', 'job3#1.1', { ...services(new Ledger(app.store.models, 4096)), cache: new FailingCache(app.store.models) });
  expect(res.outcome).toMatchObject({ outcome: 'matched', costUsd: PRICE, ledgerId: expect.any(String) });
  expect(res.result).toMatchObject({ fields: { 'company.name': 'Uncached Co' } });
  expect(await app.store.models.Ledger.find({ jobId: 'job3' }).lean()).toEqual([expect.objectContaining({ _id: res.outcome.ledgerId, outcome: 'matched', costUsd: PRICE, charged: true })]);
  expect((await spentMicros()) - spentBefore).toBe(Math.round(PRICE * 1e6));

  const again = await call('uncached.com', 'job3#1.2', services(new Ledger(app.store.models, 4096)));
  expect(again.outcome.outcome).toBe('matched');
  expect(fake.requests.length - before).toBe(2);
});

test('a lookup that throws a plain error (a plugin bug) is an error of kind internal: its row settles at no cost and nothing is cached', async () => {
  const provider = app.providers.get('co')!;
  const buggy = { ...provider.plugin.operations[0], lookup: async (): Promise<never> => { throw new TypeError('fields is not iterable'); } };
  const spentBefore = await spentMicros();
  const svc = services(new Ledger(app.store.models, 4096));
  const res = await callProvider({ provider, operation: buggy, input: { domain: 'buggy.com' }, group: 'companyProfile', workspace: 'W', jobId: 'job4', runTag: 'job4#1.1', signal: new AbortController().signal }, svc);
  expect(res.result).toBeUndefined();
  expect(res.outcome).toMatchObject({ provider: 'co', operation: 'lookup', group: 'companyProfile', outcome: 'error', reason: 'fields is not iterable', costUsd: 0 });
  expect(await app.store.models.Ledger.find({ jobId: 'job4' }).lean()).toEqual([
    expect.objectContaining({ _id: res.outcome.ledgerId, outcome: 'error', errorKind: 'internal', error: 'fields is not iterable', costUsd: 0, charged: false, attempts: 1 }),
  ]);
  expect(await spentMicros()).toBe(spentBefore);
  // Nothing was cached: the next request asks the provider.
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Buggy Co' }, confidence: 0.9 } }));
  expect((await call('buggy.com', 'job5#1.1', svc)).outcome.outcome).toBe('matched');
});
