// One deployment serving two HubSpot portals, each with its own private-app token
// (accessTokens): records are keyed `<portal>:<type>:<id>`, so the same contact id in both
// portals is enriched and written back to its own portal, and a privacy deletion in one leaves
// the other alone. Data from before keys carried a portal belongs to the first configured portal.
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import hubspotTrigger from '../index.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';
import { startPortalRouter } from './support/portal-router.js';
import { event, send, until, PUBLIC, SECRET } from './support/webhooks.js';

const A = '62515';
const B = '77001';
let providers: FakeServer;
let hsA: FakeHubspot;
let hsB: FakeHubspot;
let router: Awaited<ReturnType<typeof startPortalRouter>>;
let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  providers = await startFakeServer({
    'POST /pp': (req) => ({ json: { found: true, fields: { 'person.lastName': `Doe-${(req.json as { workEmail: string }).workEmail.split('@')[0]}`, 'person.title': 'VP Sales' }, confidence: 0.9 } }),
  });
  hsA = await startFakeHubspot({ token: 'token-a' });
  hsB = await startFakeHubspot({ token: 'token-b' });
  router = await startPortalRouter({ 'token-a': hsA.url, 'token-b': hsB.url });
  app = await startTestApp({
    file: 'hubspot-portals',
    plugins: { pp: httpProvider({ id: 'pp', needs: [['workEmail']], returns: ['person.lastName', 'person.title'] }), hubspot: hubspotTrigger as never },
    overrides: {
      plugins: { providers: ['pp'], triggers: ['hubspot'] },
      providers: { pp: { baseUrl: providers.url } },
      waterfalls: { personProfile: ['pp'], companyProfile: [] },
      triggers: { hubspot: { accessTokens: `${A}=token-a,${B}=token-b`, clientSecret: SECRET, portalIds: `${A},${B}`, apiUrl: router.url, publicUrl: PUBLIC, drainIntervalMs: 300, drainDelayMs: 100, writeDelayMs: 100, companies: 'off' } },
    },
  });
}, 120_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await router?.close();
  await Promise.all([providers?.close(), hsA?.close(), hsB?.close()]);
}, 60_000);

const objects = () => app.store.connection.db!.collection('plugin_hubspot_objects');

test('the same contact id in two portals is enriched and written back to each portal on its own', async () => {
  const idA = hsA.add('contacts', { email: 'ann@portal-a.com' });
  const idB = hsB.add('contacts', { email: 'bob@portal-b.com' });
  expect(idA).toBe(idB);
  const res = await send(app.port!, [event('contact.creation', idA, { portalId: Number(A) }), event('contact.creation', idB, { portalId: Number(B) })]);
  expect(res.status).toBe(200);
  await until(() => hsA.objects.contacts.get(idA)!.properties.lastname && hsB.objects.contacts.get(idB)!.properties.lastname, 'both written back', 60_000);
  expect(hsA.objects.contacts.get(idA)!.properties.lastname).toBe('Doe-ann');
  expect(hsB.objects.contacts.get(idB)!.properties.lastname).toBe('Doe-bob');
  // Each portal was only asked about its own record, with its own token.
  expect(hsA.calls.filter((c) => c.status === 401)).toEqual([]);
  expect(hsB.calls.filter((c) => c.status === 401)).toEqual([]);
  expect((await objects().findOne({ _id: `${A}:contacts:${idA}` as never }))?.input).toBe('ann@portal-a.com');
  expect((await objects().findOne({ _id: `${B}:contacts:${idB}` as never }))?.input).toBe('bob@portal-b.com');
}, 90_000);

test("a privacy deletion in one portal forgets that portal's contact only", async () => {
  const idA = hsA.add('contacts', { email: 'cat@portal-a.com' });
  const idB = hsB.add('contacts', { email: 'dan@portal-b.com' });
  await send(app.port!, [event('contact.creation', idA, { portalId: Number(A) }), event('contact.creation', idB, { portalId: Number(B) })]);
  await until(async () => (await objects().countDocuments({ _id: { $in: [`${A}:contacts:${idA}`, `${B}:contacts:${idB}`] as never[] } })) === 2, 'both known');
  await send(app.port!, [event('contact.privacyDeletion', idB, { portalId: Number(B) })]);
  await until(async () => (await objects().countDocuments({ _id: `${B}:contacts:${idB}` as never })) === 0, "portal B's contact forgotten");
  expect((await objects().findOne({ _id: `${A}:contacts:${idA}` as never }))?.input).toBe('cat@portal-a.com');
}, 90_000);

test('a record kept before keys carried a portal belongs to the first configured portal', async () => {
  // `contacts:<id>` is how a single-portal deployment stored it.
  await objects().insertOne({ _id: 'contacts:555001' as never, input: 'old@portal-a.com' });
  await objects().insertOne({ _id: 'contacts:555002' as never, input: 'keep@portal-a.com' });
  // The same id in the second portal is another person: its deletion leaves the old record alone.
  await send(app.port!, [event('contact.privacyDeletion', '555002', { portalId: Number(B) })]);
  await send(app.port!, [event('contact.privacyDeletion', '555001', { portalId: Number(A) })]);
  await until(async () => (await objects().countDocuments({ _id: 'contacts:555001' as never })) === 0, 'the old record forgotten in the first portal');
  expect(await objects().countDocuments({ _id: 'contacts:555002' as never })).toBe(1);
}, 60_000);
