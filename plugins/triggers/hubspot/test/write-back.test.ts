// The write-back against a local HubSpot whose properties are dropdowns (as many portals have
// them): the real @hubspot/api-client, the trigger's own context from a started App, and
// enrichment results built as the engine stores them.
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import type { RecordView } from '../../../../src/plugin/service.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import hubspotTrigger, { hubspotConflicts, hubspotProperties } from '../index.js';
import { hubspotFor } from '../state.js';
import { writeBack, type WriteItem } from '../write-back.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';

let hs: FakeHubspot;
let app: Awaited<ReturnType<typeof startTestApp>>;
let ctx: TriggerContext;

beforeAll(async () => {
  hs = await startFakeHubspot();
  app = await startTestApp({
    file: 'hubspot-write-back',
    plugins: { hubspot: hubspotTrigger as never },
    overrides: {
      plugins: { providers: [], triggers: ['hubspot'] },
      triggers: { hubspot: { accessToken: 'test-hubspot-token', clientSecret: 'secret', portalIds: '62515', apiUrl: hs.url, drainIntervalMs: 600_000 } },
    },
  });
  ctx = app.registry.context('hubspot') as TriggerContext;
}, 120_000);
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await hs.close();
}, 120_000);

const field = (value: unknown) => ({ value, provider: 'pp', fetchedAt: '2026-12-01T00:00:00.000Z', confidence: 0.9 });
const person = (email: string, fields: Record<string, unknown>): RecordView => ({
  key: `email:${email}`,
  display: email,
  enrichedAt: '2026-12-01T00:00:00.000Z',
  fields: Object.fromEntries(Object.entries({ firstName: 'Ada', lastName: 'Lovelace', title: 'CTO', phone: '+4930123456', city: 'Berlin', region: 'Berlin', companyName: 'Analytical', ...fields }).map(([k, v]) => [k, field(v)])),
});
const contactItem = (objectId: string, email: string, fields: Record<string, unknown>): WriteItem => ({ objectType: 'contacts', objectId, display: email, views: { person: person(email, fields) } });
const props = (type: 'contacts' | 'companies', id: string) => hs.objects[type].get(id)!.properties;

test('a dropdown value HubSpot refuses is dropped alone: the record keeps its other properties and the refusal is a conflict with HubSpot\'s reason', async () => {
  // The portal's country is a dropdown; "US" was an option once and is no longer.
  hs.define('contacts', { name: 'country', label: 'Country/Region', type: 'enumeration', fieldType: 'select', options: [{ label: 'Germany', value: 'DE' }, { label: 'United States', value: 'US' }] });
  const warm = hs.add('contacts', { email: 'warm@dropdown-hs.com' });
  await writeBack(hubspotFor(ctx), [contactItem(warm, 'warm@dropdown-hs.com', { country: 'DE' })]);
  hs.define('contacts', { name: 'country', label: 'Country/Region', type: 'enumeration', fieldType: 'select', options: [{ label: 'Germany', value: 'DE' }] });

  const bad = hs.add('contacts', { email: 'bad@dropdown-hs.com' });
  const good = hs.add('contacts', { email: 'good@dropdown-hs.com' });
  const report = await writeBack(hubspotFor(ctx), [contactItem(bad, 'bad@dropdown-hs.com', { country: 'US' }), contactItem(good, 'good@dropdown-hs.com', { country: 'DE' })]);

  expect(report.failed).toEqual([]);
  expect(report.written).toBe(2);
  const written = props('contacts', bad);
  expect(written.country).toBeUndefined();
  const others = ['firstname', 'lastname', 'jobtitle', 'phone', 'city', 'state', 'company', 'enrichbot_last_enriched_at', 'enrichbot_sources', 'enrichbot_confidence'];
  for (const p of others) expect({ p, value: written[p] }).toEqual({ p, value: expect.any(String) });
  expect(props('contacts', good)).toMatchObject({ country: 'DE', jobtitle: 'CTO' });
  // The refusal costs one more batch call, not one call per record.
  expect(report.updateCalls).toBeLessThanOrEqual(2);
  const conflicts = await hubspotConflicts(ctx);
  expect(conflicts).toEqual([expect.objectContaining({ objectId: bad, record: 'bad@dropdown-hs.com', property: 'country', providerValue: 'US', source: 'pp', reason: expect.stringContaining('INVALID_OPTION') })]);
}, 60_000);

test("canonical values become the portal's dropdown options (by value, then label, any case or accent, ISO countries by English name); no option means not sent and a conflict", async () => {
  hs.define('contacts', {
    name: 'country',
    label: 'Country/Region',
    type: 'enumeration',
    fieldType: 'select',
    options: [{ label: 'United States', value: 'opt_us' }, { label: 'Curacao', value: 'opt_cw' }, { label: 'germany', value: 'DEU' }],
  });
  hs.define('contacts', { name: 'jobtitle', label: 'Job title', type: 'string', fieldType: 'text' });
  const readsBefore = hs.calls.filter((c) => c.path === '/crm/v3/properties/contacts/batch/read').length;
  await hubspotProperties(ctx, true);
  const ids = ['us', 'cw', 'de', 'zw'].map((c) => hs.add('contacts', { email: `${c}@options-hs.com` }));
  const countries = ['US', 'CW', 'DE', 'ZW'];
  const report = await writeBack(hubspotFor(ctx), ids.map((id, i) => contactItem(id, `${countries[i].toLowerCase()}@options-hs.com`, { country: countries[i] })));
  // A second write-back uses the cached definitions.
  const again = hs.add('contacts', { email: 'again@options-hs.com' });
  await writeBack(hubspotFor(ctx), [contactItem(again, 'again@options-hs.com', { country: 'US' })]);

  expect(report).toMatchObject({ written: 4, failed: [], updateCalls: 1 });
  expect(ids.map((id) => props('contacts', id).country)).toEqual(['opt_us', 'opt_cw', 'DEU', undefined]);
  expect(props('contacts', ids[3]).jobtitle).toBe('CTO');
  expect(props('contacts', again).country).toBe('opt_us');
  expect(hs.calls.filter((c) => c.path === '/crm/v3/properties/contacts/batch/read').length - readsBefore).toBe(1);
  const conflicts = await hubspotConflicts(ctx);
  expect(conflicts).toEqual(expect.arrayContaining([expect.objectContaining({ objectId: ids[3], property: 'country', providerValue: 'ZW', reason: 'no option for "ZW" in country' })]));
  expect(conflicts.filter((c) => ids.slice(0, 3).includes(c.objectId))).toEqual([]);
}, 60_000);

const companyView = (domain: string): RecordView => ({
  key: `domain:${domain}`,
  display: domain,
  enrichedAt: '2026-12-01T00:00:00.000Z',
  fields: Object.fromEntries(Object.entries({ domain, name: `Name of ${domain}`, industry: 'COMPUTER_SOFTWARE', employeeCount: 42 }).map(([k, v]) => [k, field(v)])),
});
const withCompany = (email: string): WriteItem => {
  const id = hs.add('contacts', { email });
  const domain = email.split('@')[1];
  return { objectType: 'contacts', objectId: id, display: email, views: { person: person(email, { companyDomain: domain }), company: companyView(domain) } };
};
const companiesWith = (domain: string) => [...hs.objects.companies.values()].filter((o) => o.properties.domain === domain);
const associated = (domain: string) => hs.associations.filter((a) => a.to === 'companies' && companiesWith(domain).some((c) => c.id === a.toId));

test('a missing company is created once and associated with each of its 3 contacts, in one write-back or in 3 at the same time', async () => {
  const together = ['a', 'b', 'c'].map((n) => withCompany(`${n}@newco-hs.com`));
  const creates = () => hs.calls.filter((c) => c.path === '/crm/v3/objects/companies/batch/create').length;
  const before = creates();
  const report = await writeBack(hubspotFor(ctx), together);
  expect(report).toMatchObject({ written: 3, failed: [], companiesCreated: 1, associations: 3 });
  expect(companiesWith('newco-hs.com')).toEqual([expect.objectContaining({ properties: expect.objectContaining({ name: 'Name of newco-hs.com', industry: 'COMPUTER_SOFTWARE', numberofemployees: '42' }) })]);
  expect(associated('newco-hs.com').map((a) => a.fromId).sort()).toEqual(together.map((t) => t.objectId).sort());

  const apart = ['a', 'b', 'c'].map((n) => withCompany(`${n}@apart-hs.com`));
  await Promise.all(apart.map((item) => writeBack(hubspotFor(ctx), [item])));
  expect(companiesWith('apart-hs.com')).toHaveLength(1);
  expect(associated('apart-hs.com').map((a) => a.fromId).sort()).toEqual(apart.map((t) => t.objectId).sort());
  expect(creates() - before).toBe(2);
}, 60_000);

test("an existing company found by domain gets only its empty properties filled and the contact associated", async () => {
  const company = hs.add('companies', { domain: 'known-hs.com', name: 'Known Inc (official)' });
  const item = withCompany('d@known-hs.com');
  const report = await writeBack(hubspotFor(ctx), [item]);
  expect(report).toMatchObject({ written: 1, failed: [] });
  expect(report.companiesCreated ?? 0).toBe(0);
  expect(companiesWith('known-hs.com')).toHaveLength(1);
  expect(props('companies', company)).toMatchObject({ name: 'Known Inc (official)', industry: 'COMPUTER_SOFTWARE', numberofemployees: '42' });
  expect(hs.associations).toContainEqual({ from: 'contacts', fromId: item.objectId, to: 'companies', toId: company });
  expect(await hubspotConflicts(ctx)).toContainEqual(expect.objectContaining({ objectType: 'companies', objectId: company, property: 'name', hubspotValue: 'Known Inc (official)' }));
}, 60_000);

test('a write HubSpot cannot take counts as a failed HubSpot write on /metrics and is listed under "HubSpot" in the daily report', async () => {
  const report = await writeBack(hubspotFor(ctx), [contactItem('999999', 'gone@missing-hs.com', {})]);
  expect(report.failed).toEqual([expect.objectContaining({ objectId: '999999' })]);
  const metrics = (await (await fetch(`http://127.0.0.1:${app.adminPort}/metrics`)).text()).split('\n');
  expect(metrics).toContain('enrichbot_hubspot_writes_total{result="failed"} 1');
  const daily = await app.service.dailyReport(app.clock.now().toISOString().slice(0, 10));
  expect(daily.pushFailures).toEqual([{ destination: 'hubspot', label: 'HubSpot', count: 1, records: [expect.objectContaining({ subject: 'hubspot contacts 999999', objectId: '999999' })] }]);
}, 60_000);
