// A job the spend cap paused half-way through a multi-provider run resumes the next day from
// the cache: what was already paid for is not paid again, only the providers that did not run
// are called. Real App, Redis and MongoDB; time from a ManualClock; the sweeper resumes the job.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ManualClock, nextUtcMidnight } from '../../src/clock.js';
import type { App } from '../../src/app.js';

const providers = {
  people: httpProvider({ id: 'people', returns: ['person.title', 'person.fullName'], needs: [['workEmail']], usd: 0.03 }),
  firms: httpProvider({ id: 'firms', returns: ['company.name'], needs: [['domain']], usd: 0.03 }),
};
let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
const clock = new ManualClock(Date.UTC(2031, 8, 9, 15, 0));

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /people': () => ({ json: { found: true, fields: { 'person.title': 'CTO', 'person.fullName': 'Jane Doe' }, confidence: 0.9 } }),
    'POST /firms': () => ({ json: { found: true, fields: { 'company.name': 'Acme' }, confidence: 0.9 } }),
  });
  app = await startTestApp({
    file: 'engine-pause-resume',
    clock,
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: Object.fromEntries(Object.keys(providers).map((id) => [id, { baseUrl: fake.url }])),
      waterfalls: { personProfile: ['people'], companyProfile: ['firms'] },
      // Room for one $0.03 call a day, not two.
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null, workspaces: { w: 0.05 } },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

const calls = (id: string) => fake.requests.filter((r) => r.path === `/${id}`).length;

test('the provider paid before the pause answers from the cache after it; only the other one is called', async () => {
  const first = await app.enrichAndWait({ workspace: 'w', input: 'jane@acme.com', groups: ['personProfile', 'companyProfile'] });
  expect(first.status).toBe('paused');
  const paid = calls('people') + calls('firms');
  expect(paid).toBe(1); // one provider ran and was paid, the other met the cap
  const ranFirst = calls('people') === 1 ? 'people' : 'firms';
  const waited = ranFirst === 'people' ? 'firms' : 'people';
  expect(first.outcomes.find((o) => o.provider === waited)).toMatchObject({ outcome: 'cap_reached' });

  clock.set(nextUtcMidnight(clock.now()).getTime() + 60_000);
  expect((await app.sweeper!.runOnce()).resumed).toBe(1);
  const done = await app.service.waitFor(first.jobId, 20_000);

  expect(done.status).toBe('done');
  expect(calls(ranFirst)).toBe(1); // not paid twice
  expect(calls(waited)).toBe(1);
  expect(done.outcomes.find((o) => o.provider === ranFirst)).toMatchObject({ outcome: 'cached', costUsd: 0 });
  expect(done.outcomes.find((o) => o.provider === waited)).toMatchObject({ outcome: 'matched', costUsd: 0.03 });
  expect(done.person?.fields.title?.value).toBe('CTO');
  expect(done.company?.fields.name?.value).toBe('Acme');
  const charged = await app.store.models.Ledger.find({ charged: true }).lean();
  expect(charged.map((r) => r.provider).sort()).toEqual(['firms', 'people']); // each paid exactly once
}, 60_000);
