// Canonical values end to end: two fake providers answer the same company with different words
// and numbers; the record keeps canonical values, the winner under the merge policy, and the
// other provider's value in its provenance. Then `normalizeStoredRecords` (the migration behind
// `enrichbot normalize`) rewrites an old record and changes nothing on a second run.
import { startFakeServer, type FakeServer } from '../../support/fake-http.js';
import { httpProvider } from '../../support/http-provider.js';
import { startTestApp, dropTestData } from '../../support/test-app.js';
import type { App } from '../../../src/app.js';
import { renderCard } from '../../../src/cli/card.js';
import { normalizeStoredRecords } from '../../../src/engine/normalize/migrate-records.js';
import { recordId } from '../../../src/store/models.js';

let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

const companyFields = ['company.name', 'company.industry', 'company.employeeCount', 'company.country', 'company.phone', 'company.description'] as const;
const providers = {
  alpha: httpProvider({ id: 'alpha', returns: [...companyFields], needs: [['domain']] }),
  beta: httpProvider({ id: 'beta', returns: [...companyFields], needs: [['domain']] }),
  people: httpProvider({ id: 'people', returns: ['person.title', 'person.fullName', 'person.seniority', 'person.country', 'person.phone'], needs: [['workEmail']] }),
};

beforeAll(async () => {
  fake = await startFakeServer();
  app = await startTestApp({
    file: 'engine-normalize-disagreement',
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: Object.fromEntries(Object.keys(providers).map((id) => [id, { baseUrl: fake.url }])),
      waterfalls: { personProfile: ['people'], companyProfile: ['alpha', 'beta'] },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});

test('two providers disagree: the winner is kept, canonical, and the other value is listed in provenance', async () => {
  // alpha is below the confidence threshold, so the waterfall goes on to beta; both answers count.
  fake.on('POST /alpha', () => ({ json: { found: true, confidence: 0.5, fields: { 'company.name': 'Acme', 'company.industry': 'computer software', 'company.employeeCount': 310, 'company.country': 'Deutschland', 'company.phone': '030 901820' } } }));
  fake.on('POST /beta', () => ({
    json: { found: true, confidence: 0.9, fields: { 'company.name': 'Acme', 'company.industry': 'Software Development', 'company.employeeCount': 240, 'company.country': 'DE', 'company.description': 'Robots.' } },
  }));
  const r = await app.enrichAndWait({ workspace: 'd1', input: 'acme.com', groups: ['companyProfile'] });
  expect(r.status).toBe('done');
  const f = r.company!.fields;
  expect(f.employeeCount).toMatchObject({ value: 240, provider: 'beta', alternatives: [{ provider: 'alpha', value: 310, confidence: 0.5 }] });
  expect(f.employeeRange).toMatchObject({ value: '201-500', provider: 'beta' });
  expect(f.industry).toMatchObject({ value: 'COMPUTER_SOFTWARE', raw: 'Software Development', provider: 'beta', alternatives: [{ provider: 'alpha', value: 'COMPUTER_SOFTWARE', raw: 'computer software' }] });
  expect(f.country).toMatchObject({ value: 'DE', provider: 'beta', alternatives: [{ provider: 'alpha', value: 'DE', raw: 'Deutschland' }] });
  // A national number is read in the company's country.
  expect(f.phone).toMatchObject({ value: '+4930901820', raw: '030 901820' });

  // The stored record carries the same provenance.
  const stored = await app.store.models.Company.findOne({ _id: recordId('d1', 'company:acme.com') }).lean();
  const fields = stored!.fields as unknown as Record<string, { value: unknown; alternatives?: unknown[] }>;
  expect(fields.employeeCount.alternatives).toEqual([{ provider: 'alpha', value: 310, confidence: 0.5 }]);

  const card = renderCard(r);
  expect(card).toMatch(/employeeCount\s+240 .*beta says 240, alpha says 310/);
  expect(card).toMatch(/industry\s+COMPUTER_SOFTWARE \(Software Development\).*2 sources agree/);
});

test('a person: seniority and department from the title when the provider gave none; an invalid phone is dropped, not stored', async () => {
  fake.on('POST /people', () => ({ json: { found: true, confidence: 0.9, fields: { 'person.title': 'Directrice Marketing', 'person.fullName': 'Jeanne Roux', 'person.country': 'France', 'person.phone': '+33 1 23' } } }));
  fake.on('POST /alpha', () => ({ json: { found: false } }));
  fake.on('POST /beta', () => ({ json: { found: false } }));
  const r = await app.enrichAndWait({ workspace: 'd2', input: 'jeanne@acme.fr' });
  const f = r.person!.fields;
  expect(f.seniority).toMatchObject({ value: 'director', provider: 'people' });
  expect(f.department).toMatchObject({ value: 'marketing', provider: 'people' });
  expect(f.country).toMatchObject({ value: 'FR', raw: 'France' });
  expect(f.phone).toBeUndefined();
});

test('`enrichbot normalize` rewrites old free-text records in batches and is safe to run twice', async () => {
  const { Person, Company } = app.store.models;
  const at = new Date('2025-01-01T00:00:00Z');
  const old = (value: unknown) => ({ value, provider: 'apollo', fetchedAt: at, confidence: 0.9 });
  for (let i = 0; i < 5; i++) {
    await Person.updateOne(
      { _id: recordId('mig', `email:p${i}@old.com`) },
      { $set: { workspace: 'mig', key: `email:p${i}@old.com`, fields: { title: old('VP Sales'), seniority: old('Vice President'), country: old('United Kingdom'), phone: old('020 7946 0958'), workEmailStatus: old('catch-all') } } },
      { upsert: true },
    );
  }
  await Company.updateOne(
    { _id: recordId('mig', 'company:old.com') },
    { $set: { workspace: 'mig', key: 'company:old.com', fields: { industry: old('SERVICES-PREPACKAGED SOFTWARE'), sicCode: old('7372'), employeeRange: old('51 - 200'), country: old('Frankreich') } } },
    { upsert: true },
  );
  const first = await normalizeStoredRecords(app.store.models, { batchSize: 2, workspace: 'mig' });
  expect(first).toMatchObject({ scanned: 6, updated: 6, changed: { seniority: 5, country: 6, phone: 5, workEmailStatus: 5, industry: 1, employeeRange: 1 } });
  const p = (await Person.findOne({ _id: recordId('mig', 'email:p0@old.com') }).lean())!.fields as unknown as Record<string, { value: unknown; raw?: unknown; provider: string }>;
  expect(p.seniority).toMatchObject({ value: 'vp', raw: 'Vice President', provider: 'apollo' });
  expect(p.phone).toMatchObject({ value: '+442079460958' });
  expect(p.workEmailStatus).toMatchObject({ value: 'catch_all' });
  const c = (await Company.findOne({ _id: recordId('mig', 'company:old.com') }).lean())!.fields as unknown as Record<string, { value: unknown; raw?: unknown }>;
  expect(c.industry).toMatchObject({ value: 'COMPUTER_SOFTWARE', raw: 'SERVICES-PREPACKAGED SOFTWARE' });
  expect(c.employeeRange.value).toBe('51-200');

  const second = await normalizeStoredRecords(app.store.models, { batchSize: 2, workspace: 'mig' });
  expect(second).toMatchObject({ scanned: 6, updated: 0, changed: {} });
});
