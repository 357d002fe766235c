// "Push to HubSpot" from a Slack card is scoped to the workspace the click came from: a workspace
// may write only into the HubSpot account bound to it (HUBSPOT_PUSH_WORKSPACES; by default
// HubSpot's own workspace, or the team of a single-workspace Slack install). Anything else is
// refused with a message to the person and a warning in the log, and HubSpot is not touched.
// Notify lands only in the Slack team it names. Real App, Bolt, @slack/web-api and
// @hubspot/api-client against the local fake Slack and fake HubSpot.
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { createLogger } from '../../../../src/logger.js';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import hubspot, { hubspotConflicts } from '../../hubspot/index.js';
import { startFakeHubspot, type FakeHubspot } from '../../hubspot/test/support/fake-hubspot.js';
import { signV3 } from '../../hubspot/signature.js';
import slack from '../index.js';
import { TEST_TOKEN_KEYS, installationStore } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from './support/fake-slack.js';
import { sendSigned, commandBody, actionBody, viewSubmissionBody, FORM } from './support/slack-requests.js';

const SECRET = 'push-signing-secret';
const HS_SECRET = 'hs-secret';
const PUBLIC = 'https://bot.example.com';
let fake: FakeSlack;
let hs: FakeHubspot;
let provider: FakeServer;
let multi: Awaited<ReturnType<typeof startTestApp>>;
let single: Awaited<ReturnType<typeof startTestApp>>;
const logLines: Record<string, unknown>[] = [];

jest.setTimeout(90_000);

const logger = () =>
  createLogger({
    level: 'warn',
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });

function startApp(file: string, slackSettings: Record<string, unknown>, hubspotSettings: Record<string, unknown> = {}) {
  return startTestApp({
    file,
    role: 'all',
    logger: logger(),
    plugins: { slack, hubspot: hubspot as never, co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: 0.001 }) },
    overrides: {
      plugins: { providers: ['co'], triggers: ['slack', 'hubspot'] },
      providers: { co: { baseUrl: provider.url } },
      waterfalls: { companyProfile: ['co'] },
      triggers: {
        slack: { signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0, ...slackSettings },
        hubspot: { accessToken: 'test-hubspot-token', clientSecret: HS_SECRET, portalIds: '62515', apiUrl: hs.url, publicUrl: PUBLIC, drainIntervalMs: 60_000, drainDelayMs: 50, ...hubspotSettings },
      },
    },
  });
}

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-op': 'TOP', 'xoxb-new': 'TNEW', 'xoxb-sole': 'TSOLE' } });
  hs = await startFakeHubspot();
  provider = await startFakeServer({ 'POST /co': (req) => ({ json: { found: true, fields: { 'company.name': `Name of ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } }) });
  // Many workspaces: the operator's team is bound to the portal, a freshly installed one is not.
  multi = await startApp('slack-push-multi', { clientId: 'cid', clientSecret: 'csecret', tokenKeys: TEST_TOKEN_KEYS, allowedTeams: 'TOP,TNEW' }, { pushWorkspaces: ['slack:TOP'] });
  const store = installationStore(multi as never);
  for (const [team, token] of [['TOP', 'xoxb-op'], ['TNEW', 'xoxb-new']]) {
    await store.storeInstallation({ team: { id: team }, enterprise: undefined, user: { id: 'UINSTALL', token: undefined, scopes: undefined }, bot: { id: `B${team}`, userId: `UBOT${team}`, token, scopes: ['chat:write'] }, isEnterpriseInstall: false } as never);
  }
  // One workspace (a bot token), no binding configured.
  single = await startApp('slack-push-single', { botToken: 'xoxb-sole' });
});
afterAll(async () => {
  for (const app of [multi, single]) {
    await app?.stop();
    if (app) await dropTestData(app.names);
  }
  await fake?.close();
  await hs?.close();
  await provider?.close();
});

const base = (app: typeof multi) => `http://127.0.0.1:${app.port}`;
const command = (app: typeof multi, team: string, text: string) => sendSigned(base(app), { secret: SECRET, contentType: FORM, body: commandBody({ team, channel: `C${team}`, user: `U${team}`, text }) });
const click = (app: typeof multi, team: string, actionId: string, value: string) => sendSigned(base(app), { secret: SECRET, contentType: FORM, body: actionBody({ team, channel: `C${team}`, user: `U${team}`, actionId, value }) });
const cardFor = (team: string, needle: string) => fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === `C${team}` && JSON.stringify(c.args.blocks ?? []).includes(needle));
const buttonValue = (c: SlackCall, actionId: string) => (c.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!.elements!.find((e) => e.action_id === actionId)!.value;
const ephemeralTo = (team: string, needle: string) => fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.channel === `C${team}` && String(c.args.text).includes(needle), 20_000);
const hubspotWrites = () => hs.calls.filter((c) => c.method !== 'GET' && !c.path.endsWith('/search') && !c.path.endsWith('/batch/read'));

test("a freshly installed team's Edit then Push to HubSpot is refused with a clear message and logged; the operator's HubSpot record is untouched", async () => {
  const company = hs.add('companies', { domain: 'shared-hs.com' });
  await command(multi, 'TNEW', 'shared-hs.com');
  const card = await cardFor('TNEW', 'Name of shared-hs.com');
  await click(multi, 'TNEW', 'enrich_edit', buttonValue(card, 'enrich_edit'));
  const opened = await fake.waitFor((c) => c.method === 'views.open' && c.token === 'xoxb-new');
  const meta = (opened.args.view as { private_metadata: string }).private_metadata;
  await sendSigned(base(multi), { secret: SECRET, contentType: FORM, body: viewSubmissionBody({ team: 'TNEW', user: 'UTNEW', privateMetadata: meta, field: 'company.name', value: 'Written from another team' }) });
  const writesBefore = hubspotWrites().length;

  await click(multi, 'TNEW', 'enrich_push', buttonValue(card, 'enrich_push'));
  const refusal = await ephemeralTo('TNEW', 'not allowed');
  expect(refusal.args.text).toContain('slack:TNEW');
  expect(refusal.args.text).toContain('HUBSPOT_PUSH_WORKSPACES');
  expect(refusal.args.text).not.toContain('slack:TOP');
  expect(hubspotWrites()).toHaveLength(writesBefore);
  expect(hs.objects.companies.get(company)!.properties.name).toBeUndefined();
  expect(logLines).toEqual(expect.arrayContaining([expect.objectContaining({ level: 40, workspace: 'slack:TNEW', msg: expect.stringContaining('push to HubSpot refused') })]));
  expect((await multi.service.activity('slack:TNEW', new Date(0))).some((e) => e.action === 'push')).toBe(false);
});

test('the team bound to the portal (HUBSPOT_PUSH_WORKSPACES) pushes its own record', async () => {
  await command(multi, 'TOP', 'bound-hs.com');
  const card = await cardFor('TOP', 'Name of bound-hs.com');
  await click(multi, 'TOP', 'enrich_push', buttonValue(card, 'enrich_push'));
  const done = await ephemeralTo('TOP', 'Pushed bound-hs.com');
  expect(done.args.text).toMatch(/company \d+ created/);
  expect([...hs.objects.companies.values()].some((o) => o.properties.domain === 'bound-hs.com' && o.properties.name === 'Name of bound-hs.com')).toBe(true);
});

test("what HubSpot kept on a push is listed as a conflict of the workspace that pushed", async () => {
  const company = hs.add('companies', { domain: 'kept-hs.com', name: 'Kept Official' });
  await command(multi, 'TOP', 'kept-hs.com');
  const card = await cardFor('TOP', 'Name of kept-hs.com');
  await click(multi, 'TOP', 'enrich_push', buttonValue(card, 'enrich_push'));
  const done = await ephemeralTo('TOP', 'Pushed kept-hs.com');
  expect(done.args.text).toContain("kept HubSpot's company.name");
  const conflicts = await hubspotConflicts(multi.registry.context('hubspot') as TriggerContext);
  expect(conflicts).toEqual(expect.arrayContaining([expect.objectContaining({ objectType: 'companies', objectId: company, property: 'name', hubspotValue: 'Kept Official', providerValue: 'Name of kept-hs.com', workspace: 'slack:TOP' })]));
});

test('with one Slack workspace and no binding configured, that team pushes; another workspace is refused', async () => {
  await command(single, 'TSOLE', 'sole-hs.com');
  const card = await cardFor('TSOLE', 'Name of sole-hs.com');
  await click(single, 'TSOLE', 'enrich_push', buttonValue(card, 'enrich_push'));
  await ephemeralTo('TSOLE', 'Pushed sole-hs.com');

  expect((await single.enrichAndWait({ workspace: 'slack:TOTHER', input: 'other-hs.com' })).status).toBe('done');
  await expect(single.service.push('slack:TOTHER', 'other-hs.com', 'hubspot', 'UOTHER')).rejects.toMatchObject({ code: 'ENRICHBOT_ERR_PUSH_REFUSED' });
  expect([...hs.objects.companies.values()].some((o) => o.properties.domain === 'other-hs.com')).toBe(false);
});

test('notify for a Slack workspace the bot is not installed in posts nothing, and says so', async () => {
  await expect(single.service.notify('slack', { workspace: 'slack:TOTHER', channel: 'CELSEWHERE', text: 'not for this team' })).rejects.toMatchObject({ code: 'ENRICHBOT_ERR_SLACK_NOT_INSTALLED' });
  expect(fake.of('chat.postMessage').some((c) => c.args.channel === 'CELSEWHERE')).toBe(false);
  const posted = await single.service.notify('slack', { workspace: 'slack:TSOLE', channel: 'CSOLE', text: 'for this team' });
  expect(posted.channel).toBe('CSOLE');
});

test('a HubSpot privacy deletion of a contact pushed from a Slack workspace makes enrichbot forget the person in that workspace too', async () => {
  const email = 'jane@sole-person.com';
  expect((await single.enrichAndWait({ workspace: 'slack:TSOLE', input: email })).status).toBe('done');
  await single.service.push('slack:TSOLE', email, 'hubspot', 'UTSOLE');
  const contact = [...hs.objects.contacts.values()].find((o) => o.properties.email === email)!;
  expect(contact).toBeDefined();
  expect((await single.service.record('slack:TSOLE', email)).person).toBeDefined();

  const body = JSON.stringify([{ eventId: 1, subscriptionId: 7, portalId: 62515, appId: 1, occurredAt: Date.now(), subscriptionType: 'contact.privacyDeletion', attemptNumber: 0, objectId: Number(contact.id), changeFlag: 'DELETED' }]);
  const ts = String(Date.now());
  const res = await fetch(`${base(single)}/webhooks/hubspot`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': ts, 'x-hubspot-signature-v3': signV3(HS_SECRET, 'POST', `${PUBLIC}/webhooks/hubspot`, body, ts) }, body });
  expect(res.status).toBe(200);
  // The trigger drops its object note last, after every forget.
  const objects = single.store.connection.db!.collection('plugin_hubspot_objects');
  const end = Date.now() + 20_000;
  while ((await objects.countDocuments({ _id: `62515:contacts:${contact.id}` as never })) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  expect((await single.service.record('slack:TSOLE', email)).person).toBeUndefined();
  await expect(single.service.submit({ workspace: 'slack:TSOLE', input: email }, { trigger: 'slack', address: {} })).rejects.toMatchObject({ code: 'ENRICHBOT_ERR_IDENTITY_FORGOTTEN' });
});
