// What the HubSpot trigger keeps between deliveries, through the real App: write-back in chunks of
// 100 across small webhook deliveries, merges that move enrichbot's state to the surviving
// record without paying again, and forgotten people who stay forgotten.
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import hubspotTrigger, { hubspotFlush } from '../index.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';
import { PUBLIC, SECRET, event, send, until } from './support/webhooks.js';

let providers: FakeServer;
let hs: FakeHubspot;
let app: Awaited<ReturnType<typeof startTestApp>>;
let ctx: TriggerContext;

beforeAll(async () => {
  providers = await startFakeServer({
    'POST /pp': (req) => ({ json: { found: true, fields: { 'person.firstName': 'Jane', 'person.lastName': `Doe-${(req.json as { workEmail: string }).workEmail.split('@')[0]}`, 'person.title': 'VP Sales' }, confidence: 0.9 } }),
  });
  hs = await startFakeHubspot();
  app = await startTestApp({
    file: 'hubspot-intake-state',
    plugins: { pp: httpProvider({ id: 'pp', needs: [['workEmail']], returns: ['person.firstName', 'person.lastName', 'person.title'] }), hubspot: hubspotTrigger as never },
    overrides: {
      plugins: { providers: ['pp'], triggers: ['hubspot'] },
      providers: { pp: { baseUrl: providers.url } },
      waterfalls: { personProfile: ['pp'], companyProfile: [] },
      queue: { concurrency: 20 },
      // Partial chunks wait long here: the test says when to write them (hubspotFlush).
      triggers: { hubspot: { accessToken: 'test-hubspot-token', clientSecret: SECRET, portalIds: '62515', apiUrl: hs.url, publicUrl: PUBLIC, drainIntervalMs: 300, drainDelayMs: 100, writeDelayMs: 600_000, companies: 'off' } },
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

const props = (id: string) => hs.objects.contacts.get(id)!.properties;
const providerCalls = () => providers.requests.filter((r) => r.path === '/pp').length;
const db = () => app.store.connection.db!;
const pendingWrites = () => db().collection('plugin_hubspot_writes').countDocuments({});
const batchesStarted = async () => (await ctx.service.activity('hubspot', new Date(0), 10_000)).filter((e) => e.action === 'batch').length;
const drained = async () => (await db().collection('plugin_hubspot_events').countDocuments({})) === 0;

test('a steady stream of small webhook deliveries is written back in chunks of 100, not one write per delivery', async () => {
  const ids = Array.from({ length: 150 }, (_, i) => hs.add('contacts', { email: `s${i}@stream-hs.com` }));
  for (let i = 0; i < ids.length; i += 10) {
    expect((await send(app.port!, ids.slice(i, i + 10).map((id) => event('contact.creation', id)))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
  }
  const mine = new Set(ids);
  const calls = (path: string) => hs.calls.filter((c) => c.path === path && c.body.inputs.some((x: { id: string }) => mine.has(x.id)));
  // 100 written as soon as they are there; the other 50 wait for more (writeDelayMs).
  await until(() => ids.filter((id) => props(id).enrichbot_last_enriched_at).length === 100, 'the first 100 written', 240_000);
  await until(async () => (await pendingWrites()) === 50, 'the other 50 queued', 240_000);
  await hubspotFlush(ctx, { all: true });
  expect(ids.every((id) => props(id).enrichbot_last_enriched_at)).toBe(true);
  expect(calls('/crm/v3/objects/contacts/batch/update').map((c) => c.body.inputs.length)).toEqual([100, 50]);
  // The re-read before writing asks only for what is written.
  const reads = hs.calls.filter((c) => c.path === '/crm/v3/objects/contacts/batch/read' && c.body.inputs.some((x: { id: string }) => mine.has(x.id)) && c.body.properties.includes('jobtitle'));
  expect(reads.map((c) => c.body.inputs.length)).toEqual([100, 50]);
  expect(reads[0].body.properties.sort()).toEqual(['firstname', 'jobtitle', 'lastname']);
}, 300_000);

const objectDoc = (id: string) => db().collection('plugin_hubspot_objects').findOne({ _id: `62515:contacts:${id}` as never });

test('a merge moves enrichbot\'s state to the surviving contact and costs nothing: no enrichment for the merged-in email or the new record', async () => {
  const primary = hs.add('contacts', { email: 'keep@merge-hs.com' });
  const merged = hs.add('contacts', { email: 'dup@merge-hs.com' });
  await send(app.port!, [event('contact.creation', primary), event('contact.creation', merged)]);
  await until(async () => (await objectDoc(primary)) && (await objectDoc(merged)) && (await pendingWrites()) >= 2, 'both enriched');
  await hubspotFlush(ctx, { all: true });
  const calls = providerCalls();
  const batches = await batchesStarted();
  const spent = (await ctx.service.spend(new Date().toISOString().slice(0, 10), 'hubspot')).totalUsd;

  // HubSpot merged them into the primary; the merged-in email shows up as a change on it.
  hs.objects.contacts.delete(merged);
  await send(app.port!, [event('contact.merge', primary, { primaryObjectId: primary, mergedObjectIds: [merged], numberOfPropertiesMoved: 3 })]);
  await until(drained, 'merge processed');
  await send(app.port!, [event('contact.propertyChange', primary, { propertyName: 'email', propertyValue: 'dup@merge-hs.com', changeSource: 'CRM_UI' })]);
  await until(drained, 'email change processed');
  expect(await objectDoc(merged)).toBeNull();
  expect(await objectDoc(primary)).toMatchObject({ input: 'keep@merge-hs.com', others: ['dup@merge-hs.com'] });

  // A merge into a new record: its creation event is no new person either.
  const fresh = hs.add('contacts', { email: 'keep@merge-hs.com' });
  hs.objects.contacts.delete(primary);
  await send(app.port!, [event('contact.merge', fresh, { primaryObjectId: primary, mergedObjectIds: [], newObjectId: fresh }), event('contact.creation', fresh, { occurredAt: Date.now() + 1 })]);
  await until(drained, 'second merge processed');
  await new Promise((r) => setTimeout(r, 500));
  expect(await objectDoc(fresh)).toMatchObject({ input: 'keep@merge-hs.com', others: ['dup@merge-hs.com'] });
  expect(await objectDoc(primary)).toBeNull();
  expect(providerCalls()).toBe(calls);
  expect(await batchesStarted()).toBe(batches);
  expect((await ctx.service.spend(new Date().toISOString().slice(0, 10), 'hubspot')).totalUsd).toBe(spent);
}, 120_000);

/** Every document of every collection, and every Redis value under the test's prefix, as text. */
async function everythingStored(): Promise<{ where: string; text: string }[]> {
  const out: { where: string; text: string }[] = [];
  const conn = await mongoose.createConnection(app.names.mongodbUrl).asPromise();
  try {
    for (const c of await conn.db!.listCollections().toArray()) out.push({ where: `collection ${c.name}`, text: JSON.stringify(await conn.db!.collection(c.name).find({}).toArray()) });
  } finally {
    await conn.close();
  }
  const redis = new Redis(app.names.redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${app.names.prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string' ? await redis.get(key) : type === 'hash' ? await redis.hgetall(key) : type === 'list' ? await redis.lrange(key, 0, -1) : type === 'set' ? await redis.smembers(key) : type === 'zset' ? await redis.zrange(key, '0', '-1') : null;
        out.push({ where: `redis ${key}`, text: `${key} ${JSON.stringify(value)}` });
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return out;
}

test('after a privacy deletion, a new contact with the same email is not enriched and the email is stored nowhere, in no collection and no Redis key', async () => {
  const email = 'forget.me@tomb-hs.com';
  const first = hs.add('contacts', { email });
  await send(app.port!, [event('contact.creation', first)]);
  await until(() => objectDoc(first), 'enriched');
  await until(async () => (await pendingWrites()) >= 1, 'queued for write-back');
  await send(app.port!, [event('contact.privacyDeletion', first)]);
  await until(drained, 'deletion processed');
  const calls = providerCalls();
  const batches = await batchesStarted();

  // Someone creates the person again in HubSpot.
  const again = hs.add('contacts', { email });
  await send(app.port!, [event('contact.creation', again), event('contact.propertyChange', again, { propertyName: 'email', propertyValue: email, changeSource: 'CRM_UI' })]);
  await until(drained, 'the new contact processed');
  await new Promise((r) => setTimeout(r, 500));
  expect(providerCalls()).toBe(calls);
  expect(await batchesStarted()).toBe(batches);
  const found = (await everythingStored()).filter((s) => s.text.toLowerCase().includes(email)).map((s) => s.where);
  expect(found).toEqual([]);
}, 120_000);
