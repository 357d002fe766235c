// A field group whose providers failed (time-out, circuit open, error) stays due on a fresh
// record: the next request asks those providers again and nobody else, so the answers already
// paid for are not paid twice. A real miss ("not found") is an answer and is not asked again.
// Time is moved on the app's clock (record freshness, breaker cool-down), never slept.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/app.js';

const HOUR = 3_600_000;
const person = (id: string, returns: Parameters<typeof httpProvider>[0]['returns'], extra: { usd?: number; missCharged?: boolean } = {}) =>
  httpProvider({ id, returns, needs: [['workEmail']], ...extra });
const providers = {
  profiler: person('profiler', ['person.title', 'person.fullName'], { usd: 0.02 }),
  phoner: person('phoner', ['person.phone'], { usd: 0.03 }),
  mailer: person('mailer', ['person.personalEmail'], { usd: 0.01, missCharged: true }),
};
let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
const clock = new ManualClock(Date.UTC(2031, 4, 1, 8));

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /profiler': (req) => ({ json: { found: true, fields: { 'person.title': 'CTO', 'person.fullName': `Person ${(req.json as { workEmail: string }).workEmail}` }, confidence: 0.9 } }),
    'POST /mailer': () => ({ json: { found: false } }),
  });
  app = await startTestApp({
    file: 'engine-failed-groups-due',
    clock,
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: { profiler: { baseUrl: fake.url }, phoner: { baseUrl: fake.url, timeoutMs: 150 }, mailer: { baseUrl: fake.url } },
      waterfalls: { personProfile: ['profiler'], personalEmail: ['mailer'], phone: ['phoner'] },
      engine: { recordFreshnessDays: 30 },
      // Two failures open a circuit: a call's own retries can open it (the outage).
      resilience: { maxRetries: 2, backoffBaseMs: 5, breakerThreshold: 2, breakerCooldownMs: 1000 },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

const calls = (id: string, email: string) => fake.requests.filter((r) => r.path === `/${id}` && (r.json as { workEmail?: string })?.workEmail === email).length;
const enrich = (input: string) => app.enrichAndWait({ workspace: 'w', input });
const outcomeOf = (r: { outcomes: { provider: string; outcome: string }[] }, id: string) => r.outcomes.find((o) => o.provider === id)?.outcome;
const paidRows = (provider: string, jobIds: string[]) => app.store.models.Ledger.countDocuments({ provider, jobId: { $in: jobIds }, charged: true });
const phoneAnswer = (phone: string) => () => ({ json: { found: true, fields: { 'person.phone': phone }, confidence: 0.9 } });

test('a provider that timed out is named a time-out, and the next request asks it again and fills the fields without paying the others twice', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  fake.on('POST /phoner', async () => {
    await held;
    return phoneAnswer('+14155550100')();
  });
  const first = await enrich('jane@acme.com');
  release();

  expect(first.status).toBe('done');
  expect(outcomeOf(first, 'profiler')).toBe('matched');
  expect(outcomeOf(first, 'mailer')).toBe('no_match');
  expect(first.outcomes.find((o) => o.provider === 'phoner')).toMatchObject({ outcome: 'timeout', costUsd: 0, reason: expect.stringContaining('150 ms time limit') });
  expect(first.person?.fields.phone).toBeUndefined();
  const row = await app.store.models.Ledger.findOne({ jobId: first.jobId, provider: 'phoner' }).lean();
  expect(row).toMatchObject({ outcome: 'timeout', errorKind: 'timeout', charged: false, costUsd: 0 });
  // The digest counts it as a call that failed, by kind.
  const report = await app.service.dailyReport(clock.now().toISOString().slice(0, 10));
  expect(report.providers.find((p) => p.provider === 'phoner')).toMatchObject({ calls: 1, hits: 0 });
  expect(report.errors).toContainEqual(expect.objectContaining({ provider: 'phoner', kind: 'timeout', count: 1 }));

  fake.on('POST /phoner', phoneAnswer('+14155550100'));
  clock.advance(HOUR); // well inside recordFreshnessDays, past the breaker's cool-down
  const second = await enrich('jane@acme.com');

  expect(second.fromRecord).toBeFalsy();
  expect(outcomeOf(second, 'phoner')).toBe('matched');
  expect(second.person?.fields.phone).toMatchObject({ value: '+14155550100', provider: 'phoner' });
  expect(second.person?.fields.title).toMatchObject({ value: 'CTO', provider: 'profiler' });
  // Only the due group ran: the profile and the (charged) miss are neither asked nor paid again.
  expect(outcomeOf(second, 'profiler')).toBeUndefined();
  expect(outcomeOf(second, 'mailer')).toBeUndefined();
  expect(calls('profiler', 'jane@acme.com')).toBe(1);
  expect(calls('mailer', 'jane@acme.com')).toBe(1);
  expect(await paidRows('profiler', [first.jobId, second.jobId])).toBe(1);
  expect(await paidRows('mailer', [first.jobId, second.jobId])).toBe(1);
  expect(await paidRows('phoner', [first.jobId, second.jobId])).toBe(1);

  const third = await enrich('jane@acme.com');
  expect(third.fromRecord).toBe(true);
  expect(third.outcomes).toEqual([]);
}, 30_000);

test('a group whose provider was refused by an open circuit stays due: the next request asks that provider again', async () => {
  fake.on('POST /phoner', () => ({ status: 500, json: { message: 'down' } }));
  const opener = await enrich('carol@gamma.com'); // its failures open phoner's circuit
  expect(outcomeOf(opener, 'phoner')).toBe('error');
  const before = fake.requests.filter((r) => r.path === '/phoner').length;

  const refused = await enrich('bob@beta.com');
  expect(refused.status).toBe('done');
  expect(outcomeOf(refused, 'phoner')).toBe('circuit_open');
  expect(fake.requests.filter((r) => r.path === '/phoner').length).toBe(before);

  fake.on('POST /phoner', phoneAnswer('+14155550111'));
  clock.advance(HOUR);
  const again = await enrich('bob@beta.com');
  expect(again.fromRecord).toBeFalsy();
  expect(outcomeOf(again, 'phoner')).toBe('matched');
  expect(again.person?.fields.phone?.value).toBe('+14155550111');
  expect(calls('profiler', 'bob@beta.com')).toBe(1);
  expect(await paidRows('profiler', [refused.jobId, again.jobId])).toBe(1);
}, 30_000);

test('a real miss is an answer: a group whose providers said not found is not asked again while the record is fresh', async () => {
  clock.advance(HOUR); // any circuit an earlier test opened has cooled down
  fake.on('POST /phoner', () => ({ json: { found: false } }));
  const first = await enrich('dan@delta.com');
  expect(outcomeOf(first, 'phoner')).toBe('no_match');
  expect(outcomeOf(first, 'mailer')).toBe('no_match');

  clock.advance(HOUR);
  const second = await enrich('dan@delta.com');
  expect(second.fromRecord).toBe(true);
  expect(calls('phoner', 'dan@delta.com')).toBe(1);
  expect(calls('mailer', 'dan@delta.com')).toBe(1);
});
