// Part (i), HubSpot write-back: API calls per 1,000 records written, and 429s, against a fake
// HubSpot that allows 100 requests per rolling 10 s (fake-hubspot.ts). BENCH_HUBSPOT_RECORDS
// (1,000) new contacts arrive as a steady stream of signed webhook deliveries of 10 events (one
// every 100 ms), are enriched by a person provider answering at once, and written back with the
// trigger's default settings except drainIntervalMs 500 and drainDelayMs 2000 (events of close
// deliveries share a batch sooner). Run twice: contacts only, and with their companies (found by
// domain, created, filled, associated; 100 domains). Formerly plugins/triggers/hubspot/test/calls.bench.ts.
import { z } from 'zod';
import hubspot from '../../plugins/triggers/hubspot/index.js';
import { signV3 } from '../../plugins/triggers/hubspot/signature.js';
import { defineProvider, type LookupResult, type ProviderPlugin } from '../../src/plugin/contract.js';
import type { FieldPath } from '../../src/engine/fields.js';
import { PREFIX, dbUrl, num, startApp } from './app.js';
import { startBenchHubspot, type BenchHubspot } from './fake-hubspot.js';
import type { FakeProvider } from './fake-provider.js';
import type { ResultRow } from './report.js';

const N = num('BENCH_HUBSPOT_RECORDS', 1000);
const PER_DELIVERY = 10;
const GAP_MS = 100;
const DOMAINS = 100;
const SECRET = 'bench-client-secret';
const PUBLIC = 'https://bot.example.com';
const PORTAL = 62515;

/** A provider whose answers depend on the input: a person's name and title, their company by email domain. */
function answering(id: string, needs: 'workEmail' | 'domain', returns: FieldPath[], fields: (input: Record<string, unknown>) => Record<string, unknown>): ProviderPlugin {
  return defineProvider({
    kind: 'provider',
    id,
    description: `HubSpot bench provider ${id}`,
    configSchema: z.object({}).loose(),
    requiresApiKey: false,
    defaults: { costs: { lookup: { usd: 0, missCharged: false } } },
    operations: [
      {
        name: 'lookup',
        needs: [[needs]],
        returns,
        async lookup(input, ctx): Promise<LookupResult> {
          const res = await ctx.http.request({ method: 'POST', path: `/instant/${id}`, json: input, schema: z.object({ found: z.boolean() }).loose() });
          if (res.kind === 'no_match') return { outcome: 'no_match', raw: res.raw, httpStatus: res.status };
          return { outcome: 'matched', fields: fields(input as Record<string, unknown>), confidence: 0.9, raw: res.raw, httpStatus: res.status };
        },
      },
    ],
  }) as ProviderPlugin;
}

let eventId = 1;
async function deliver(port: number, objectIds: string[]): Promise<void> {
  const body = JSON.stringify(objectIds.map((id) => ({ eventId: eventId++, subscriptionId: 7, portalId: PORTAL, appId: 1160452, occurredAt: Date.now(), subscriptionType: 'contact.creation', attemptNumber: 0, objectId: Number(id), changeFlag: 'NEW' })));
  const ts = String(Date.now());
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/hubspot`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': ts, 'x-hubspot-signature-v3': signV3(SECRET, 'POST', `${PUBLIC}/webhooks/hubspot`, body, ts) },
    body,
  });
  await res.text();
  if (res.status !== 200) throw new Error(`the HubSpot webhook answered ${res.status}`);
}

async function until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`HubSpot bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface CallsRun {
  label: string;
  seconds: number;
  calls: number;
  limited: number;
  byRoute: [string, number][];
}

async function run(fake: FakeProvider, withCompanies: boolean): Promise<CallsRun> {
  const hs: BenchHubspot = await startBenchHubspot();
  const part = withCompanies ? 'i2' : 'i1';
  const person = answering('pp', 'workEmail', ['person.firstName', 'person.lastName', 'person.title', 'person.companyDomain'], (input) => {
    const [local, domain] = String(input.workEmail).split('@');
    return { 'person.firstName': 'Jane', 'person.lastName': `Doe-${local}`, 'person.title': 'VP Sales', ...(withCompanies ? { 'person.companyDomain': domain } : {}) };
  });
  const company = answering('co', 'domain', ['company.name', 'company.employeeCount'], (input) => ({ 'company.name': `Name of ${String(input.domain)}`, 'company.employeeCount': 42 }));
  const app = await startApp({
    role: 'all',
    mongodbUrl: dbUrl(part),
    prefix: `${PREFIX}-${part}`,
    plugins: { pp: person, co: company, hubspot },
    baseUrl: fake.url,
    waterfalls: { personProfile: ['pp'], companyProfile: withCompanies ? ['co'] : [] },
    concurrency: 20,
    triggers: { hubspot: { accessToken: 'bench-hubspot-token', clientSecret: SECRET, portalIds: String(PORTAL), apiUrl: hs.url, publicUrl: PUBLIC, drainIntervalMs: 500, drainDelayMs: 2000, companies: withCompanies ? 'create' : 'off' } },
  });
  try {
    const ids = Array.from({ length: N }, (_, i) => hs.add('contacts', { email: `p${i}@d${i % DOMAINS}-bench.com` }));
    const t0 = Date.now();
    const first = hs.calls.length;
    for (let i = 0; i < ids.length; i += PER_DELIVERY) {
      await deliver(app.port!, ids.slice(i, i + PER_DELIVERY));
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    await until(() => ids.every((id) => hs.objects.contacts.get(id)!.enrichbot_last_enriched_at), 'every contact written', 600_000);
    // Companies are linked right after their contacts' write.
    if (withCompanies) await until(() => hs.associations >= N, 'every contact associated with its company', 120_000);
    const calls = hs.calls.slice(first);
    const by = new Map<string, number>();
    for (const c of calls) by.set(`${c.method} ${c.route}`, (by.get(`${c.method} ${c.route}`) ?? 0) + 1);
    return { label: withCompanies ? 'contacts and their companies' : 'contacts only', seconds: (Date.now() - t0) / 1000, calls: calls.length, limited: calls.filter((c) => c.status === 429).length, byRoute: [...by.entries()].sort() };
  } finally {
    await app.stop();
    await hs.close();
  }
}

export async function hubspotBench(fake: FakeProvider): Promise<ResultRow[]> {
  const runs = [await run(fake, false), await run(fake, true)];
  const per1000 = (r: CallsRun) => (r.calls / N) * 1000;
  for (const r of runs) {
    console.log(`${r.label}: ${N} records written in ${r.seconds.toFixed(1)} s; ${r.calls} HubSpot calls = ${per1000(r).toFixed(1)} per 1,000 records; 429 answers: ${r.limited}`);
    for (const [k, v] of r.byRoute) console.log(`  ${String(v).padStart(5)}  ${k}`);
  }
  const [contacts, companies] = runs;
  return [
    { what: `HubSpot calls per 1,000 contacts written (${N} from webhooks, 100 requests per 10 s allowed)`, result: `${per1000(contacts).toFixed(1)}; 429s: ${contacts.limited}`, goal: 'at most 30, no 429', met: per1000(contacts) <= 30 && contacts.limited === 0 },
    { what: `the same with their companies (${DOMAINS} domains: found, created, filled, associated)`, result: `${per1000(companies).toFixed(1)}; 429s: ${companies.limited}`, goal: 'no 429', met: companies.limited === 0 },
  ];
}
