// Conflict review in the App Home tab: a team sees its own HubSpot conflicts newest first, ten a
// page; Accept writes the provider's value of exactly that property (one batch update for a
// page), Keep dismisses; both are logged with who pressed them; only members of the reviewers'
// user group or workspace admins may press them. Real App, Bolt, @slack/web-api and
// @hubspot/api-client against the local fake Slack and fake HubSpot.
import { jest } from '@jest/globals';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import hubspot from '../../hubspot/index.js';
import { startFakeHubspot, type FakeHubspot } from '../../hubspot/test/support/fake-hubspot.js';
import slack from '../index.js';
import { TEST_TOKEN_KEYS, installationStore } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from './support/fake-slack.js';
import { sendSigned, eventBody, homeActionBody, FORM } from './support/slack-requests.js';

const SECRET = 'conflict-signing-secret';
let fake: FakeSlack;
let hs: FakeHubspot;
let app: Awaited<ReturnType<typeof startTestApp>>;
let events = 0;

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-top': 'TOP', 'xoxb-oth': 'TOTH' } });
  hs = await startFakeHubspot();
  app = await startTestApp({
    file: 'slack-conflict-review',
    role: 'all',
    plugins: { slack, hubspot: hubspot as never },
    overrides: {
      plugins: { providers: [], triggers: ['slack', 'hubspot'] },
      triggers: {
        slack: { signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0, clientId: 'cid', clientSecret: 'csecret', tokenKeys: TEST_TOKEN_KEYS, allowedTeams: 'TOP,TOTH', conflictReviewers: 'SREVIEW' },
        hubspot: { accessToken: 'test-hubspot-token', clientSecret: 'hs-secret', portalIds: '62515', apiUrl: hs.url, publicUrl: 'https://bot.example.com', drainIntervalMs: 60_000, pushWorkspaces: ['slack:TOP'] },
      },
    },
  });
  const store = installationStore(app as never);
  for (const [team, token] of [['TOP', 'xoxb-top'], ['TOTH', 'xoxb-oth']]) {
    await store.storeInstallation({ team: { id: team }, enterprise: undefined, user: { id: 'UINSTALL', token: undefined, scopes: undefined }, bot: { id: `B${team}`, userId: `UBOT${team}`, token, scopes: ['chat:write'] }, isEnterpriseInstall: false } as never);
  }
  fake.setUserGroup('TOP', 'SREVIEW', ['UREVIEWER']);
  fake.setAdmin('TOP', 'UADMIN');
  fake.setAdmin('TOTH', 'UOTHADMIN');
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await hs?.close();
});

const base = () => `http://127.0.0.1:${app.port}`;
const conflicts = () => (app.registry.context('hubspot') as TriggerContext).collection('conflicts');
const press = (team: string, user: string, actionId: string, value: string) => sendSigned(base(), { secret: SECRET, contentType: FORM, body: homeActionBody({ team, user, actionId, value }) });
const writes = () => hs.calls.filter((c) => c.method !== 'GET' && !c.path.endsWith('/search') && !c.path.endsWith('/batch/read'));

/** A contact HubSpot holds with a job title and a city, and a provider's other job title kept as a conflict of `workspace`. */
async function conflictOn(email: string, at: string, workspace = 'slack:TOP'): Promise<{ id: string; objectId: string }> {
  const objectId = hs.add('contacts', { email, jobtitle: 'CEO', city: 'Paris' });
  // Conflict rows as the write-back keeps them: keyed by portal.
  const id = `62515:contacts:${objectId}:jobtitle`;
  await conflicts().replaceOne(
    { _id: id as never },
    { portalId: '62515', objectType: 'contacts', objectId, record: email, workspace, property: 'jobtitle', field: 'person.title', hubspotValue: 'CEO', providerValue: `CTO of ${email}`, source: 'apollo', confidence: 0.8, at },
    { upsert: true },
  );
  return { id, objectId };
}

/** The next Home tab published for `user` after `after` calls. */
async function homeFor(user: string, after: number): Promise<SlackCall> {
  return fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === user && fake.calls.indexOf(c) >= after);
}
async function openHome(team: string, user: string): Promise<{ text: string; buttons: { action_id: string; value: string; text: { text: string } }[] }> {
  const after = fake.calls.length;
  await sendSigned(base(), { secret: SECRET, contentType: 'application/json', body: eventBody({ team, eventId: `EvConf${++events}`, event: { type: 'app_home_opened', user, tab: 'home', channel: `D${user}` } }) });
  return viewOf(await homeFor(user, after));
}
function viewOf(call: SlackCall) {
  const view = (typeof call.args.view === 'string' ? JSON.parse(call.args.view) : call.args.view) as { blocks: { type: string; elements?: { action_id: string; value: string; text: { text: string } }[] }[] };
  return { text: JSON.stringify(view.blocks), buttons: view.blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []) };
}
const valueOf = (home: Awaited<ReturnType<typeof openHome>>, actionId: string, needle: string) => home.buttons.find((b) => b.action_id === actionId && b.value.includes(needle))!.value;

test('the App Home lists only the team\'s own conflicts, newest first, ten a page with Next and Previous', async () => {
  await conflicts().deleteMany({});
  for (let i = 0; i < 12; i++) await conflictOn(`page${String(i).padStart(2, '0')}@list.com`, new Date(Date.UTC(2026, 0, 1 + i)).toISOString());
  await conflictOn('secret@other-team.com', '2026-02-01T00:00:00.000Z', 'slack:TOTH');

  const first = await openHome('TOP', 'UVIEWER');
  expect(first.text).toContain('12 open');
  const order = [...first.text.matchAll(/page(\d\d)@list\.com/g)].map((m) => m[1]);
  expect([...new Set(order)]).toEqual(['11', '10', '09', '08', '07', '06', '05', '04', '03', '02']);
  expect(first.text).toContain('CEO');
  expect(first.text).toContain('apollo');
  expect(first.text).not.toContain('other-team.com');
  expect(first.buttons.map((b) => b.text.text)).toContain('Next');
  expect(first.buttons.map((b) => b.text.text)).not.toContain('Previous');

  const after = fake.calls.length;
  await press('TOP', 'UVIEWER', 'conflict_page', first.buttons.find((b) => b.text.text === 'Next')!.value);
  const second = viewOf(await homeFor('UVIEWER', after));
  expect([...new Set([...second.text.matchAll(/page(\d\d)@list\.com/g)].map((m) => m[1]))]).toEqual(['01', '00']);
  expect(second.buttons.map((b) => b.text.text)).toContain('Previous');
  expect(second.buttons.map((b) => b.text.text)).not.toContain('Next');

  const other = await openHome('TOTH', 'UOTH');
  expect(other.text).toContain('secret@other-team.com');
  expect(other.text).not.toContain('list.com');
});

test('Accept from a user outside the reviewers\' group (not an admin) is refused with an ephemeral message and writes nothing', async () => {
  await conflicts().deleteMany({});
  const c = await conflictOn('refused@accept.com', '2026-03-01T00:00:00.000Z');
  const home = await openHome('TOP', 'UOUTSIDER');
  const before = writes().length;
  await press('TOP', 'UOUTSIDER', 'conflict_accept', valueOf(home, 'conflict_accept', c.id));
  const refusal = await fake.waitFor((x) => x.method === 'chat.postEphemeral' && x.args.user === 'UOUTSIDER', 10_000);
  expect(String(refusal.args.text)).toContain('Only members');
  expect(refusal.args.channel).toBe('DUOUTSIDER');
  expect(writes()).toHaveLength(before);
  expect(hs.objects.contacts.get(c.objectId)!.properties.jobtitle).toBe('CEO');
  expect(await conflicts().countDocuments({ _id: c.id as never })).toBe(1);
  expect((await app.service.activity('slack:TOP', new Date(0))).some((e) => e.action === 'conflict')).toBe(false);
});

test('Accept from a member of the reviewers\' group writes exactly that property of that record, removes the conflict and logs who pressed it', async () => {
  await conflicts().deleteMany({});
  const c = await conflictOn('accepted@accept.com', '2026-03-02T00:00:00.000Z');
  const home = await openHome('TOP', 'UREVIEWER');
  const before = writes().length;
  const after = fake.calls.length;
  await press('TOP', 'UREVIEWER', 'conflict_accept', valueOf(home, 'conflict_accept', c.id));
  const republished = viewOf(await homeFor('UREVIEWER', after));
  expect(republished.text).not.toContain('accepted@accept.com');
  const sent = writes().slice(before);
  expect(sent).toHaveLength(1);
  expect(sent[0].path).toBe('/crm/v3/objects/contacts/batch/update');
  expect(sent[0].body).toEqual({ inputs: [{ id: c.objectId, properties: { jobtitle: 'CTO of accepted@accept.com' } }] });
  expect(hs.objects.contacts.get(c.objectId)!.properties).toMatchObject({ jobtitle: 'CTO of accepted@accept.com', city: 'Paris', email: 'accepted@accept.com' });
  expect(await conflicts().countDocuments({ _id: c.id as never })).toBe(0);
  const logged = (await app.service.activity('slack:TOP', new Date(0))).filter((e) => e.action === 'conflict');
  expect(logged).toEqual([expect.objectContaining({ actor: 'UREVIEWER', subject: 'accepted@accept.com', detail: expect.objectContaining({ decision: 'accept', property: 'jobtitle', providerValue: 'CTO of accepted@accept.com', destinationValue: 'CEO' }) })]);
});

test('Accept all on a page writes the page\'s values in one batch update', async () => {
  await conflicts().deleteMany({});
  const all = [await conflictOn('one@page.com', '2026-03-03T00:00:00.000Z'), await conflictOn('two@page.com', '2026-03-04T00:00:00.000Z'), await conflictOn('three@page.com', '2026-03-05T00:00:00.000Z')];
  const home = await openHome('TOP', 'UADMIN');
  const pageButton = home.buttons.find((b) => b.text.text === 'Accept all on this page')!;
  const before = writes().length;
  const after = fake.calls.length;
  await press('TOP', 'UADMIN', 'conflict_accept', pageButton.value);
  await homeFor('UADMIN', after);
  const sent = writes().slice(before);
  expect(sent).toHaveLength(1);
  expect((sent[0].body as { inputs: { id: string }[] }).inputs.map((i) => i.id).sort()).toEqual(all.map((c) => c.objectId).sort());
  expect(await conflicts().countDocuments({})).toBe(0);
});

test('Keep from a workspace admin dismisses the conflict without writing to HubSpot, and is logged', async () => {
  await conflicts().deleteMany({});
  const c = await conflictOn('kept@keep.com', '2026-03-06T00:00:00.000Z');
  const home = await openHome('TOP', 'UADMIN');
  const before = writes().length;
  const after = fake.calls.length;
  await press('TOP', 'UADMIN', 'conflict_keep', valueOf(home, 'conflict_keep', c.id));
  await homeFor('UADMIN', after);
  expect(writes()).toHaveLength(before);
  expect(hs.objects.contacts.get(c.objectId)!.properties.jobtitle).toBe('CEO');
  expect(await conflicts().countDocuments({ _id: c.id as never })).toBe(0);
  const logged = (await app.service.activity('slack:TOP', new Date(0))).filter((e) => e.action === 'conflict' && e.subject === 'kept@keep.com');
  expect(logged).toEqual([expect.objectContaining({ actor: 'UADMIN', detail: expect.objectContaining({ decision: 'keep' }) })]);
});

test("an admin of another team cannot settle this team's conflict, even with its id", async () => {
  await conflicts().deleteMany({});
  const c = await conflictOn('foreign@scope.com', '2026-03-07T00:00:00.000Z');
  const before = writes().length;
  const after = fake.calls.length;
  await press('TOTH', 'UOTHADMIN', 'conflict_accept', JSON.stringify({ i: [c.id], o: 0 }));
  await homeFor('UOTHADMIN', after);
  expect(writes()).toHaveLength(before);
  expect(await conflicts().countDocuments({ _id: c.id as never })).toBe(1);
  expect((await app.service.activity('slack:TOTH', new Date(0))).some((e) => e.action === 'conflict')).toBe(false);
});

test("a value HubSpot refuses on Accept stays listed for the team with HubSpot's reason, and the reviewer is told", async () => {
  await conflicts().deleteMany({});
  hs.define('contacts', { name: 'hs_tier', label: 'Tier', type: 'enumeration', fieldType: 'select', options: [{ label: 'Gold', value: 'gold' }] });
  const objectId = hs.add('contacts', { email: 'tier@refused.com', hs_tier: 'gold' });
  const id = `62515:contacts:${objectId}:hs_tier`;
  await conflicts().replaceOne({ _id: id as never }, { portalId: '62515', objectType: 'contacts', objectId, record: 'tier@refused.com', workspace: 'slack:TOP', property: 'hs_tier', field: 'company.tier', hubspotValue: 'gold', providerValue: 'platinum', source: 'apollo', confidence: 0.7, at: '2026-03-08T00:00:00.000Z' }, { upsert: true });
  const after = fake.calls.length;
  await press('TOP', 'UREVIEWER', 'conflict_accept', JSON.stringify({ i: [id], o: 0 }));
  const told = await fake.waitFor((x) => x.method === 'chat.postEphemeral' && x.args.user === 'UREVIEWER' && fake.calls.indexOf(x) >= after, 10_000);
  expect(String(told.args.text)).toContain('HubSpot refused');
  await homeFor('UREVIEWER', after);
  expect(hs.objects.contacts.get(objectId)!.properties.hs_tier).toBe('gold');
  expect(await conflicts().findOne({ _id: id as never })).toMatchObject({ workspace: 'slack:TOP', providerValue: 'platinum', reason: expect.stringContaining('platinum was not one of the allowed options') });
  const home = await openHome('TOP', 'UVIEWER2');
  expect(home.text).toContain('tier@refused.com');
  expect((await app.service.activity('slack:TOP', new Date(0))).some((e) => e.action === 'conflict' && e.subject === 'tier@refused.com')).toBe(false);
});

test('Accept of a conflict whose HubSpot value someone changed since writes nothing and says so; the conflict stays', async () => {
  await conflicts().deleteMany({});
  const c = await conflictOn('edited@stale.com', '2026-03-09T00:00:00.000Z');
  hs.objects.contacts.get(c.objectId)!.properties.jobtitle = 'Founder';
  const before = writes().length;
  const after = fake.calls.length;
  await press('TOP', 'UREVIEWER', 'conflict_accept', JSON.stringify({ i: [c.id], o: 0 }));
  const told = await fake.waitFor((x) => x.method === 'chat.postEphemeral' && x.args.user === 'UREVIEWER' && fake.calls.indexOf(x) >= after, 10_000);
  expect(String(told.args.text)).toContain('changed since');
  expect(writes()).toHaveLength(before);
  expect(hs.objects.contacts.get(c.objectId)!.properties.jobtitle).toBe('Founder');
  expect(await conflicts().countDocuments({ _id: c.id as never })).toBe(1);
});

test("the write-back's own conflicts (HubSpot's workspace) are shown to a team bound to the account, not to another team", async () => {
  await conflicts().deleteMany({});
  await conflictOn('writeback@own.com', '2026-03-10T00:00:00.000Z', 'hubspot');
  expect((await openHome('TOP', 'UVIEWER3')).text).toContain('writeback@own.com');
  expect((await openHome('TOTH', 'UOTH3')).text).not.toContain('writeback@own.com');
});

test('the operator count of open conflicts (for the digest) counts every workspace\'s, and lists none of them', async () => {
  await conflicts().deleteMany({});
  await conflictOn('count-a@acme.com', '2026-03-01T10:00:00.000Z', 'slack:TOP');
  await conflictOn('count-b@acme.com', '2026-03-01T11:00:00.000Z', 'slack:TNEW');
  const answer = await app.service.conflicts('hubspot', { op: 'count' });
  expect(answer).toEqual({ items: [], total: 2 });
});
