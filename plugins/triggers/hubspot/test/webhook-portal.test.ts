// A webhook is taken only from the HubSpot portals this deployment serves (portalIds,
// HUBSPOT_PORTAL_IDS): a correctly signed request about another portal (the same app installed
// elsewhere) is answered 401 and stores nothing; in a mixed request only the known portal's
// events are kept.
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import hubspotTrigger from '../index.js';
import { signV3 } from '../signature.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';

const SECRET = 'portal-client-secret';
const PUBLIC = 'https://bot.example.com';
let hs: FakeHubspot;
let app: Awaited<ReturnType<typeof startTestApp>>;
let seq = 1;

beforeAll(async () => {
  hs = await startFakeHubspot();
  app = await startTestApp({
    file: 'hubspot-portal',
    plugins: { hubspot: hubspotTrigger as never },
    overrides: {
      plugins: { providers: [], triggers: ['hubspot'] },
      // Queued events stay queued: this test is about what is taken, not what is done with it.
      triggers: { hubspot: { accessToken: 'portal-token', clientSecret: SECRET, apiUrl: hs.url, publicUrl: PUBLIC, portalIds: '62515', drainIntervalMs: 3_600_000, drainDelayMs: 3_600_000 } },
    },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await hs?.close();
});

const event = (portalId: number) => ({ eventId: seq++, subscriptionId: 7, portalId, appId: 1, occurredAt: Date.now(), subscriptionType: 'contact.creation', attemptNumber: 0, objectId: 1000 + seq });

async function send(events: unknown[]) {
  const body = JSON.stringify(events);
  const ts = String(Date.now());
  const res = await fetch(`http://127.0.0.1:${app.port}/webhooks/hubspot`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': ts, 'x-hubspot-signature-v3': signV3(SECRET, 'POST', `${PUBLIC}/webhooks/hubspot`, body, ts) },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const storedPortals = async () => (await app.store.connection.db!.collection('plugin_hubspot_events').find({}).toArray()).flatMap((d) => (d.events as { portalId: string }[]).map((e) => e.portalId));

test('a signed webhook about a portal that is not configured is refused with 401 and nothing is stored', async () => {
  const res = await send([event(99999), event(99999)]);
  expect(res.status).toBe(401);
  expect(String(res.json.error)).toContain('99999');
  expect(await storedPortals()).toEqual([]);
});

test("in a request mixing portals, the configured portal's events are kept and the others refused", async () => {
  const res = await send([event(62515), event(99999)]);
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({ queued: 1, refused: 1 });
  expect(await storedPortals()).toEqual(['62515']);
});
