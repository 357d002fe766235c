// The estimate before bulk work, checked against what the real engine then spends. Two fake
// providers with known hit rates answer companyProfile: alpha ($0.02 a match, misses free), then
// beta ($0.01 a call, misses charged). A 1,000-row list with 30 % duplicates and 20 % of alpha's
// answers already cached is estimated, then enriched: the actual cost falls between the expected
// cost (within sampling error) and the worst case. Property (fast-check, seeded): over random hit
// patterns the worst case is never exceeded and the estimate itself makes no provider call.
import fc from 'fast-check';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ProviderCache } from '../../src/engine/provider-cache.js';
import { utcDay } from '../../src/clock.js';
import type { App } from '../../src/app.js';
import type { BatchItem } from '../../src/plugin/service.js';

const ALPHA = { usd: 0.02, hitRate: 0.6 };
const BETA = { usd: 0.01, hitRate: 0.5 };
const providers = {
  alpha: httpProvider({ id: 'alpha', returns: ['company.name'], needs: [['domain']], usd: ALPHA.usd }),
  beta: httpProvider({ id: 'beta', returns: ['company.name'], needs: [['domain']], usd: BETA.usd, missCharged: true }),
};
/** Which (provider, domain) pairs match: set per scenario. */
let hits = new Set<string>();
let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

beforeAll(async () => {
  const answer = (id: string) => (req: { json?: unknown }) => {
    const domain = (req.json as { domain: string }).domain;
    return { json: hits.has(`${id}|${domain}`) ? { found: true, fields: { 'company.name': `Co ${domain}` }, confidence: 0.9 } : { found: false } };
  };
  fake = await startFakeServer({ 'POST /alpha': answer('alpha'), 'POST /beta': answer('beta') });
  app = await startTestApp({
    file: 'service-estimate',
    plugins: providers,
    overrides: {
      queue: { concurrency: 20 },
      plugins: { providers: Object.keys(providers) },
      providers: Object.fromEntries(Object.keys(providers).map((id) => [id, { baseUrl: fake.url }])),
      waterfalls: { companyProfile: ['alpha', 'beta'] },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: 50 },
    },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

/** A seeded generator, so a scenario's hit pattern is the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** The workspace's history: each provider answered at its known rate (what the estimate learns from). */
async function seedHistory(workspace: string) {
  const day = utcDay(new Date());
  const rows = (provider: string, rate: number) =>
    Array.from({ length: 100 }, (_, i) => ({ workspace, provider, operation: 'lookup', outcome: i < rate * 100 ? 'matched' : 'no_match', costUsd: 0, day, at: new Date() }));
  await app.store.models.Ledger.insertMany([...rows('alpha', ALPHA.hitRate), ...rows('beta', BETA.hitRate)]);
}

async function seedCachedMisses(workspace: string, domains: string[]) {
  const cache = new ProviderCache(app.store.models);
  for (const d of domains) {
    const key = `company:${d}`;
    await cache.put(workspace, 'alpha', 'lookup', { identityKey: key, keys: [key], inputHash: 'seed', result: { outcome: 'no_match' }, ledgerId: 'seed', now: new Date(), freshnessDays: 30 });
  }
}

async function enrichAll(workspace: string, domains: string[]): Promise<number> {
  const jobs = await Promise.all(domains.map((d) => app.enqueue({ workspace, input: d, groups: ['companyProfile'] })));
  await Promise.all(jobs.map((j) => app.service.waitFor(j.jobId, 60_000)));
  const rows = await app.store.models.Ledger.find({ workspace, jobId: { $exists: true } }).lean();
  return rows.reduce((s, r) => s + (r.costUsd ?? 0), 0);
}

const calls = () => fake.requests.filter((r) => r.path === '/alpha' || r.path === '/beta').length;

test('a 1,000-row list: duplicates and cached answers are free, and the actual cost falls between expected and worst case', async () => {
  const workspace = 'big';
  const unique = Array.from({ length: 700 }, (_, i) => `d${i}.com`);
  const items: BatchItem[] = [...unique, ...unique.slice(0, 300)].map((input) => ({ input }));
  const cached = unique.slice(0, 140); // 20 % of the rows' alpha answers, all misses
  await seedHistory(workspace);
  await seedCachedMisses(workspace, cached);
  const random = rng(20261207);
  hits = new Set(unique.flatMap((d) => [random() < ALPHA.hitRate && !cached.includes(d) ? `alpha|${d}` : '', random() < BETA.hitRate ? `beta|${d}` : ''].filter(Boolean)));

  const before = calls();
  const est = await app.service.estimate(items, { workspace });
  expect(calls()).toBe(before);
  expect(est).toMatchObject({ rows: 1000, duplicates: 300, fresh: 0, rejected: 0, toRun: 700 });
  expect(est.groups).toEqual([expect.objectContaining({ group: 'companyProfile', rows: 700, cachedAnswers: 140 })]);
  // Worst case: alpha and beta for every row, less alpha's cached answers.
  expect(est.worstUsd).toBeCloseTo(700 * (ALPHA.usd + BETA.usd) - 140 * ALPHA.usd, 6);
  const alphaRate = (60 + 1) / (100 + 2);
  const betaRate = (50 + 1) / (100 + 2);
  const perRow = alphaRate * ALPHA.usd + (1 - alphaRate) * BETA.usd;
  expect(est.expectedUsd).toBeCloseTo(560 * perRow + 140 * BETA.usd, 4);
  expect(est.providers).toEqual([{ provider: 'alpha', hitRate: alphaRate, calls: 100 }, { provider: 'beta', hitRate: betaRate, calls: 100 }]);
  expect(est.workspaceCap).toMatchObject({ capUsd: 50, spentTodayUsd: 0 });
  expect(est.workspaceCap.worstShare).toBeCloseTo(est.worstUsd / 50, 6);
  expect(est.globalCap.capUsd).toBeNull();

  const actual = await enrichAll(workspace, unique);
  expect(actual).toBeLessThanOrEqual(est.worstUsd + 1e-9);
  // Sampling error of 700 rows at these rates is about $0.10: 5 % either side is well outside it.
  expect(actual).toBeGreaterThan(est.expectedUsd * 0.95);
  expect(actual).toBeLessThan(est.expectedUsd * 1.05);

  // Afterwards the same list is free: every record is fresh.
  const again = await app.service.estimate(items, { workspace });
  expect(again).toMatchObject({ fresh: 700, duplicates: 300, expectedUsd: 0, worstUsd: 0 });
}, 120_000);

test('over random hit patterns, what the engine spends never passes the worst case', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 5, maxLength: 25 }), async (pattern) => {
      const workspace = `prop${n++}`;
      const domains = pattern.map((_, i) => `p${i}-${workspace}.com`);
      hits = new Set(pattern.flatMap(([a, b], i) => [a ? `alpha|${domains[i]}` : '', b ? `beta|${domains[i]}` : ''].filter(Boolean)));
      const before = calls();
      const est = await app.service.estimate(domains.map((input) => ({ input })), { workspace });
      expect(calls()).toBe(before);
      const actual = await enrichAll(workspace, domains);
      expect(actual).toBeLessThanOrEqual(est.worstUsd + 1e-9);
      // The cheapest possible run: alpha matches every row.
      expect(actual).toBeGreaterThanOrEqual(domains.length * Math.min(ALPHA.usd, BETA.usd) - 1e-9);
    }),
    { seed: 42, numRuns: 8 },
  );
}, 120_000);
