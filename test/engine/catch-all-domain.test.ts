// Catch-all domains are learnt once (issue 20 item 3): the first report (a verifier's
// is_domain_catch_all, or a finder's catch_all status) is filed on the company with its
// provenance, and work-email verification at that domain is then skipped at no cost until the
// fact ages out. The real LeadMagic plugin against a fake speaking its documented wire format.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ManualClock } from '../../src/clock.js';
import { recordId } from '../../src/store/models.js';
import { renderCard } from '../../src/cli/card.js';
import leadmagic from '../../plugins/providers/leadmagic/index.js';
import type { App } from '../../src/app.js';
import type { JobResult } from '../../src/engine/types.js';

const DAY = 86_400_000;
const CATCH_ALL = ['catchall.com', 'aged.com', 'finder.com'];
let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
let second: App;
const ran = { first: 0, second: 0 };
const clock = new ManualClock(Date.UTC(2031, 5, 1, 9));

beforeAll(async () => {
  fake = await startFakeServer({
    // Response shape from LeadMagic's email-validation reference (email_status, message, is_domain_catch_all).
    'POST /v1/people/email-validation': (req) => {
      const email = (req.json as { email: string }).email;
      const catchAll = CATCH_ALL.includes(email.split('@')[1]);
      return {
        json: catchAll
          ? { email, email_status: 'catch_all', credits_consumed: 0.25, message: 'Domain accepts all emails (catch-all).', is_domain_catch_all: true }
          : { email, email_status: 'valid', credits_consumed: 0.25, message: 'Email is valid.', is_domain_catch_all: false },
      };
    },
    'POST /v1/people/email-finder': (req) => {
      const b = req.json as { first_name: string; domain: string };
      return { json: { email: `${b.first_name.toLowerCase()}@${b.domain}`, status: 'catch_all', credits_consumed: 1, message: 'Email found.' } };
    },
  });
  const options = {
    file: 'engine-catch-all',
    clock,
    plugins: { leadmagic },
    env: { LEADMAGIC_API_KEY: 'test-key' },
    overrides: {
      plugins: { providers: ['leadmagic'] },
      providers: { leadmagic: { baseUrl: fake.url } },
      waterfalls: { workEmail: ['leadmagic'], emailVerification: ['leadmagic'] },
      engine: { catchAllFreshnessDays: 30 },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  };
  app = await startTestApp(options);
  // A second worker on the same queue, database and Redis: jobs at one domain land on both.
  second = await startTestApp({ ...options, names: app.names });
  for (const [who, a] of [['first', app], ['second', second]] as const) a.queue.bee.on('succeeded', () => ran[who]++);
});
afterAll(async () => {
  await second?.stop();
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

const validations = (domain: string) => fake.requests.filter((r) => r.path === '/v1/people/email-validation' && (r.json as { email: string }).email.endsWith(`@${domain}`)).length;
const verification = (r: JobResult) => r.outcomes.find((o) => o.group === 'emailVerification');
const company = async (domain: string) => (await app.store.models.Company.findOne({ _id: recordId('w', `company:${domain}`) }).lean())?.fields as unknown as Map<string, { value: unknown; provider: string; operation?: string; ledgerId?: string; fetchedAt: Date }> | Record<string, never>;
const fact = async (domain: string) => {
  const f = await company(domain);
  return f instanceof Map ? f.get('emailCatchAll') : (f as Record<string, { value: unknown; provider: string; operation?: string; ledgerId?: string; fetchedAt: Date }> | undefined)?.emailCatchAll;
};

test('a catch-all domain is verified once: of 50 addresses, one paid verification and 49 skipped at no cost', async () => {
  // All 50 at once (as a CSV batch would), on two workers: the first verification at the domain
  // goes alone, the others wait for its lease and read what it learnt.
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => app.enrichAndWait({ workspace: 'w', input: `p${i}@catchall.com` })));

  expect(ran.first > 0 && ran.second > 0).toBe(true); // both workers took some of them
  const paid = results.filter((r) => verification(r)?.outcome === 'matched');
  expect(paid).toHaveLength(1);
  expect(verification(paid[0])).toMatchObject({ provider: 'leadmagic', costUsd: 0.006 });
  const skipped = results.filter((r) => r !== paid[0]);
  expect(skipped.map(verification).filter((o) => o?.outcome === 'skipped' && o.reason === 'catch-all domain' && o.costUsd === 0)).toHaveLength(49);
  expect(skipped.every((r) => r.costUsd === 0)).toBe(true);
  expect(validations('catchall.com')).toBe(1);
  const rows = await app.store.models.Ledger.find({ workspace: 'w', provider: 'leadmagic', operation: 'email-validation' }).lean();
  expect(rows.filter((r) => r.charged)).toHaveLength(1);

  // Filed on the company with its provenance: who said it, by which call, when.
  expect(await fact('catchall.com')).toMatchObject({ value: true, provider: 'leadmagic', operation: 'email-validation', ledgerId: rows.find((r) => r.charged)!._id });
  // Cards read "catch-all: deliverability unknown", never "valid".
  // Every card, also of the jobs that waited while the fact was being learnt.
  for (const r of results) {
    const card = renderCard(r);
    expect(card).toContain('catch-all: deliverability unknown');
    expect(card).not.toMatch(/workEmailStatus\s+valid/);
  }
}, 60_000);

test('a domain that is not catch-all is verified address by address', async () => {
  const a = await app.enrichAndWait({ workspace: 'w', input: 'ann@open.com' });
  const b = await app.enrichAndWait({ workspace: 'w', input: 'ben@open.com' });
  expect([verification(a)?.outcome, verification(b)?.outcome]).toEqual(['matched', 'matched']);
  expect(validations('open.com')).toBe(2);
  expect(await fact('open.com')).toMatchObject({ value: false, provider: 'leadmagic' });
  expect(renderCard(b)).toMatch(/workEmailStatus\s+valid/);
});

test('the catch-all fact ages out: after catchAllFreshnessDays the next address is verified again and the fact renewed', async () => {
  const t0 = clock.now().getTime();
  await app.enrichAndWait({ workspace: 'w', input: 'a@aged.com' });
  expect(verification(await app.enrichAndWait({ workspace: 'w', input: 'b@aged.com' }))?.outcome).toBe('skipped');
  clock.set(t0 + 30 * DAY - 1);
  expect(verification(await app.enrichAndWait({ workspace: 'w', input: 'c@aged.com' }))?.outcome).toBe('skipped');
  expect(validations('aged.com')).toBe(1);

  clock.set(t0 + 30 * DAY);
  expect(verification(await app.enrichAndWait({ workspace: 'w', input: 'd@aged.com' }))?.outcome).toBe('matched');
  expect(validations('aged.com')).toBe(2);
  expect(new Date((await fact('aged.com'))!.fetchedAt).getTime()).toBe(t0 + 30 * DAY);
  expect(verification(await app.enrichAndWait({ workspace: 'w', input: 'e@aged.com' }))?.outcome).toBe('skipped');
  expect(validations('aged.com')).toBe(2);
});

test('a finder that reports an address as catch-all teaches the domain too: the next address there is not verified', async () => {
  const found = await app.enrichAndWait({ workspace: 'w', input: { firstName: 'Jane', lastName: 'Doe', domain: 'finder.com' } });
  expect(found.person?.fields.workEmail?.value).toBe('jane@finder.com');
  expect(await fact('finder.com')).toMatchObject({ value: true, provider: 'leadmagic', operation: 'email-finder+catch-all' });

  const next = await app.enrichAndWait({ workspace: 'w', input: 'bob@finder.com' });
  expect(verification(next)).toMatchObject({ outcome: 'skipped', reason: 'catch-all domain', costUsd: 0 });
  expect(validations('finder.com')).toBe(0);
  expect(renderCard(next)).toContain('catch-all: deliverability unknown');
});
