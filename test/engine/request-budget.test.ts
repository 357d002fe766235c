// A request's maxCostUsd: the call that would pass it is not made (budget_reached, no charge,
// no ledger charge), the rest of the job does not run, and cached answers still answer at $0.
// Real App, Redis and MongoDB; the providers are a local fake server.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';

const providers = {
  first: httpProvider({ id: 'first', returns: ['company.name'], needs: [['domain']], usd: 0.01, missCharged: true }),
  second: httpProvider({ id: 'second', returns: ['company.name'], needs: [['domain']], usd: 0.01 }),
};
let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /first': () => ({ json: { found: false } }),
    'POST /second': () => ({ json: { found: true, fields: { 'company.name': 'Acme' }, confidence: 0.9 } }),
  });
  app = await startTestApp({
    file: 'engine-request-budget',
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: Object.fromEntries(Object.keys(providers).map((id) => [id, { baseUrl: fake.url }])),
      waterfalls: { companyProfile: ['first', 'second'] },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

const calls = (id: string) => fake.requests.filter((r) => r.path === `/${id}`).length;

test('a job stops before the call that would pass its maxCostUsd, and that call is not charged', async () => {
  const result = await app.enrichAndWait({ workspace: 'w', input: 'acme.com', groups: ['companyProfile'], maxCostUsd: 0.015 });
  expect(calls('first')).toBe(1); // a charged miss: $0.01 of $0.015
  expect(calls('second')).toBe(0); // $0.02 would pass the budget
  expect(result.outcomes.find((o) => o.provider === 'second')).toMatchObject({ outcome: 'budget_reached', costUsd: 0 });
  expect(result.budgetReached).toEqual({ maxUsd: 0.015, spentUsd: 0.01 });
  expect(result.costUsd).toBe(0.01);
  const rows = await app.store.models.Ledger.find({ jobId: result.jobId }).lean();
  expect(rows.map((r) => [r.provider, r.costUsd])).toEqual([['first', 0.01]]);
  // The group is left due: a later request with room in its budget runs it.
  const again = await app.enrichAndWait({ workspace: 'w', input: 'acme.com', groups: ['companyProfile'], maxCostUsd: 0.02 });
  expect(again.outcomes.map((o) => o.outcome)).toEqual(['cached', 'matched']);
  expect(calls('first')).toBe(1);
  expect(calls('second')).toBe(1);
});

test('a budget of zero lets cached answers through and makes no paid call', async () => {
  const before = calls('first') + calls('second');
  const result = await app.enrichAndWait({ workspace: 'w', input: 'acme.com', groups: ['companyProfile'], refresh: true, maxCostUsd: 0 });
  expect(calls('first') + calls('second')).toBe(before);
  expect(result.outcomes.map((o) => o.outcome)).toEqual(['cached', 'cached']);
  expect(result.budgetReached).toBeUndefined();
  expect(result.status).toBe('done');
});

test('requests with different budgets do not join each other', async () => {
  const a = await app.enqueue({ workspace: 'w', input: 'beta.com', groups: ['companyProfile'], maxCostUsd: 1 });
  const b = await app.enqueue({ workspace: 'w', input: 'beta.com', groups: ['companyProfile'], maxCostUsd: 2 });
  const c = await app.enqueue({ workspace: 'w', input: 'beta.com', groups: ['companyProfile'], maxCostUsd: 1 });
  expect(a.jobId).not.toBe(b.jobId);
  expect(c.jobId).toBe(a.jobId);
  await Promise.all([a, b].map((j) => app.service.waitFor(j.jobId, 20_000)));
});
