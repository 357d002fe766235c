// `npm run bench:hubspot`: HubSpot calls per 1,000 records written, against a fake HubSpot that
// allows 100 requests per rolling 10 s (429 beyond). 1,000 new contacts arrive as a steady stream
// of webhook deliveries of 10 events (one every 100 ms), are enriched by a local provider and
// written back with the default settings except the delays below. Run twice: contacts only, and
// with their companies (found by domain, created, filled, associated; 100 domains).
// Prints calls by endpoint, calls per 1,000 written records and 429s. Not part of `npm test`.
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import hubspotTrigger from '../index.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';
import { PUBLIC, SECRET, event, send, until } from './support/webhooks.js';

const N = Number(process.env.BENCH_HUBSPOT_RECORDS ?? 1000);
const PER_DELIVERY = 10;
const GAP_MS = 100;

async function run(label: string, withCompanies: boolean): Promise<string[]> {
  const providers: FakeServer = await startFakeServer({
    'POST /pp': (req) => {
      const email = (req.json as { workEmail: string }).workEmail;
      return { json: { found: true, fields: { 'person.firstName': 'Jane', 'person.lastName': `Doe-${email.split('@')[0]}`, 'person.title': 'VP Sales', ...(withCompanies ? { 'person.companyDomain': email.split('@')[1] } : {}) }, confidence: 0.9 } };
    },
    'POST /co': (req) => ({ json: { found: true, fields: { 'company.name': `Name of ${(req.json as { domain: string }).domain}`, 'company.employeeCount': 42 }, confidence: 0.8 } }),
  });
  const hs: FakeHubspot = await startFakeHubspot();
  const app = await startTestApp({
    file: `hubspot-bench-${withCompanies ? 'companies' : 'contacts'}`,
    plugins: {
      pp: httpProvider({ id: 'pp', needs: [['workEmail']], returns: ['person.firstName', 'person.lastName', 'person.title', 'person.companyDomain'] }),
      co: httpProvider({ id: 'co', needs: [['domain']], returns: ['company.name', 'company.employeeCount'] }),
      hubspot: hubspotTrigger as never,
    },
    overrides: {
      plugins: { providers: ['pp', 'co'], triggers: ['hubspot'] },
      providers: { pp: { baseUrl: providers.url }, co: { baseUrl: providers.url } },
      waterfalls: { personProfile: ['pp'], companyProfile: withCompanies ? ['co'] : [] },
      queue: { concurrency: 20 },
      triggers: { hubspot: { accessToken: 'test-hubspot-token', clientSecret: SECRET, portalIds: '62515', apiUrl: hs.url, publicUrl: PUBLIC, drainIntervalMs: 500, drainDelayMs: 2000, writeDelayMs: 10_000, companies: withCompanies ? 'create' : 'off' } },
    },
  });
  try {
    void (app.registry.context('hubspot') as TriggerContext);
    const ids = Array.from({ length: N }, (_, i) => hs.add('contacts', { email: `p${i}@d${i % 100}-bench.com` }));
    const started = Date.now();
    const first = hs.calls.length;
    for (let i = 0; i < ids.length; i += PER_DELIVERY) {
      const res = await send(app.port!, ids.slice(i, i + PER_DELIVERY).map((id) => event('contact.creation', id)));
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    await until(() => ids.every((id) => hs.objects.contacts.get(id)!.properties.enrichbot_last_enriched_at), 'all written', 900_000);
    // Companies are linked right after their contacts' write.
    if (withCompanies) await until(() => hs.associations.length >= N, 'all associated', 120_000);
    const calls = hs.calls.slice(first);
    const by = new Map<string, number>();
    for (const c of calls) {
      const key = `${c.method} ${c.path.replace(/\/\d+/g, '/{id}')}`;
      by.set(key, (by.get(key) ?? 0) + 1);
    }
    const limited = calls.filter((c) => c.status === 429).length;
    return [
      `${label}: ${N} records written in ${((Date.now() - started) / 1000).toFixed(1)} s; ${calls.length} HubSpot calls = ${((calls.length / N) * 1000).toFixed(1)} per 1,000 records; 429 answers: ${limited}`,
      ...[...by.entries()].sort().map(([k, v]) => `    ${String(v).padStart(5)}  ${k}`),
    ];
  } finally {
    await app.stop();
    await dropTestData(app.names);
    await providers.close();
    await hs.close();
  }
}

test('HubSpot calls per 1,000 records written (goal: at most 30 for contacts, zero 429s)', async () => {
  const lines = [...(await run('contacts only', false)), ...(await run('contacts and their companies', true))];
  console.log(lines.join('\n'));
}, 1_800_000);
