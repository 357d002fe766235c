// The engine's resilience policy end to end: real App, Redis and MongoDB, providers answering
// from a local fake HTTP server. Retries (429 with Retry-After, 5xx with exponential backoff),
// permanent 4xx, the circuit breaker and the per-provider time limit.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { createProviderPolicy } from '../../src/engine/resilience.js';
import { ProviderError } from '../../src/engine/provider-error.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

let fake: FakeServer;
/** Default retry policy (resilience.maxRetries 3), backoffBaseMs 20. */
let app: TestApp;
/** resilience.maxRetries 0: every lookup is exactly one HTTP request. Its clock drives the breaker's cool-down. */
let noRetry: TestApp;
const noRetryClock = new ManualClock(Date.UTC(2031, 6, 1, 12));

const company = (id: string, returns: Parameters<typeof httpProvider>[0]['returns']) => httpProvider({ id, returns, needs: [['domain']], usd: 0.01 });

const retrying = {
  limited: company('limited', ['company.name']),
  flaky: company('flaky', ['company.acceptsMail']),
  backup: company('backup', ['company.acceptsMail']),
  strict: company('strict', ['company.secCik']),
};
const single = {
  broken: company('broken', ['company.name']),
  spare: company('spare', ['company.name']),
  slow: company('slow', ['company.acceptsMail']),
};

const baseUrls = (ids: string[], extra: Record<string, object> = {}) => Object.fromEntries(ids.map((id) => [id, { baseUrl: fake.url, ...extra[id] }]));

beforeAll(async () => {
  fake = await startFakeServer();
  app = await startTestApp({
    file: 'engine-resilience',
    plugins: retrying,
    overrides: {
      plugins: { providers: Object.keys(retrying) },
      providers: baseUrls(Object.keys(retrying)),
      waterfalls: { companyProfile: ['limited'], mailServer: ['flaky', 'backup'], publicCompany: ['strict'] },
      resilience: { backoffBaseMs: 20 },
    },
  });
  noRetry = await startTestApp({
    file: 'engine-resilience-0',
    clock: noRetryClock,
    plugins: single,
    overrides: {
      plugins: { providers: Object.keys(single) },
      providers: baseUrls(Object.keys(single), { slow: { timeoutMs: 200 }, broken: { breakerCooldownMs: 1500 } }),
      waterfalls: { companyProfile: ['broken', 'spare'], mailServer: ['slow'] },
      resilience: { maxRetries: 0, breakerThreshold: 5 },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  await noRetry?.stop();
  if (app) await dropTestData(app.names);
  if (noRetry) await dropTestData(noRetry.names);
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
});

const byProvider = (r: { outcomes: { provider: string; outcome: string }[] }) => Object.fromEntries(r.outcomes.map((o) => [o.provider, o.outcome]));
const requestsTo = (id: string) => fake.requests.filter((r) => r.path === `/${id}`);
const gaps = (id: string) => {
  const at = requestsTo(id).map((r) => r.at);
  return at.slice(1).map((t, i) => t - at[i]);
};
const match = (fields: Record<string, unknown>) => ({ json: { found: true, fields, confidence: 0.9 } });

test('a 429 with Retry-After is retried no sooner than the provider asked, then the 200 is a match', async () => {
  let n = 0;
  fake.on('POST /limited', () => (++n === 1 ? { status: 429, headers: { 'retry-after': '1' }, json: { message: 'slow down' } } : match({ 'company.name': 'Patient Inc' })));
  const r = await app.enrichAndWait({ workspace: 'w1', input: 'patient.com', groups: ['companyProfile'] });

  expect(r.status).toBe('done');
  expect(byProvider(r)).toEqual({ limited: 'matched' });
  expect(r.company?.fields.name.value).toBe('Patient Inc');
  expect(requestsTo('limited')).toHaveLength(2);
  // backoffBaseMs is 20, so only Retry-After can explain a wait of a second (a lower bound only:
  // a loaded machine can wait longer, never shorter).
  const [gap] = gaps('limited');
  expect(gap).toBeGreaterThanOrEqual(990);

  const rows = await app.store.models.Ledger.find({ jobId: r.jobId, provider: 'limited' }).lean();
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ outcome: 'matched', attempts: 2, httpStatus: 200, costUsd: 0.01, charged: true });
});

test('a 5xx is retried maxRetries times with exponential backoff, then errors and the next provider serves', async () => {
  fake.on('POST /flaky', () => ({ status: 503, json: { message: 'down' } }));
  fake.on('POST /backup', () => match({ 'company.acceptsMail': true }));
  const r = await app.enrichAndWait({ workspace: 'w1', input: 'flaky.com', groups: ['mailServer'] });

  expect(r.status).toBe('done');
  expect(byProvider(r)).toEqual({ flaky: 'error', backup: 'matched' });
  expect(r.outcomes.find((o) => o.provider === 'flaky')?.reason).toContain('HTTP 503');
  expect(r.company?.fields.acceptsMail).toMatchObject({ value: true, provider: 'backup' });
  // cockatiel's maxAttempts counts retries: maxRetries 3 means 1 call + 3 retries.
  expect(app.config.resilience.maxRetries).toBe(3);
  expect(requestsTo('flaky')).toHaveLength(4);
  expect(requestsTo('backup')).toHaveLength(1);
  // Waits of base, 2x base, 4x base (20, 40, 80 ms): each at least that long (the exact delays
  // chosen are checked on the policy itself below).
  const g = gaps('flaky');
  g.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(20 * 2 ** i - 1));

  const flaky = await app.store.models.Ledger.findOne({ jobId: r.jobId, provider: 'flaky' }).lean();
  expect(flaky).toMatchObject({ outcome: 'error', attempts: 4, httpStatus: 503, errorKind: 'server', costUsd: 0, charged: false });
  expect(r.costUsd).toBeCloseTo(0.01, 6); // only the backup's match is paid
});

test('a permanent 4xx is not retried', async () => {
  fake.on('POST /strict', () => ({ status: 422, json: { message: 'domain is not valid here' } }));
  const r = await app.enrichAndWait({ workspace: 'w1', input: 'strict.com', groups: ['publicCompany'] });

  expect(byProvider(r)).toEqual({ strict: 'error' });
  expect(r.status).toBe('failed');
  expect(r.outcomes[0].reason).toContain('HTTP 422');
  expect(requestsTo('strict')).toHaveLength(1);
  const row = await app.store.models.Ledger.findOne({ jobId: r.jobId, provider: 'strict' }).lean();
  expect(row).toMatchObject({ outcome: 'error', attempts: 1, httpStatus: 422, errorKind: 'client' });
});

test('five consecutive 5xx open the circuit: the sixth lookup skips the provider without a request and the next one serves', async () => {
  fake.on('POST /broken', () => ({ status: 500, json: { message: 'boom' } }));
  fake.on('POST /spare', (req) => match({ 'company.name': `Spare for ${(req.json as { domain: string }).domain}` }));

  for (let i = 1; i <= 5; i++) {
    const r = await noRetry.enrichAndWait({ workspace: 'w2', input: `breaker${i}.com`, groups: ['companyProfile'] });
    expect(byProvider(r)).toEqual({ broken: 'error', spare: 'matched' });
    expect(requestsTo('broken')).toHaveLength(i); // maxRetries 0: one request per lookup
  }
  const sixth = await noRetry.enrichAndWait({ workspace: 'w2', input: 'breaker6.com', groups: ['companyProfile'] });

  expect(byProvider(sixth)).toEqual({ broken: 'circuit_open', spare: 'matched' });
  expect(sixth.outcomes.find((o) => o.provider === 'broken')).toMatchObject({ costUsd: 0, reason: expect.stringContaining('consecutive failures') });
  expect(requestsTo('broken')).toHaveLength(5);
  expect(requestsTo('spare')).toHaveLength(6);
  expect(sixth.status).toBe('done');
  expect(sixth.company?.fields.name).toMatchObject({ value: 'Spare for breaker6.com', provider: 'spare' });

  // Before the cool-down (1500 ms on the app's clock) the circuit stays open; after it, it half-opens:
  // one trial request goes through, and its success closes it. Time is moved, not slept.
  fake.on('POST /broken', (req) => match({ 'company.name': `Back for ${(req.json as { domain: string }).domain}` }));
  noRetryClock.advance(1400);
  const early = await noRetry.enrichAndWait({ workspace: 'w2', input: 'breaker-early.com', groups: ['companyProfile'] });
  expect(byProvider(early)).toEqual({ broken: 'circuit_open', spare: 'matched' });
  noRetryClock.advance(200);
  const trial = await noRetry.enrichAndWait({ workspace: 'w2', input: 'breaker-trial.com', groups: ['companyProfile'] });
  expect(byProvider(trial)).toEqual({ broken: 'matched', spare: 'not_run' });
  expect(requestsTo('broken')).toHaveLength(6);
  const after = await noRetry.enrichAndWait({ workspace: 'w2', input: 'breaker-closed.com', groups: ['companyProfile'] });
  expect(byProvider(after)).toEqual({ broken: 'matched', spare: 'not_run' });
}, 90_000); // eight sequential jobs: room for a loaded machine (no timing is asserted)

test('a call slower than the provider timeoutMs is a time-out naming the time limit, without waiting for the answer', async () => {
  // The fake holds its answer until the job has finished: the job cannot have waited for it.
  let answer!: () => void;
  const held = new Promise<void>((r) => (answer = r));
  fake.on('POST /slow', async () => {
    await held;
    return match({ 'company.acceptsMail': true });
  });
  const r = await noRetry.enrichAndWait({ workspace: 'w3', input: 'slow.com', groups: ['mailServer'] });
  answer();

  expect(byProvider(r)).toEqual({ slow: 'timeout' });
  expect(r.status).toBe('failed');
  expect(r.outcomes[0].reason).toMatch(/time limit/);
  expect(r.outcomes[0].reason).toContain('200 ms');
  expect(requestsTo('slow')).toHaveLength(1);
  const row = await noRetry.store.models.Ledger.findOne({ jobId: r.jobId, provider: 'slow' }).lean();
  expect(row).toMatchObject({ outcome: 'timeout', errorKind: 'timeout', attempts: 1 });
  expect(row!.latencyMs).toBeGreaterThanOrEqual(195);
});

test('a Retry-After beyond maxRetryAfterMs is not waited for: one request, a rate_limited error', async () => {
  expect(app.config.resilience.maxRetryAfterMs).toBe(60_000);
  fake.on('POST /limited', () => ({ status: 429, headers: { 'retry-after': '3600' }, json: { message: 'come back in an hour' } }));
  const r = await app.enrichAndWait({ workspace: 'w4', input: 'hour-wait.com', groups: ['companyProfile'] });
  expect(byProvider(r)).toEqual({ limited: 'error' });
  expect(r.outcomes[0].reason).toContain('HTTP 429');
  expect(requestsTo('limited')).toHaveLength(1);
  const row = await app.store.models.Ledger.findOne({ jobId: r.jobId, provider: 'limited' }).lean();
  expect(row).toMatchObject({ outcome: 'error', errorKind: 'rate_limited', attempts: 1, httpStatus: 429 });
});

test('the policy chooses waits of base, 2x base and 4x base, or a longer Retry-After', async () => {
  const delays: number[] = [];
  const policy = createProviderPolicy(
    { timeoutMs: 5000, maxRetries: 3, backoffBaseMs: 5, maxRetryAfterMs: 1000, breakerThreshold: 100, breakerCooldownMs: 1000 },
    { onRetry: ({ delay }) => delays.push(delay) },
  );
  await expect(policy.policy.execute(async () => { throw new ProviderError('server', 'down'); })).rejects.toMatchObject({ kind: 'server' });
  expect(delays).toEqual([5, 10, 20]);
  delays.length = 0;
  let n = 0;
  const answer = await policy.policy.execute(async () => {
    if (++n === 1) throw new ProviderError('rate_limited', 'slow down', { retryAfterMs: 30 });
    return 'ok';
  });
  expect([answer, delays]).toEqual(['ok', [30]]);
});
