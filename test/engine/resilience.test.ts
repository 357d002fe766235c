// The engine's resilience policy end to end: real App, Redis and MongoDB, providers answering
// from a local fake HTTP server. Retries (429 with Retry-After, 5xx with exponential backoff),
// permanent 4xx, the circuit breaker and the per-provider time limit.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

let fake: FakeServer;
/** Default retry policy (resilience.maxRetries 3), backoffBaseMs 20. */
let app: TestApp;
/** resilience.maxRetries 0: every lookup is exactly one HTTP request. */
let noRetry: TestApp;

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
  // backoffBaseMs is 20, so only Retry-After can explain a wait of a second.
  const [gap] = gaps('limited');
  expect(gap).toBeGreaterThanOrEqual(990);
  expect(gap).toBeLessThan(3000);

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
  // Waits of base, 2x base, 4x base (20, 40, 80 ms): each at least that long.
  const g = gaps('flaky');
  g.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(20 * 2 ** i - 1));
  expect(g.reduce((a, b) => a + b, 0)).toBeLessThan(2000);

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

  // After the cool-down the circuit half-opens: one trial request goes through, and its success closes it.
  fake.on('POST /broken', (req) => match({ 'company.name': `Back for ${(req.json as { domain: string }).domain}` }));
  let trial = sixth;
  for (let i = 0; i < 40 && byProvider(trial).broken === 'circuit_open'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    trial = await noRetry.enrichAndWait({ workspace: 'w2', input: `breaker-trial${i}.com`, groups: ['companyProfile'] });
  }
  expect(byProvider(trial)).toEqual({ broken: 'matched', spare: 'not_run' });
  expect(requestsTo('broken')).toHaveLength(6);
  const after = await noRetry.enrichAndWait({ workspace: 'w2', input: 'breaker-closed.com', groups: ['companyProfile'] });
  expect(byProvider(after)).toEqual({ broken: 'matched', spare: 'not_run' });
}, 30_000);

test('a call slower than the provider timeoutMs is an error naming the time limit, without waiting for the answer', async () => {
  fake.on('POST /slow', () => ({ delayMs: 1500, ...match({ 'company.acceptsMail': true }) }));
  const started = Date.now();
  const r = await noRetry.enrichAndWait({ workspace: 'w3', input: 'slow.com', groups: ['mailServer'] });
  const took = Date.now() - started;

  expect(byProvider(r)).toEqual({ slow: 'error' });
  expect(r.status).toBe('failed');
  expect(r.outcomes[0].reason).toMatch(/time limit/);
  expect(r.outcomes[0].reason).toContain('200 ms');
  expect(requestsTo('slow')).toHaveLength(1);
  expect(took).toBeLessThan(1500);
  const row = await noRetry.store.models.Ledger.findOne({ jobId: r.jobId, provider: 'slow' }).lean();
  expect(row).toMatchObject({ outcome: 'error', errorKind: 'timeout', attempts: 1 });
  expect(row!.latencyMs).toBeGreaterThanOrEqual(195);
  expect(row!.latencyMs).toBeLessThan(1500);
});
