// Counters rebuilt from the ledger after Redis loses them, on the real App: $0.09 of a $0.10
// workspace budget spent, the counter keys deleted, and still only one more $0.01 call is made;
// the sweeper's reconcile puts a lost counter back from the ledger on its own.
import { Redis } from 'ioredis';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ManualClock, utcDay } from '../../src/clock.js';
import type { App } from '../../src/app.js';

let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
let redis: Redis;
const clock = new ManualClock(Date.UTC(2031, 9, 12, 9, 0));

beforeAll(async () => {
  fake = await startFakeServer({ 'POST /paid': (req) => ({ json: { found: true, fields: { 'company.name': `Co ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } }) });
  app = await startTestApp({
    file: 'engine-spend-cap-rebuild',
    clock,
    plugins: { paid: httpProvider({ id: 'paid', returns: ['company.name'], needs: [['domain']], usd: 0.01 }) },
    overrides: {
      plugins: { providers: ['paid'] },
      providers: { paid: { baseUrl: fake.url } },
      waterfalls: { companyProfile: ['paid'] },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null, workspaces: { w: 0.1 } },
    },
  });
  redis = new Redis(app.names.redisUrl);
});
afterAll(async () => {
  redis?.disconnect();
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

const counterKeys = () => redis.keys(`${app.names.prefix}:spend:${utcDay(clock.now())}:*`);

test('after Redis loses the counters, the ledger still bounds the day: one more call, not ten', async () => {
  for (let i = 0; i < 9; i++) expect((await app.enrichAndWait({ workspace: 'w', input: `spent${i}.com`, groups: ['companyProfile'] })).status).toBe('done');
  const keys = await counterKeys();
  expect(keys.length).toBeGreaterThan(0);
  await redis.del(...keys);

  const after = [];
  for (let i = 0; i < 5; i++) after.push(await app.enrichAndWait({ workspace: 'w', input: `more${i}.com`, groups: ['companyProfile'] }));
  expect(after.map((r) => r.status)).toEqual(['done', 'paused', 'paused', 'paused', 'paused']);
  expect(fake.requests.filter((r) => r.path === '/paid')).toHaveLength(10);
}, 120_000); // fourteen sequential jobs: room for a loaded machine (no timing is asserted)

test('the sweeper puts a lost counter back from the ledger', async () => {
  await redis.del(...(await counterKeys()));
  await app.sweeper!.runOnce();
  expect(await redis.get(`${app.names.prefix}:spend:${utcDay(clock.now())}:global`)).toBe(String(100_000));
  expect(await redis.get(`${app.names.prefix}:spend:${utcDay(clock.now())}:ws:w`)).toBe(String(100_000));
});
