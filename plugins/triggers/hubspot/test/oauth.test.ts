// A HubSpot public app installed by a second portal (OAuth v1) next to a private-app portal:
// /webhooks/hubspot/install redirects to HubSpot's authorize page with a single-use state, the
// callback exchanges the code and stores the portal's tokens sealed, the installed portal's
// webhooks are taken and its records written back with its OAuth token, and a token near expiry
// is refreshed exactly once while two App instances race for it.
import { randomBytes } from 'node:crypto';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import hubspotTrigger from '../index.js';
import { forPortal, hubspotFor } from '../state.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';
import { startPortalRouter } from './support/portal-router.js';
import { event, send, until, PUBLIC, SECRET } from './support/webhooks.js';

const A = '62515';
const B = '77001';
const KEYS = `k1:${randomBytes(32).toString('base64')}`;
let providers: FakeServer;
let hsA: FakeHubspot;
let hsB: FakeHubspot;
let router: Awaited<ReturnType<typeof startPortalRouter>>;
let app: Awaited<ReturnType<typeof startTestApp>>;
let app2: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  providers = await startFakeServer({
    'POST /pp': (req) => ({ json: { found: true, fields: { 'person.lastName': `Doe-${(req.json as { workEmail: string }).workEmail.split('@')[0]}`, 'person.title': 'CTO' }, confidence: 0.9 } }),
  });
  hsA = await startFakeHubspot({ token: 'token-a' });
  hsB = await startFakeHubspot({ token: 'unused', oauth: { clientId: 'client-1', clientSecret: SECRET, code: 'the-code', hubId: Number(B) } });
  router = await startPortalRouter({ 'token-a': hsA.url }, hsB.url);
  const settings = {
    plugins: { providers: ['pp'], triggers: ['hubspot'] },
    providers: { pp: { baseUrl: providers.url } },
    waterfalls: { personProfile: ['pp'], companyProfile: [] },
    triggers: { hubspot: { accessToken: 'token-a', clientId: 'client-1', tokenKeys: KEYS, clientSecret: SECRET, portalIds: A, apiUrl: router.url, publicUrl: PUBLIC, authorizeUrl: 'https://app.hubspot.example/oauth/authorize', drainIntervalMs: 300, drainDelayMs: 100, writeDelayMs: 100, companies: 'off' } },
  };
  const plugins = { pp: httpProvider({ id: 'pp', needs: [['workEmail']], returns: ['person.lastName', 'person.title'] }), hubspot: hubspotTrigger as never };
  app = await startTestApp({ file: 'hubspot-oauth', plugins, overrides: settings });
  app2 = await startTestApp({ file: 'hubspot-oauth', names: app.names, plugins, overrides: settings });
}, 120_000);
afterAll(async () => {
  await app2?.stop();
  await app?.stop();
  if (app) await dropTestData(app.names);
  await router?.close();
  await Promise.all([providers?.close(), hsA?.close(), hsB?.close()]);
}, 60_000);

const base = () => `http://127.0.0.1:${app.port}/webhooks/hubspot`;
const installs = () => app.store.connection.db!.collection('plugin_hubspot_installs');

test('an install redirects to HubSpot with a single-use state; the callback stores the portal\'s tokens sealed', async () => {
  const res = await fetch(`${base()}/install`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const to = new URL(res.headers.get('location')!);
  expect(`${to.origin}${to.pathname}`).toBe('https://app.hubspot.example/oauth/authorize');
  expect(to.searchParams.get('client_id')).toBe('client-1');
  expect(to.searchParams.get('redirect_uri')).toBe(`${PUBLIC}/webhooks/hubspot/oauth-callback`);
  const state = to.searchParams.get('state')!;
  // Before the install, portal B's webhooks are refused.
  expect((await send(app.port!, [event('contact.creation', '999', { portalId: Number(B) })])).status).toBe(401);

  const cb = await fetch(`${base()}/oauth-callback?code=the-code&state=${state}`);
  expect(cb.status).toBe(200);
  expect(await cb.text()).toContain(B);
  const again = await fetch(`${base()}/oauth-callback?code=the-code&state=${state}`);
  expect(again.status).toBe(400);
  expect(await again.text()).toContain('already used');
  const forged = await fetch(`${base()}/oauth-callback?code=the-code&state=${'0'.repeat(32)}`);
  expect(forged.status).toBe(400);

  const doc = await installs().findOne({ _id: B as never });
  expect(doc).toBeTruthy();
  expect(JSON.stringify(doc)).not.toContain('oauth-access-');
  expect(JSON.stringify(doc)).not.toContain('oauth-refresh-');
}, 60_000);

test("an installed portal's webhooks are taken and its records written back with its OAuth token", async () => {
  const idB = hsB.add('contacts', { email: 'eve@portal-b.com' });
  const res = await send(app.port!, [event('contact.creation', idB, { portalId: Number(B) })]);
  expect(res.status).toBe(200);
  await until(() => hsB.objects.contacts.get(idB)!.properties.lastname, 'written back to portal B', 60_000);
  expect(hsB.objects.contacts.get(idB)!.properties.lastname).toBe('Doe-eve');
  expect(hsB.calls.filter((c) => c.status === 401)).toEqual([]);
}, 90_000);

test('a token near expiry is refreshed exactly once while two App instances race for it', async () => {
  const refreshes = () => hsB.calls.filter((c) => c.path === '/oauth/v1/token' && c.method === 'POST').length;
  const before = refreshes();
  await installs().updateOne({ _id: B as never }, { $set: { expiresAt: Date.now() + 1000 } });
  const id = hsB.add('contacts', { email: 'race@portal-b.com' });
  const ctxs = [app, app2].map((a) => a.registry.context('hubspot') as TriggerContext);
  const reads = await Promise.all(ctxs.flatMap((c) => [1, 2, 3].map(() => forPortal(hubspotFor(c), B).api.read('contacts', [id], ['email']))));
  expect(reads.every((r) => r[0]?.properties.email === 'race@portal-b.com')).toBe(true);
  expect(refreshes() - before).toBe(1);
  expect(hsB.calls.filter((c) => c.status === 401)).toEqual([]);
}, 60_000);
