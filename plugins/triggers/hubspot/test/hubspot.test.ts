// The HubSpot trigger through the real App: signed webhooks in, enrichment by fake providers
// over HTTP, write-back to a local HubSpot API reached by the real @hubspot/api-client.
import mongoose from 'mongoose';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import hubspotTrigger, { hubspotBackfill, hubspotConflicts, hubspotSetup } from '../index.js';
import { signV3 } from '../signature.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';

const SECRET = 'test-client-secret';
const PUBLIC = 'https://bot.example.com';
let providers: FakeServer;
let hs: FakeHubspot;
let app: Awaited<ReturnType<typeof startTestApp>>;
let ctx: TriggerContext;
let eventSeq = 1;

const personFor = (email: string) => ({ 'person.firstName': 'Jane', 'person.lastName': `Doe-${email.split('@')[0]}`, 'person.title': 'VP Sales', 'person.city': 'Berlin' });

beforeAll(async () => {
  providers = await startFakeServer({
    'POST /pp': (req) => ({ json: { found: true, fields: personFor((req.json as { workEmail: string }).workEmail), confidence: 0.9 } }),
    'POST /co': (req) => {
      const domain = (req.json as { domain: string }).domain;
      return { json: { found: true, fields: { 'company.name': `Name of ${domain}`, 'company.industry': 'COMPUTER_SOFTWARE', 'company.employeeCount': 42 }, confidence: 0.8 } };
    },
  });
  hs = await startFakeHubspot();
  app = await startTestApp({
    file: 'hubspot',
    plugins: {
      pp: httpProvider({ id: 'pp', needs: [['workEmail']], returns: ['person.firstName', 'person.lastName', 'person.title', 'person.city'] }),
      co: httpProvider({ id: 'co', needs: [['domain']], returns: ['company.name', 'company.industry', 'company.employeeCount'] }),
      hubspot: hubspotTrigger as never,
    },
    overrides: {
      plugins: { providers: ['pp', 'co'], triggers: ['hubspot'] },
      providers: { pp: { baseUrl: providers.url }, co: { baseUrl: providers.url } },
      waterfalls: { personProfile: ['pp'], companyProfile: ['co'] },
      queue: { concurrency: 20 },
      triggers: { hubspot: { accessToken: 'test-hubspot-token', clientSecret: SECRET, portalIds: '62515', apiUrl: hs.url, publicUrl: PUBLIC, drainIntervalMs: 300, drainDelayMs: 300, writeDelayMs: 300, limits: { maxRetries: 3 } } },
    },
  });
  ctx = app.registry.context('hubspot') as TriggerContext;
}, 120_000);
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await providers.close();
  await hs.close();
}, 120_000);

const event = (subscriptionType: string, objectId: string, extra: Record<string, unknown> = {}) => ({
  eventId: eventSeq++,
  subscriptionId: 7,
  portalId: 62515,
  appId: 1160452,
  occurredAt: Date.now(),
  subscriptionType,
  attemptNumber: 0,
  objectId: Number(objectId),
  changeFlag: 'NEW',
  ...extra,
});

async function send(events: unknown[], opts: { timestamp?: number; secret?: string } = {}) {
  const body = JSON.stringify(events);
  const ts = String(opts.timestamp ?? Date.now());
  const res = await fetch(`http://127.0.0.1:${app.port}/webhooks/hubspot`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': ts, 'x-hubspot-signature-v3': signV3(opts.secret ?? SECRET, 'POST', `${PUBLIC}/webhooks/hubspot`, body, ts) },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    // An empty list is "not yet", like null: the failure entry is written after the good record.
    if (v && !(Array.isArray(v) && v.length === 0)) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const props = (type: 'contacts' | 'companies', id: string) => hs.objects[type].get(id)!.properties;
const updateCalls = () => hs.calls.filter((c) => c.path.endsWith('/batch/update'));
const providerCallsFor = (email: string) => providers.requests.filter((r) => r.path === '/pp' && (r.json as { workEmail?: string }).workEmail === email).length;
const batchesStarted = async () => (await ctx.service.activity('hubspot', new Date(0), 10_000)).filter((e) => e.action === 'batch').length;
/** Every queued webhook event has been processed. */
const drained = async () => (await app.store.connection.db!.collection('plugin_hubspot_events').countDocuments({})) === 0;

let ann: string;
let bob: string;

test('a signed batch with duplicates and out-of-order events: each new contact enriched once, empty properties filled, HubSpot values kept and the disagreement recorded', async () => {
  ann = hs.add('contacts', { email: 'ann@alpha-hs.com', jobtitle: 'CEO' });
  bob = hs.add('contacts', { email: 'bob@beta-hs.com' });
  const gone = hs.add('contacts', { email: 'gone@gamma-hs.com' });
  const t = Date.now();
  const annCreated = event('contact.creation', ann, { occurredAt: t + 1 });
  const batch = [
    event('contact.creation', bob, { occurredAt: t + 2 }),
    // The deletion is listed first but happened after the creation: the contact is not enriched.
    event('contact.privacyDeletion', gone, { occurredAt: t + 5 }),
    annCreated,
    { ...annCreated },
    event('contact.creation', gone, { occurredAt: t + 3 }),
    { subscriptionType: 'contact.creation', objectId: 'not-a-number' },
  ];
  const first = await send(batch);
  expect(first).toEqual({ status: 200, json: { queued: 4, duplicates: 1, rejected: 1 } });
  // HubSpot retries the same batch: nothing new.
  expect((await send(batch.slice(0, 5))).json).toMatchObject({ queued: 0, duplicates: 5 });

  await until(() => props('contacts', ann).enrichbot_last_enriched_at && props('contacts', bob).enrichbot_last_enriched_at, 'write-back');
  expect(props('contacts', ann)).toMatchObject({ jobtitle: 'CEO', firstname: 'Jane', lastname: 'Doe-ann', city: 'Berlin', enrichbot_sources: 'pp', enrichbot_confidence: '0.90' });
  expect(props('contacts', bob)).toMatchObject({ jobtitle: 'VP Sales', firstname: 'Jane' });
  expect(props('contacts', gone).enrichbot_last_enriched_at).toBeUndefined();
  expect(providerCallsFor('ann@alpha-hs.com')).toBe(1);
  expect(providerCallsFor('gone@gamma-hs.com')).toBe(0);
  // Never an empty string: HubSpot would clear the property.
  for (const c of updateCalls()) for (const i of c.body.inputs) expect(Object.values(i.properties)).not.toContain('');

  // Each contact's company (by domain) is created and associated after the contacts are written.
  await until(() => [ann, bob].every((id) => hs.associations.some((a) => a.fromId === id)), 'contacts linked to their companies');
  const conflicts = await hubspotConflicts(ctx);
  expect(conflicts).toEqual([expect.objectContaining({ objectType: 'contacts', objectId: ann, record: 'ann@alpha-hs.com', property: 'jobtitle', hubspotValue: 'CEO', providerValue: 'VP Sales', source: 'pp', confidence: 0.9 })]);
}, 120_000);

test('a webhook with a replayed old timestamp or a wrong signature is refused with 401 and queues nothing', async () => {
  const before = hs.calls.length;
  const old = await send([event('contact.creation', bob)], { timestamp: Date.now() - 6 * 60_000 });
  expect(old.status).toBe(401);
  expect(String(old.json.error)).toContain('stale');
  expect((await send([event('contact.creation', bob)], { secret: 'wrong' })).status).toBe(401);
  await new Promise((r) => setTimeout(r, 800));
  expect(await drained()).toBe(true);
  expect(hs.calls.length).toBe(before);
}, 120_000);

test("enrichbot's own change events and events from before activation start no enrichment; a real email change does", async () => {
  const batches = await batchesStarted();
  await send([
    event('contact.propertyChange', ann, { propertyName: 'email', propertyValue: 'ann@alpha-hs.com', changeSource: 'INTEGRATION' }),
    event('contact.propertyChange', ann, { propertyName: 'firstname', propertyValue: 'Jane', changeSource: 'INTEGRATION' }),
    event('contact.creation', bob, { occurredAt: Date.now() - 3600_000 }),
  ]);
  await until(drained, 'events processed');
  await new Promise((r) => setTimeout(r, 500));
  expect(await batchesStarted()).toBe(batches);

  hs.objects.contacts.get(bob)!.properties.email = 'bob.new@beta-hs.com';
  const updatesBefore = updateCalls().length;
  await send([event('contact.propertyChange', bob, { propertyName: 'email', propertyValue: 'bob.new@beta-hs.com', changeSource: 'CRM_UI' })]);
  await until(() => providerCallsFor('bob.new@beta-hs.com') === 1, 'the changed email enriched');
  await until(() => updateCalls().slice(updatesBefore).some((c) => c.body.inputs.some((x: { id: string }) => x.id === bob)), 'the changed record written back');
  // HubSpot's lastname stays; the provider's differing one is a conflict.
  expect(props('contacts', bob).lastname).toBe('Doe-bob');
  expect(await batchesStarted()).toBe(batches + 1);
}, 120_000);

test('250 new contacts are written back in at most 3 batch-update calls', async () => {
  const before = updateCalls().length;
  const ids = Array.from({ length: 250 }, (_, i) => hs.add('contacts', { email: `p${i}@bulk-hs.com` }));
  const events = ids.map((id) => event('contact.creation', id));
  for (let i = 0; i < events.length; i += 100) expect((await send(events.slice(i, i + 100))).status).toBe(200);
  await until(() => ids.every((id) => props('contacts', id).enrichbot_last_enriched_at), 'all 250 written', 420_000);
  const mine = new Set(ids);
  const calls = updateCalls()
    .slice(before)
    .filter((c) => c.body.inputs.some((i: { id: string }) => mine.has(i.id)));
  expect(calls.length).toBeLessThanOrEqual(3);
  expect(calls.every((c) => c.body.inputs.length <= 100)).toBe(true);
  expect(props('contacts', ids[249])).toMatchObject({ firstname: 'Jane', lastname: 'Doe-p249', jobtitle: 'VP Sales' });
}, 450_000);

test('a record HubSpot refuses fails alone: reported with its error message, the rest of its batch is written', async () => {
  const good = hs.add('contacts', { email: 'good@delta-hs.com' });
  const bad = hs.add('contacts', { email: 'bad@delta-hs.com' });
  hs.rejectUpdates('contacts', bad, 'Property values were not valid: jobtitle is read-only here');
  await send([event('contact.creation', good), event('contact.creation', bad)]);
  await until(() => props('contacts', good).enrichbot_last_enriched_at, 'the good record written');
  const failures = await until(async () => (await ctx.service.activity('hubspot', new Date(0), 10_000)).filter((e) => e.action === 'push' && e.detail?.ok === false), 'the failure reported');
  expect(failures).toEqual([expect.objectContaining({ detail: expect.objectContaining({ destination: 'hubspot', ok: false, objectId: bad, error: expect.stringContaining('jobtitle is read-only here') }) })]);
  expect(props('contacts', bad).enrichbot_last_enriched_at).toBeUndefined();
}, 120_000);

test('a 429 is waited out for its Retry-After before the write is retried', async () => {
  const id = hs.add('contacts', { email: 'slow@epsilon-hs.com' });
  hs.rateLimitNext(1, 1, '/batch/update');
  const before = hs.calls.length;
  await send([event('contact.creation', id)]);
  await until(() => props('contacts', id).enrichbot_last_enriched_at, 'written after the 429');
  const calls = hs.calls.slice(before).filter((c) => c.path.endsWith('/batch/update'));
  expect(calls.map((c) => c.status)).toEqual([429, 200]);
  expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(950);
}, 120_000);

test('push creates the contact by email, updates the company by domain fill-only, and associates them; its creation event is ignored', async () => {
  const done = await app.enrichAndWait({ workspace: 'hubspot', input: 'zed@zeta-hs.com' });
  expect(done.status).toBe('done');
  const company = hs.add('companies', { domain: 'zeta-hs.com', name: 'Zeta Corp Official' });
  const result = await app.service.push('hubspot', 'zed@zeta-hs.com', 'hubspot', 'U-SLACK');
  const contact = [...hs.objects.contacts.values()].find((o) => o.properties.email === 'zed@zeta-hs.com')!;
  expect(contact.properties).toMatchObject({ firstname: 'Jane', lastname: 'Doe-zed', jobtitle: 'VP Sales' });
  expect(props('companies', company)).toMatchObject({ name: 'Zeta Corp Official', industry: 'COMPUTER_SOFTWARE', numberofemployees: '42' });
  expect(result.kept).toEqual(['company.name']);
  expect(result.summary).toContain(`contact ${contact.id} created`);
  expect(result.summary).toContain(`company ${company} updated`);
  expect(hs.associations.filter((a) => a.fromId === contact.id)).toEqual([{ from: 'contacts', fromId: contact.id, to: 'companies', toId: company }]);

  const batches = await batchesStarted();
  await send([event('contact.creation', contact.id), event('contact.propertyChange', contact.id, { propertyName: 'email', propertyValue: 'zed@zeta-hs.com' })]);
  await until(drained, 'events processed');
  await new Promise((r) => setTimeout(r, 500));
  expect(await batchesStarted()).toBe(batches);
}, 120_000);

test('backfill enriches existing records that were never enriched, and only those', async () => {
  const old = hs.add('contacts', { email: 'old@eta-hs.com' }, new Date('2024-01-01'));
  const alreadyEnriched = props('contacts', bob).enrichbot_last_enriched_at;
  const res = await hubspotBackfill(ctx, { objectTypes: ['contacts'] });
  expect(res.found).toBeGreaterThanOrEqual(1);
  await ctx.service.waitForBatch(res.batchId!, 60_000);
  await until(() => props('contacts', old).enrichbot_last_enriched_at, 'backfilled record written');
  expect(props('contacts', bob).enrichbot_last_enriched_at).toBe(alreadyEnriched);
}, 120_000);

test('a privacy deletion purges the contact: nothing about them stays in any collection', async () => {
  const known = await app.store.connection.db!.collection('plugin_hubspot_objects').findOne({ _id: `62515:contacts:${ann}` as never });
  expect(known).toMatchObject({ input: 'ann@alpha-hs.com' });
  await send([event('contact.privacyDeletion', ann)]);
  await until(drained, 'deletion processed');
  await until(async () => !(await hubspotConflicts(ctx)).some((c) => c.objectId === ann), "ann's conflicts purged");
  const conn = await mongoose.createConnection(app.names.mongodbUrl).asPromise();
  try {
    for (const c of await conn.db!.listCollections().toArray()) {
      const text = JSON.stringify(await conn.db!.collection(c.name).find({}).toArray());
      for (const needle of ['ann@alpha-hs.com', 'Doe-ann']) expect({ collection: c.name, found: text.includes(needle) }).toEqual({ collection: c.name, found: false });
    }
  } finally {
    await conn.close();
  }
}, 120_000);

test('setup creates the enrichbot group and properties once; running it again changes nothing', async () => {
  const first = await hubspotSetup(ctx);
  expect(first.created).toEqual(expect.arrayContaining(['contacts group enrichbot', 'contacts.enrichbot_last_enriched_at', 'companies.enrichbot_summary']));
  const second = await hubspotSetup(ctx);
  expect(second.created).toEqual([]);
  expect(second.existing.length).toBe(first.created.length);
}, 120_000);
