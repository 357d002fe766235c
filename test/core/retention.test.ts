// Retention computed by the code, not written by hand: a real job and its real ledger row are
// kept by the sweeper until jobRetentionDays / ledgerRawRetentionDays have passed on the
// ManualClock, and removed (the job) or stripped of its raw answer (the ledger row) after.
import { ManualClock } from '../../src/clock.js';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';

const DAY = 86_400_000;
const t0 = Date.UTC(2031, 1, 2, 10, 0);
const clock = new ManualClock(t0);
let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

beforeAll(async () => {
  fake = await startFakeServer({ 'POST /kept': () => ({ json: { found: true, fields: { 'company.name': 'Kept Co' }, confidence: 0.9 } }) });
  app = await startTestApp({
    file: 'core-retention',
    clock,
    plugins: { kept: httpProvider({ id: 'kept', returns: ['company.name'], needs: [['domain']], usd: 0 }) },
    overrides: {
      plugins: { providers: ['kept'] },
      providers: { kept: { baseUrl: fake.url, freshnessDays: 1 } },
      waterfalls: { companyProfile: ['kept'] },
      sweeper: { jobRetentionDays: 7, ledgerRawRetentionDays: 30 },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

test('a finished job lives jobRetentionDays and its raw answer ledgerRawRetentionDays, by the clock', async () => {
  const r = await app.enrichAndWait({ workspace: 'w', input: 'kept.com', groups: ['companyProfile'] });
  expect(r.status).toBe('done');
  const { Job, Ledger } = app.store.models;
  const finishedAt = clock.now().getTime();
  const rawOf = async () => (await Ledger.findOne({ jobId: r.jobId, provider: 'kept' }).lean())?.raw;
  expect(await rawOf()).toBeDefined();

  clock.set(finishedAt + 7 * DAY - 1000);
  await app.sweeper!.runOnce();
  expect(await Job.countDocuments({ jobId: r.jobId })).toBe(1);

  clock.set(finishedAt + 7 * DAY + 1000);
  await app.sweeper!.runOnce();
  expect(await Job.countDocuments({ jobId: r.jobId })).toBe(0);

  clock.set(finishedAt + 30 * DAY - 1000);
  await app.sweeper!.runOnce();
  expect(await rawOf()).toBeDefined();

  clock.set(finishedAt + 30 * DAY + 1000);
  await app.sweeper!.runOnce();
  expect(await rawOf()).toBeUndefined();
  expect(await Ledger.countDocuments({ jobId: r.jobId })).toBe(1); // the spend history stays
});
