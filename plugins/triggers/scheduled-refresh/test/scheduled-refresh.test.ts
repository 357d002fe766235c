// Scheduled re-enrichment (issue 21): only opted-in workspaces, oldest records first, within the
// workspace's own daily budget, and providers whose freshness window still holds are not paid
// again (their answers come from the cache). Time is moved on the app's clock, never slept.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { ManualClock } from '../../../../src/clock.js';
import scheduledRefresh from '../index.js';
import { runScheduledRefresh } from '../refresh-run.js';

const DAY_MS = 86_400_000;
const clock = new ManualClock(Date.UTC(2031, 0, 5, 9));
const providers = {
  profile: httpProvider({ id: 'profile', returns: ['person.title', 'person.fullName'], needs: [['workEmail']], usd: 0.01 }),
  phones: httpProvider({ id: 'phones', returns: ['person.phone'], needs: [['workEmail']], usd: 0.02 }),
};
let api: FakeServer;
let redis: Redis;
let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  api = await startFakeServer({
    'POST /profile': () => ({ json: { found: true, fields: { 'person.title': 'CTO', 'person.fullName': 'Pat Doe' }, confidence: 0.9 } }),
    'POST /phones': () => ({ json: { found: true, fields: { 'person.phone': '+15125550123' }, confidence: 0.9 } }),
  });
  app = await startTestApp({
    file: 'scheduled-refresh',
    clock,
    plugins: { ...providers, 'scheduled-refresh': scheduledRefresh } as never,
    overrides: {
      plugins: { providers: ['profile', 'phones'], triggers: ['scheduled-refresh'] },
      // profile's answers stand 90 days, phones' 7.
      providers: { profile: { baseUrl: api.url, freshnessDays: 90 }, phones: { baseUrl: api.url, freshnessDays: 7 } },
      waterfalls: { personProfile: ['profile'], phone: ['phones'] },
      engine: { recordFreshnessDays: 30 },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  });
  redis = new Redis(app.names.redisUrl, { keyPrefix: `${app.names.prefix}:test-scheduled-refresh:` });
});
afterAll(async () => {
  redis?.disconnect();
  await app?.stop();
  if (app) await dropTestData(app.names);
  await api?.close();
});

const calls = (id: string) => api.requests.filter((r) => r.path === `/${id}`).length;
const deps = () => ({ service: app.service, redis, logger: pino({ level: 'silent' }), trigger: 'scheduled-refresh', olderThanDays: 30, workspaces: { W: { dailyBudgetUsd: 0.05, maxRecords: 50 } }, waitMs: 20_000 });

test('opted-in workspaces are re-enriched oldest first within their daily budget, without paying again within a provider freshness window', async () => {
  // Enriched in this order, an hour apart: b is the oldest, a the youngest; "Other" has not opted in.
  for (const email of ['b@acme.com', 'c@acme.com', 'a@acme.com']) {
    expect((await app.enrichAndWait({ workspace: 'W', input: email })).costUsd).toBeCloseTo(0.03, 6);
    clock.advance(3_600_000);
  }
  await app.enrichAndWait({ workspace: 'Other', input: 'd@acme.com' });
  expect([calls('profile'), calls('phones')]).toEqual([4, 4]);

  clock.advance(31 * DAY_MS);
  const [w] = await runScheduledRefresh(deps(), clock.now());
  // Each re-enrichment pays phones again (7-day window over) and not profile (90 days): $0.02.
  // After two the budget ($0.05) has no room for a third.
  expect(w).toEqual({ workspace: 'W', refreshed: ['b@acme.com', 'c@acme.com'], spentUsd: 0.04, stopped: 'budget' });
  expect([calls('profile'), calls('phones')]).toEqual([4, 6]);
  const b = await app.service.record('W', 'b@acme.com');
  expect(b.person?.enrichedAt).toBe(clock.now().toISOString());
  expect((await app.service.record('Other', 'd@acme.com')).person?.enrichedAt).not.toBe(clock.now().toISOString());

  // Run again the same day (a restart): the day's budget is already used.
  const [again] = await runScheduledRefresh(deps(), clock.now());
  expect(again).toEqual({ workspace: 'W', refreshed: [], spentUsd: 0.04, stopped: 'budget' });
  expect(calls('phones')).toBe(6);

  // The next day: a new budget, and only a is still ageing.
  clock.advance(DAY_MS);
  const [next] = await runScheduledRefresh(deps(), clock.now());
  expect(next).toEqual({ workspace: 'W', refreshed: ['a@acme.com'], spentUsd: 0.02 });
  expect([calls('profile'), calls('phones')]).toEqual([4, 7]);
});
