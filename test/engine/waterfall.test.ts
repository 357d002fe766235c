// The engine end to end on real Redis and MongoDB, with providers answering from a local
// fake HTTP server.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';
import { z } from 'zod';
import { defineProvider } from '../../src/plugin/contract.js';
import { ProviderError } from '../../src/engine/provider-error.js';
import { recordId } from '../../src/store/models.js';
import { runWaterfall } from '../../src/engine/waterfall.js';
import type { CallServices } from '../../src/engine/provider-call.js';

// Like an LLM whose reply does not fit its schema: the call fails, but it was billed.
const billedFailure = defineProvider({
  kind: 'provider',
  id: 'billedfail',
  description: 'answers with an unusable body that still costs money',
  configSchema: z.object({}).loose(),
  requiresApiKey: false,
  defaults: { costs: { lookup: { usd: 0.002, missCharged: true } } },
  operations: [
    {
      name: 'lookup',
      needs: [['workEmail']],
      returns: ['person.phone'],
      async lookup(input, ctx) {
        const res = await ctx.http.request({ method: 'POST', path: '/billedfail', json: input, schema: z.object({ tokens: z.number() }) });
        const tokens = res.kind === 'ok' ? res.body.tokens : 0;
        throw new ProviderError('invalid_response', 'billedfail: the answer does not fit its schema', { raw: res.raw, costUsd: tokens / 1000, usage: { tokens } });
      },
    },
  ],
});

let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

const providers = {
  first: httpProvider({ id: 'first', returns: ['person.workEmail', 'person.workEmailStatus'], needs: [['linkedinUrl'], ['firstName', 'lastName', 'domain']], usd: 0.01 }),
  second: httpProvider({ id: 'second', returns: ['person.workEmail'], needs: [['linkedinUrl'], ['firstName', 'lastName', 'domain']], usd: 0.02, missCharged: true }),
  third: httpProvider({ id: 'third', returns: ['person.workEmail'], needs: [['linkedinUrl']], usd: 0.05 }),
  profile: httpProvider({ id: 'profile', returns: ['person.title', 'person.fullName', 'person.linkedinUrl', 'person.companyDomain'], needs: [['workEmail'], ['linkedinUrl'], ['firstName', 'lastName', 'domain']], usd: 0.03 }),
  co: httpProvider({ id: 'co', returns: ['company.name', 'company.industry', 'company.employeeCount'], needs: [['domain']], usd: 0.004 }),
  billedfail: billedFailure,
};

beforeAll(async () => {
  fake = await startFakeServer();
  app = await startTestApp({
    file: 'engine-waterfall',
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: Object.fromEntries(Object.keys(providers).map((id) => [id, { baseUrl: fake.url }])),
      waterfalls: { personProfile: ['profile'], companyProfile: ['co'], workEmail: ['first', 'second', 'third'], phone: ['billedfail'] },
      engine: { mergePolicy: { 'company.industry': 'overwrite', 'company.employeeCount': 'never' } },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.on('POST /profile', () => ({ json: { found: false } }));
  fake.on('POST /co', () => ({ json: { found: false } }));
});

const byProvider = (r: { outcomes: { provider: string; outcome: string }[] }) => Object.fromEntries(r.outcomes.map((o) => [o.provider, o.outcome]));
const calls = (id: string) => fake.requests.filter((r) => r.path === `/${id}`).length;

test('the first confident match stops the waterfall; later providers are not_run and cost nothing', async () => {
  fake.on('POST /first', () => ({ json: { found: true, fields: { 'person.workEmail': 'jane@acme.com', 'person.workEmailStatus': 'valid' }, confidence: 0.95 } }));
  const r = await app.enrichAndWait({ workspace: 'w1', input: 'Jane Doe @ acme.com' });
  expect(r.status).toBe('done');
  expect(byProvider(r)).toMatchObject({ first: 'matched', second: 'not_run', third: 'not_run' });
  expect(calls('second') + calls('third')).toBe(0);
  expect(r.person?.fields.workEmail).toMatchObject({ value: 'jane@acme.com', provider: 'first', confidence: 0.95 });
  expect(r.person?.fields.workEmail.ledgerId).toEqual(expect.any(String));
  expect(r.costUsd).toBeCloseTo(0.01, 6);
  expect(fake.requests.find((q) => q.path === '/first')?.json).toEqual({ firstName: 'Jane', lastName: 'Doe', domain: 'acme.com' });
});

test('a provider without its input is skipped at no cost; 404 is no_match; misses cost only where charged', async () => {
  fake.on('POST /first', () => ({ status: 404, json: { message: 'not found' } }));
  fake.on('POST /second', () => ({ json: { found: false } }));
  const r = await app.enrichAndWait({ workspace: 'w1', input: 'John Roe @ acme.com' });
  expect(byProvider(r)).toMatchObject({ first: 'no_match', second: 'no_match', third: 'skipped' });
  expect(r.outcomes.find((o) => o.provider === 'third')?.reason).toBe('needs linkedinUrl');
  expect(calls('third')).toBe(0);
  expect(r.costUsd).toBeCloseTo(0.02, 6); // second charges misses; first does not
  expect(r.status).toBe('done');
  const ledger = await app.store.models.Ledger.find({ jobId: r.jobId }).lean();
  expect(ledger.map((l) => [l.provider, l.outcome, l.costUsd])).toEqual(expect.arrayContaining([['first', 'no_match', 0], ['second', 'no_match', 0.02]]));
  expect(ledger.find((l) => l.provider === 'first')?.httpStatus).toBe(404);
});

test('a request is an error only when every provider that ran errored', async () => {
  fake.on('POST /first', () => ({ status: 400, json: { message: 'bad request' } }));
  fake.on('POST /second', () => ({ status: 403, json: { message: 'forbidden' } }));
  const failed = await app.enrichAndWait({ workspace: 'w2', input: 'Ann Bee @ acme.com', groups: ['workEmail'] });
  expect(byProvider(failed)).toMatchObject({ first: 'error', second: 'error', third: 'skipped' });
  expect(failed.status).toBe('failed');
  expect(failed.outcomes.find((o) => o.provider === 'second')?.reason).toContain('SECOND_API_KEY');
  expect(calls('first')).toBe(1); // 4xx is permanent: no retry

  fake.on('POST /second', () => ({ json: { found: false } }));
  const partly = await app.enrichAndWait({ workspace: 'w2', input: 'Cat Dee @ acme.com', groups: ['workEmail'] });
  expect(partly.status).toBe('done');
});

test('merge: existing data wins by default; overwrite and never per field; partial results kept', async () => {
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Acme One', 'company.industry': 'Computer Software', 'company.employeeCount': 50 }, confidence: 0.9 } }));
  const first = await app.enrichAndWait({ workspace: 'w3', input: 'acme.com', groups: ['companyProfile'] });
  expect(first.company?.fields).toMatchObject({ name: { value: 'Acme One' }, industry: { value: 'COMPUTER_SOFTWARE', raw: 'Computer Software' } });
  expect(first.company?.fields.employeeCount).toBeUndefined(); // never

  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Acme Two', 'company.industry': 'Banking', 'company.employeeCount': 'lots' }, confidence: 0.9 } }));
  await app.store.models.Cache.deleteMany({});
  const again = await app.enrichAndWait({ workspace: 'w3', input: 'acme.com', groups: ['companyProfile'], refresh: true });
  expect(again.company?.fields.name.value).toBe('Acme One'); // fill: existing wins
  expect(again.company?.fields.industry).toMatchObject({ value: 'BANKING', provider: 'co' }); // overwrite
  const stored = await app.store.models.Company.findOne({ workspace: 'w3', key: 'company:acme.com' }).lean();
  const fields = stored!.fields as unknown as Record<string, { value: unknown; provider: string }>;
  expect(fields.name.value).toBe('Acme One');
  expect(fields.industry.value).toBe('BANKING');
});

test('a repeat call on the same input within the freshness window is served from cache at zero cost', async () => {
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Cachely' }, confidence: 0.9 } }));
  const a = await app.enrichAndWait({ workspace: 'w4', input: 'cachely.com', groups: ['companyProfile'] });
  expect(byProvider(a).co).toBe('matched');
  const b = await app.enrichAndWait({ workspace: 'w4', input: 'cachely.com', groups: ['companyProfile'], refresh: true });
  expect(byProvider(b).co).toBe('cached');
  expect(b.costUsd).toBe(0);
  expect(calls('co')).toBe(1);
  // Another workspace never sees this workspace's answers.
  const c = await app.enrichAndWait({ workspace: 'w5', input: 'cachely.com', groups: ['companyProfile'] });
  expect(byProvider(c).co).toBe('matched');
  expect(calls('co')).toBe(2);
});

test('a re-run of 100 already-enriched inputs makes zero paid calls', async () => {
  fake.on('POST /co', (req) => ({ json: { found: true, fields: { 'company.name': `Co ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } }));
  const inputs = Array.from({ length: 100 }, (_, i) => `bulk${i}.com`);
  const runAll = async () => {
    const jobs = await Promise.all(inputs.map((input) => app.enqueue({ workspace: 'w6', input, groups: ['companyProfile'] })));
    const results = [];
    for (const { jobId } of jobs) results.push(await app.service.waitFor(jobId, 150_000));
    return results;
  };
  const first = await runAll();
  expect(first.every((r) => r.status === 'done')).toBe(true);
  const paidBefore = calls('co');
  expect(paidBefore).toBe(100);
  const ledgerBefore = await app.store.models.Ledger.countDocuments({ workspace: 'w6', costUsd: { $gt: 0 } });
  const again = await runAll();
  expect(calls('co')).toBe(paidBefore);
  expect(again.every((r) => r.fromRecord && r.costUsd === 0)).toBe(true);
  expect(await app.store.models.Ledger.countDocuments({ workspace: 'w6', costUsd: { $gt: 0 } })).toBe(ledgerBefore);
}, 180_000);

test('answers feed later groups: a profile found by name lets a LinkedIn-only provider run', async () => {
  fake.on('POST /profile', () => ({ json: { found: true, fields: { 'person.title': 'CTO', 'person.linkedinUrl': 'https://www.linkedin.com/in/zed' }, confidence: 0.9 } }));
  fake.on('POST /first', () => ({ json: { found: false } }));
  fake.on('POST /second', () => ({ json: { found: false } }));
  fake.on('POST /third', () => ({ json: { found: true, fields: { 'person.workEmail': 'zed@acme.com' }, confidence: 0.9 } }));
  const r = await app.enrichAndWait({ workspace: 'w7', input: 'Zed Zee @ acme.com' });
  expect(byProvider(r)).toMatchObject({ profile: 'matched', first: 'no_match', second: 'no_match', third: 'matched' });
  expect(fake.requests.find((q) => q.path === '/third')?.json).toEqual({ linkedinUrl: 'https://www.linkedin.com/in/zed' });
  expect(r.person?.fields.workEmail).toMatchObject({ value: 'zed@acme.com', provider: 'third' });
  expect(r.person?.fields.title.value).toBe('CTO');
});

test("a person's answers that name their company file its facts under that company's own record; the record keeps only where to post", async () => {
  fake.on('POST /profile', () => ({ json: { found: true, fields: { 'person.title': 'CFO', 'person.fullName': 'Rae Roe', 'person.companyDomain': 'revealed.io' }, confidence: 0.9 } }));
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Revealed' }, confidence: 0.9 } }));
  const replyTo = { trigger: 'cli', address: { channel: 'C1', responseUrl: 'https://hooks.example/1', botToken: 'xoxb-1' } };
  const r = await app.enrichAndWait({ workspace: 'w7c', input: 'https://www.linkedin.com/in/rae-roe', groups: ['personProfile', 'companyProfile'], replyTo });
  expect(byProvider(r)).toMatchObject({ profile: 'matched', co: 'matched' });
  expect(fake.requests.find((q) => q.path === '/co')?.json).toEqual({ domain: 'revealed.io' });
  expect(r.company).toMatchObject({ key: 'company:revealed.io', fields: { name: { value: 'Revealed', provider: 'co' } } });
  const person = await app.store.models.Person.findOne({ workspace: 'w7c' }).lean();
  expect(person?.companyKey).toBe('company:revealed.io');
  expect(person?.askedBy).toEqual({ cli: { channel: 'C1' } }); // reply URLs and tokens stay with the job
  // Named by its own domain, not by the person's input.
  const company = await app.store.models.Company.findOne({ _id: recordId('w7c', 'company:revealed.io') }).lean();
  expect(company).toMatchObject({ key: 'company:revealed.io', kind: 'domain', display: 'revealed.io' });
});

test('a provider that is off or not loaded is skipped with its reason, and one without its input names what it needs; none is called', async () => {
  const first = app.providers.get('first')!;
  const providers = new Map([['first', { ...first, enabled: false, disabledReason: 'providers.first.enabled is false' }], ['third', app.providers.get('third')!]]);
  // No service is given: a call would throw.
  const run = await runWaterfall(
    { group: 'workEmail', order: ['first', 'ghost', 'third'], providers, input: { fullName: 'Ann Bee', domain: 'acme.com' }, workspace: 'w7d', minConfidence: 0.5, signal: new AbortController().signal },
    {} as CallServices,
  );
  expect(run.outcomes).toEqual([
    { group: 'workEmail', provider: 'first', costUsd: 0, outcome: 'skipped', reason: 'providers.first.enabled is false' },
    { group: 'workEmail', provider: 'ghost', costUsd: 0, outcome: 'skipped', reason: 'not enabled in plugins.providers' },
    { group: 'workEmail', provider: 'third', costUsd: 0, operation: 'lookup', outcome: 'skipped', reason: 'needs linkedinUrl' },
  ]);
  expect(run).toMatchObject({ contributions: [], due: false });
});

test('a group with nothing left to find asks nobody: a given work email skips the email finders', async () => {
  fake.on('POST /profile', () => ({ json: { found: false } }));
  const r = await app.enrichAndWait({ workspace: 'w7b', input: 'ann@acme.com' });
  expect(r.outcomes.filter((o) => o.group === 'workEmail').map((o) => [o.provider, o.outcome, o.reason])).toEqual([
    ['first', 'not_run', 'person.workEmail already known'],
    ['second', 'not_run', 'person.workEmail already known'],
    ['third', 'not_run', 'person.workEmail already known'],
  ]);
  expect(calls('first') + calls('second') + calls('third')).toBe(0);
});

test('a cancelled request marks the remaining providers not_run', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  fake.on('POST /first', async () => {
    await gate;
    return { json: { found: false } };
  });
  const { jobId } = await app.enqueue({ workspace: 'w8', input: 'Eve Fox @ acme.com', groups: ['workEmail'] });
  while (calls('first') === 0) await new Promise((r) => setTimeout(r, 20));
  await app.cancel(jobId);
  release();
  const r = await app.service.waitFor(jobId, 10000);
  expect(r.status).toBe('cancelled');
  expect(byProvider(r)).toMatchObject({ first: 'no_match', second: 'not_run', third: 'not_run' });
  expect(calls('second')).toBe(0);
});

test('values that do not fit the canonical field are dropped, not stored', async () => {
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Validco', 'company.employeeCount': -5, 'company.foundedYear': 'last year' }, confidence: 0.9 } }));
  const r = await app.enrichAndWait({ workspace: 'w9', input: 'validco.com', groups: ['companyProfile'] });
  expect(r.company?.fields.name.value).toBe('Validco');
  expect(r.company?.fields.foundedYear).toBeUndefined();
});

test('a failed call that was billed anyway (an unusable LLM reply) is an error that still counts its cost', async () => {
  fake.on('POST /profile', () => ({ json: { found: false } }));
  fake.on('POST /billedfail', () => ({ json: { tokens: 7 } }));
  const r = await app.enrichAndWait({ workspace: 'w10', input: 'bill@acme.com', groups: ['phone'] });
  const o = r.outcomes.find((x) => x.provider === 'billedfail');
  expect(o).toMatchObject({ outcome: 'error', costUsd: 0.007, reason: expect.stringContaining('does not fit') });
  expect(r.costUsd).toBeCloseTo(0.007, 9);
  const row = await app.store.models.Ledger.findOne({ jobId: r.jobId, provider: 'billedfail' }).lean();
  expect(row).toMatchObject({ outcome: 'error', costUsd: 0.007, charged: true, errorKind: 'invalid_response' });
  expect(await app.spendCap.spentToday('w10')).toBeCloseTo(0.007, 9); // the spend counter saw it too
});
