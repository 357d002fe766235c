// Pay once per person, not once per input shape: a provider's answer is cached by the identity
// it is about, so a refresh whose input has grown (a LinkedIn URL or an email another provider
// found) is served from the cache. Providers answer from a local fake server that counts calls.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';
import type { JobResult } from '../../src/engine/types.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

const providers = {
  // Like ContactOut: a personal email from a work email or a LinkedIn URL.
  contact: httpProvider({ id: 'contact', returns: ['person.personalEmail'], needs: [['linkedinUrl'], ['workEmail']], usd: 0.3, missCharged: true }),
  // Needs a LinkedIn URL: it cannot run until someone has found one.
  lionly: httpProvider({ id: 'lionly', returns: ['person.phone'], needs: [['linkedinUrl']], usd: 0.1 }),
  profile: httpProvider({ id: 'profile', returns: ['person.title', 'person.linkedinUrl'], needs: [['workEmail'], ['linkedinUrl']], usd: 0.05, missCharged: true }),
  // Like Apollo's people match: finds a person by name at a company, or by email.
  apollo: httpProvider({ id: 'apollo', returns: ['person.title', 'person.workEmail'], needs: [['firstName', 'lastName', 'domain'], ['workEmail']], usd: 0.02 }),
  co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: 0.01 }),
};

let fake: FakeServer;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeServer();
  app = await startTestApp({
    file: 'engine-identity-cache',
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: Object.fromEntries(Object.keys(providers).map((id) => [id, { baseUrl: fake.url }])),
      // Group order matters: the personal-email and phone finders run before the profile that
      // finds the LinkedIn URL, so their input grows between the first run and the refresh.
      waterfalls: { personalEmail: ['contact'], phone: ['lionly'], personProfile: ['profile', 'apollo'], companyProfile: ['co'] },
      queue: { concurrency: 20 },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});

const calls = (id: string) => fake.requests.filter((r) => r.path === `/${id}`).length;
const byProvider = (r: JobResult) => Object.fromEntries(r.outcomes.map((o) => [o.provider, o.outcome]));
const slugOf = (email: string) => email.split('@')[0].replace(/[^a-z0-9]/g, '');

beforeEach(() => {
  fake.requests.length = 0;
  fake.on('POST /contact', () => ({ json: { found: true, fields: { 'person.personalEmail': 'jane.home@gmail.com' }, confidence: 0.9 } }));
  fake.on('POST /lionly', () => ({ json: { found: true, fields: { 'person.phone': '+14155550100' }, confidence: 0.9 } }));
  fake.on('POST /profile', (req) => {
    const email = (req.json as { workEmail?: string }).workEmail;
    return email ? { json: { found: true, fields: { 'person.title': 'CTO', 'person.linkedinUrl': `https://www.linkedin.com/in/${slugOf(email)}` }, confidence: 0.9 } } : { json: { found: false } };
  });
  fake.on('POST /apollo', (req) => ({ json: { found: true, fields: { 'person.title': 'VP Sales', 'person.workEmail': (req.json as { workEmail?: string }).workEmail ?? 'li.wei@acme.com' }, confidence: 0.9 } }));
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Acme' }, confidence: 0.9 } }));
});

test('a refresh right after enriching an email pays nobody again, though the LinkedIn URL found meanwhile grew the input', async () => {
  const first = await app.enrichAndWait({ workspace: 'w1', input: 'jane@acme.com' });
  expect(byProvider(first)).toMatchObject({ contact: 'matched', lionly: 'skipped', profile: 'matched', co: 'matched' });
  expect([calls('contact'), calls('profile'), calls('co')]).toEqual([1, 1, 1]);

  const again = await app.enrichAndWait({ workspace: 'w1', input: 'jane@acme.com', refresh: true });
  // The personal-email finder now gets {workEmail, linkedinUrl}: the same person, so the same answer.
  expect(byProvider(again)).toMatchObject({ contact: 'cached', profile: 'cached', co: 'cached' });
  expect([calls('contact'), calls('profile'), calls('co')]).toEqual([1, 1, 1]);
  // The phone finder lacked a LinkedIn URL the first time: running it now is new information.
  expect(byProvider(again).lionly).toBe('matched');
  expect(calls('lionly')).toBe(1);
  expect(again.costUsd).toBeCloseTo(0.1, 6);
  expect(again.person?.fields.personalEmail.value).toBe('jane.home@gmail.com');
});

test('a refresh of "Li Wei @ acme.com" does not bill the name-matching provider again once it found the email', async () => {
  fake.on('POST /profile', () => ({ json: { found: false } }));
  const first = await app.enrichAndWait({ workspace: 'w2', input: 'Li Wei @ acme.com' });
  expect(byProvider(first)).toMatchObject({ apollo: 'matched', profile: 'skipped', contact: 'skipped' });
  const again = await app.enrichAndWait({ workspace: 'w2', input: 'Li Wei @ acme.com', refresh: true });
  // Apollo's input now carries the work email it found itself: still Li Wei, still answered.
  expect(byProvider(again).apollo).toBe('cached');
  expect(calls('apollo')).toBe(1);
  // The email lets the email-based providers run for the first time.
  expect(byProvider(again)).toMatchObject({ profile: 'no_match', contact: 'matched' });
});

test('an identifier an answer confirmed finds that answer: asking by the email found for "Li Wei @ acme.com" pays nobody', async () => {
  fake.on('POST /profile', () => ({ json: { found: false } }));
  await app.enrichAndWait({ workspace: 'w3', input: 'Li Wei @ acme.com' });
  await app.enrichAndWait({ workspace: 'w3', input: 'Li Wei @ acme.com', refresh: true });
  const before = { apollo: calls('apollo'), contact: calls('contact'), profile: calls('profile') };
  const byEmail = await app.enrichAndWait({ workspace: 'w3', input: 'li.wei@acme.com' });
  expect(byProvider(byEmail)).toMatchObject({ contact: 'cached', profile: 'cached' });
  expect({ apollo: calls('apollo'), contact: calls('contact'), profile: calls('profile') }).toEqual(before);
  // Cached rows name every identity they are about, for `forget`.
  const rows = await app.store.models.Cache.find({ workspace: 'w3', provider: 'apollo' }).lean();
  expect(rows.every((r) => r.identityKey === 'person:name:li wei@acme.com' && r.identityKeys.includes('person:email:li.wei@acme.com'))).toBe(true);
  // Another workspace's cache is its own.
  const other = await app.enrichAndWait({ workspace: 'w3b', input: 'li.wei@acme.com', groups: ['personalEmail'] });
  expect(byProvider(other).contact).toBe('matched');
});

describe('1,000 people enriched, then refreshed', () => {
  // Its own app with the three person providers only, driving the engine directly (the queue
  // around it is tested elsewhere): 2,000 runs through the real cache, ledger and database.
  let bulk: TestApp;
  const N = 1000;
  const index = (body: unknown) => Number(/^u(\d+)@/.exec((body as { workEmail?: string }).workEmail ?? '')?.[1] ?? -1);

  beforeAll(async () => {
    const ids = ['contact', 'lionly', 'profile'] as const;
    bulk = await startTestApp({
      file: 'engine-identity-cache-bulk',
      role: 'client',
      plugins: Object.fromEntries(ids.map((id) => [id, providers[id]])),
      overrides: {
        plugins: { providers: [...ids] },
        providers: Object.fromEntries(ids.map((id) => [id, { baseUrl: fake.url }])),
        waterfalls: { personalEmail: ['contact'], phone: ['lionly'], personProfile: ['profile'] },
        spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
      },
    });
  });
  afterAll(async () => {
    await bulk?.stop();
    if (bulk) await dropTestData(bulk.names);
  });

  test('re-running 1,000 enriched inputs with refresh makes no paid call to a provider that already answered them, match or miss', async () => {
    // Half the people have a profile (with a LinkedIn URL); the personal-email finder misses
    // (a charged miss) for three in four.
    fake.on('POST /profile', (req) => {
      const i = index(req.json);
      return i % 2 === 0 ? { json: { found: true, fields: { 'person.title': 'Eng', 'person.linkedinUrl': `https://www.linkedin.com/in/u${i}` }, confidence: 0.9 } } : { json: { found: false } };
    });
    fake.on('POST /contact', (req) => {
      const i = index(req.json);
      return i % 4 === 0 ? { json: { found: true, fields: { 'person.personalEmail': `u${i}@gmail.com` }, confidence: 0.9 } } : { json: { found: false } };
    });
    const runAll = async (refresh: boolean, run: number): Promise<JobResult[]> => {
      const results: JobResult[] = new Array(N);
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < N; i = next++) {
          const request = { workspace: 'bulk', input: `u${i}@bulk${i % 50}.com`, refresh };
          results[i] = await bulk.engine.run(request, { jobId: `bulk-${i}`, run, attempt: 1 });
        }
      };
      await Promise.all(Array.from({ length: 25 }, lane));
      return results;
    };
    const first = await runAll(false, 1);
    expect(first.every((r) => r.status === 'done')).toBe(true);
    expect([calls('contact'), calls('profile'), calls('lionly')]).toEqual([N, N, 0]);

    fake.requests.length = 0;
    const again = await runAll(true, 2);
    expect(again.every((r) => r.status === 'done')).toBe(true);
    // Zero calls to the providers that answered (or missed) about these people...
    expect([calls('contact'), calls('profile')]).toEqual([0, 0]);
    // ...and one to the provider that could not run before: it has the LinkedIn URL now.
    expect(calls('lionly')).toBe(N / 2);
    const paid = again.flatMap((r) => r.outcomes.filter((o) => o.costUsd > 0).map((o) => o.provider));
    expect(new Set(paid)).toEqual(new Set(['lionly']));
  }, 900_000);
});
