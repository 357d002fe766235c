// One budget (maxCostUsd with a shared budgetKey, as a batch uses) across three real worker
// processes: 40 jobs race for $0.10 at $0.01 a call while half the answers are free misses
// that give their reservation back. Total spend never passes the budget by more than one
// call's price (with honest prices: not at all), and every process took part.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import { jobsSettled } from '../support/wait.js';
import type { App } from '../../src/app.js';

const BUDGET = 0.1;
const PRICE = 0.01;
const children: ChildProcessWithoutNullStreams[] = [];
let fake: FakeServer;
let inFlight = 0;
let maxInFlight = 0;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

beforeAll(async () => {
  assertDistIsFresh();
  fake = await startFakeServer({
    'POST /paid': async (req) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      for (let i = 0; i < 20 && inFlight < 4; i++) await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      const n = Number(/\d+/.exec((req.json as { domain: string }).domain)?.[0]);
      return { json: n % 2 ? { found: false } : { found: true, fields: { 'company.name': `Co ${n}` }, confidence: 0.9 } };
    },
  });
  app = await startTestApp({
    file: 'engine-request-budget-processes',
    role: 'web',
    plugins: { paid: httpProvider({ id: 'paid', returns: ['company.name'], needs: [['domain']], usd: PRICE }) },
    overrides: { plugins: { providers: ['paid'] }, providers: { paid: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['paid'] } },
  });
  const common = { mongodbUrl: app.names.mongodbUrl, redisUrl: app.names.redisUrl, prefix: app.names.prefix, provider: 'paid', baseUrl: fake.url, concurrency: 8, usd: PRICE };
  children.push(...(await Promise.all(['a', 'b', 'c'].map((k) => spawnWorker({ ...common, apiKey: `child-${k}` })))));
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map(stopWorker));
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
});

test('three worker processes sharing one request budget never spend past it by more than one call', async () => {
  await Promise.all(Array.from({ length: 40 }, (_, i) => app.enqueue({ workspace: 'w1', input: `budget${i}.com`, groups: ['companyProfile'], maxCostUsd: BUDGET, budgetKey: 'batch-1' })));
  await jobsSettled(app.store.models);
  const rows = await app.store.models.Ledger.find({ budget: 'batch-1' }).lean();
  const spentMicros = rows.reduce((s, r) => s + Math.round((r.costUsd ?? 0) * 1e6), 0);
  expect(spentMicros).toBeLessThanOrEqual(Math.round((BUDGET + PRICE) * 1e6));
  expect(spentMicros).toBeLessThanOrEqual(Math.round(BUDGET * 1e6)); // prices are honest here: no overshoot at all
  expect(rows.filter((r) => r.charged)).toHaveLength(spentMicros / Math.round(PRICE * 1e6));
  // Free misses gave their reservations back, so more than 10 calls fit; the budget still stopped some jobs.
  expect(rows.length).toBeGreaterThan(10);
  const jobs = await app.store.models.Job.find({}).lean();
  const stopped = jobs.filter((j) => (j.result as { budgetReached?: unknown } | undefined)?.budgetReached);
  expect(stopped.length).toBeGreaterThan(0);
  expect(stopped.length + rows.length).toBe(40);
  const paidCalls = fake.requests.filter((r) => r.path === '/paid');
  expect(paidCalls).toHaveLength(rows.length);
  for (const k of ['a', 'b', 'c']) expect(paidCalls.filter((r) => r.headers['x-key'] === `child-${k}`).length).toBeGreaterThan(0);
  expect(maxInFlight).toBeGreaterThan(1);
}, 90_000);
