// The global daily cap across real worker processes: two child processes (the compiled App,
// test/engine/fixtures/worker-process.mjs) race for one budget through the shared Redis, while
// this process only enqueues. Not one call is made beyond the budget, and both children worked.
// Both children run on the system clock: the budget is that of today's UTC day.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import { jobsSettled } from '../support/wait.js';
import type { App } from '../../src/app.js';
const CAP = 0.1;
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
      // Hold each call until several are in flight (or a moment passed), so the workers race.
      for (let i = 0; i < 20 && inFlight < 4; i++) await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      return { json: { found: true, fields: { 'company.name': `Co ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } };
    },
  });
  // This process only enqueues: every provider call happens in the children.
  app = await startTestApp({
    file: 'engine-spend-cap-processes',
    role: 'web',
    plugins: { paid: httpProvider({ id: 'paid', returns: ['company.name'], needs: [['domain']], usd: PRICE }) },
    overrides: { plugins: { providers: ['paid'] }, providers: { paid: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['paid'] } },
  });
  const common = { mongodbUrl: app.names.mongodbUrl, redisUrl: app.names.redisUrl, prefix: app.names.prefix, provider: 'paid', baseUrl: fake.url, concurrency: 10, usd: PRICE, spendCaps: { dailyUsd: CAP } };
  children.push(...(await Promise.all([spawnWorker({ ...common, apiKey: 'child-a' }), spawnWorker({ ...common, apiKey: 'child-b' })])));
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map(stopWorker));
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
});

test('two worker processes racing for one daily budget never call past it', async () => {
  await Promise.all(Array.from({ length: 30 }, (_, i) => app.enqueue({ workspace: 'w1', input: `proc${i}.com`, groups: ['companyProfile'] })));
  await jobsSettled(app.store.models);
  const paidCalls = fake.requests.filter((r) => r.path === '/paid');
  expect(paidCalls).toHaveLength(10); // $0.10 / $0.01: not one call more
  const byChild = (key: string) => paidCalls.filter((r) => r.headers['x-key'] === key).length;
  expect(byChild('child-a')).toBeGreaterThan(0);
  expect(byChild('child-b')).toBeGreaterThan(0);
  expect(maxInFlight).toBeGreaterThan(1);
  const rows = await app.store.models.Ledger.find({ charged: true }).lean();
  expect(rows.reduce((s, r) => s + Math.round((r.costUsd ?? 0) * 1e6), 0)).toBe(Math.round(CAP * 1e6));
  const statuses = (await app.store.models.Job.find({}).lean()).map((j) => j.status);
  expect(statuses.filter((s) => s === 'done')).toHaveLength(10);
  expect(statuses.filter((s) => s === 'paused')).toHaveLength(20);
}, 90_000);
