// Freshness windows crossing their boundaries, driven by a ManualClock on the real App: the
// record window (no provider asked while the record is fresh), the provider-cache window (an
// answer reused until freshnessDays have passed, to the millisecond), freshnessDays: 0 (never
// reused) and errors (never cached).
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/app.js';

const DAY = 86_400_000;
const providers = {
  tenday: httpProvider({ id: 'tenday', returns: ['company.name'], needs: [['domain']], usd: 0.01 }),
  nocache: httpProvider({ id: 'nocache', returns: ['company.secCik'], needs: [['domain']], usd: 0.01 }),
  failing: httpProvider({ id: 'failing', returns: ['company.acceptsMail'], needs: [['domain']], usd: 0.01 }),
};
let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
const t0 = Date.UTC(2031, 3, 1, 8, 0);
const clock = new ManualClock(t0);

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /tenday': () => ({ json: { found: true, fields: { 'company.name': 'Acme' }, confidence: 0.9 } }),
    'POST /nocache': () => ({ json: { found: true, fields: { 'company.secCik': '0000320193' }, confidence: 0.9 } }),
    'POST /failing': () => ({ status: 500, json: { message: 'boom' } }),
  });
  app = await startTestApp({
    file: 'engine-freshness',
    clock,
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: {
        tenday: { baseUrl: fake.url, freshnessDays: 10 },
        nocache: { baseUrl: fake.url, freshnessDays: 0 },
        failing: { baseUrl: fake.url, freshnessDays: 30 },
      },
      waterfalls: { companyProfile: ['tenday'], publicCompany: ['nocache'], mailServer: ['failing'] },
      engine: { recordFreshnessDays: 3 },
      resilience: { maxRetries: 0, breakerThreshold: 100 },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

const calls = (id: string) => fake.requests.filter((r) => r.path === `/${id}`).length;
const enrich = (input: string, refresh = false) => app.enrichAndWait({ workspace: 'w', input, groups: ['companyProfile'], refresh });
const outcomeOf = (r: { outcomes: { provider: string; outcome: string }[] }, id: string) => r.outcomes.find((o) => o.provider === id)?.outcome;

test('the record window: fresh until recordFreshnessDays have passed, then providers are consulted', async () => {
  clock.set(t0);
  expect(outcomeOf(await enrich('record.com'), 'tenday')).toBe('matched');
  clock.set(t0 + 3 * DAY - 1);
  const fresh = await enrich('record.com');
  expect(fresh.fromRecord).toBe(true);
  expect(fresh.outcomes).toEqual([]);
  clock.set(t0 + 3 * DAY);
  const stale = await enrich('record.com');
  expect(stale.fromRecord).toBeFalsy();
  expect(outcomeOf(stale, 'tenday')).toBe('cached'); // the provider's own window still holds
  expect(calls('tenday')).toBe(1);
});

test('the provider-cache window: reused up to freshnessDays, asked again from that instant', async () => {
  clock.set(t0);
  await enrich('window.com');
  const before = calls('tenday');
  clock.set(t0 + 10 * DAY - 1);
  expect(outcomeOf(await enrich('window.com', true), 'tenday')).toBe('cached');
  expect(calls('tenday')).toBe(before);
  clock.set(t0 + 10 * DAY);
  expect(outcomeOf(await enrich('window.com', true), 'tenday')).toBe('matched');
  expect(calls('tenday')).toBe(before + 1);
});

test('freshnessDays: 0 never reuses an answer', async () => {
  clock.set(t0);
  const ask = () => app.enrichAndWait({ workspace: 'w', input: 'zero.com', groups: ['publicCompany'], refresh: true });
  expect(outcomeOf(await ask(), 'nocache')).toBe('matched');
  expect(outcomeOf(await ask(), 'nocache')).toBe('matched');
  expect(calls('nocache')).toBe(2);
});

test('an error is never cached: the next request asks again', async () => {
  clock.set(t0);
  const ask = () => app.enrichAndWait({ workspace: 'w', input: 'errors.com', groups: ['mailServer'], refresh: true });
  expect(outcomeOf(await ask(), 'failing')).toBe('error');
  expect(outcomeOf(await ask(), 'failing')).toBe('error');
  expect(calls('failing')).toBe(2);
  expect(await app.store.models.Cache.countDocuments({ provider: 'failing' })).toBe(0);
});
