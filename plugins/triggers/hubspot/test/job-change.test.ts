// A job change found by a refresh reaches HubSpot (issue 21): the contact enrichbot pushed gets
// enrichbot_job_change_date and enrichbot_previous_company, and nothing else; a second refresh
// that finds no change writes nothing. Time is moved on the app's clock, never slept.
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { ManualClock } from '../../../../src/clock.js';
import hubspotTrigger, { hubspotSetup } from '../index.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';

const DAY_MS = 86_400_000;
const clock = new ManualClock(Date.UTC(2031, 6, 1, 9));
let job: Record<string, string> = { 'person.title': 'VP Sales', 'person.companyName': 'Acme', 'person.companyDomain': 'acme.com' };
let providers: FakeServer;
let hs: FakeHubspot;
let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  providers = await startFakeServer({ 'POST /pp': () => ({ json: { found: true, fields: job, confidence: 0.9 } }) });
  hs = await startFakeHubspot();
  app = await startTestApp({
    file: 'hubspot-job-change',
    clock,
    plugins: { pp: httpProvider({ id: 'pp', needs: [['workEmail']], returns: ['person.title', 'person.companyName', 'person.companyDomain'] }), hubspot: hubspotTrigger as never },
    overrides: {
      plugins: { providers: ['pp'], triggers: ['hubspot'] },
      providers: { pp: { baseUrl: providers.url } },
      waterfalls: { personProfile: ['pp'] },
      triggers: { hubspot: { accessToken: 'test-hubspot-token', clientSecret: 'test-client-secret', portalIds: '62515', apiUrl: hs.url, publicUrl: 'https://bot.example.com', drainIntervalMs: 3_600_000 } },
    },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await Promise.all([providers?.close(), hs?.close()]);
});

const contactUpdates = () => hs.calls.filter((c) => /\/crm\/v3\/objects\/contacts\/\d+$/.test(c.path) && c.method === 'PATCH');
async function updates(n: number) {
  for (let i = 0; i < 200 && contactUpdates().length < n; i++) await new Promise((r) => setTimeout(r, 25));
  return contactUpdates();
}

test('a refresh that moves the person writes the job change date and the previous company to their contact, and a second refresh writes nothing', async () => {
  const ctx = app.registry.context('hubspot') as TriggerContext;
  await hubspotSetup(ctx);
  expect(hs.properties.has('contacts:enrichbot_job_change_date')).toBe(true);
  expect(hs.properties.has('contacts:enrichbot_previous_company')).toBe(true);
  const id = hs.add('contacts', { email: 'jane@acme.com', company: 'Acme' });

  await app.enrichAndWait({ workspace: 'hubspot', input: 'jane@acme.com' });
  await app.service.push('hubspot', 'jane@acme.com', 'hubspot', 'U1');
  const before = contactUpdates().length;

  job = { 'person.title': 'Head of Growth', 'person.companyName': 'Beta', 'person.companyDomain': 'beta.io' };
  clock.advance(31 * DAY_MS);
  const r = await app.enrichAndWait({ workspace: 'hubspot', input: 'jane@acme.com', refresh: true });
  expect(r.jobChange?.new.companyDomain).toBe('beta.io');
  const written = (await updates(before + 1)).slice(before);
  expect(written).toHaveLength(1);
  expect(written[0].path).toBe(`/crm/v3/objects/contacts/${id}`);
  expect((written[0].body as { properties: unknown }).properties).toEqual({ enrichbot_job_change_date: clock.now().toISOString().slice(0, 10), enrichbot_previous_company: 'Acme' });
  expect(hs.objects.contacts.get(id)!.properties).toMatchObject({ company: 'Acme', enrichbot_previous_company: 'Acme' });

  clock.advance(31 * DAY_MS);
  const again = await app.enrichAndWait({ workspace: 'hubspot', input: 'jane@acme.com', refresh: true });
  expect(again.jobChange).toBeUndefined();
  expect(contactUpdates()).toHaveLength(before + 1);
});
