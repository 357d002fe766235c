// Multi-workspace install: GET /slack/install sets the state cookie and links to Slack's
// authorize page; Slack sends the installer to GET /slack/oauth_redirect with a code, the app
// trades it through oauth.v2.access (answered by the fake Slack) and keeps the installation in
// MongoDB, sealed (no token readable there). Only allow-listed teams and orgs may install; a state
// works once; an Enterprise Grid org-wide install serves every team of the org with the org's token.
import { jest } from '@jest/globals';
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { isEnrichbotError } from '../../../../src/errors.js';
import { startSlackTestApp, installationStore, TEST_KEY_1, TEST_KEY_2, TEST_TOKEN_KEYS, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, commandBody, FORM } from './support/slack-requests.js';
import { install, redirectBack, startInstall } from './support/oauth-flow.js';
import { SlackErrors } from '../errors.js';

const SECRET = 'oauth-signing-secret';
const APP = { clientId: 'cid-1', clientSecret: 'csecret-1' };
let fake: FakeSlack;
let provider: FakeServer;
let app: SlackTestApp;
const base = () => `http://127.0.0.1:${app.port}`;
const installations = () => app.store.connection.db!.collection('plugin_slack_installations');

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: {} });
  ({ app, provider } = await startSlackTestApp({
    file: 'slack-oauth',
    slack: { signingSecret: SECRET, apiUrl: fake.apiUrl, ...APP, tokenKeys: TEST_TOKEN_KEYS, allowedTeams: 'TNEW,TTWICE', allowedEnterprises: ['EORG'], postIntervalMs: 0 },
  }));
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
});

const command = (team: string, channel: string, text: string, extra: { enterprise?: string; isEnterpriseInstall?: boolean } = {}) =>
  sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team, channel, user: `U${channel}`, text, ...extra }) });

test('install, redirect with the code, installation kept sealed in MongoDB (no token readable), then that team’s /enrich runs with its own token', async () => {
  const { state, cookie, page } = await startInstall(base());
  const authorize = new URL(/<a href="([^"]+)"/.exec(page)![1].replace(/&amp;/g, '&'));
  expect(authorize.searchParams.get('client_id')).toBe('cid-1');
  expect(authorize.searchParams.get('state')).toBe(state);
  expect(authorize.searchParams.get('scope')?.split(',')).toEqual(['commands', 'chat:write', 'files:read', 'files:write', 'im:history', 'im:write', 'usergroups:read', 'users:read']);

  fake.grantInstall('code-new', { team: 'TNEW', token: 'xoxb-new', ...APP });
  expect((await redirectBack(base(), { code: 'code-new', state, cookie })).status).toBe(200);
  expect(fake.of('oauth.v2.access')).toHaveLength(1);

  const doc = await installations().findOne({ _id: 'team:TNEW' as never });
  expect(doc).not.toBeNull();
  expect(doc!.kid).toBe('k1');
  expect(JSON.stringify(doc)).not.toContain('xoxb-new');
  const installation = await installationStore(app).find({ teamId: 'TNEW' });
  expect(installation?.bot).toMatchObject({ token: 'xoxb-new', userId: 'UBOTTNEW' });

  const ack = await command('TNEW', 'CNEW', 'newteam.com');
  expect(JSON.parse(ack.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  const card = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CNEW');
  expect(card.token).toBe('xoxb-new');
  expect(JSON.stringify(card.args.blocks)).toContain('Name of newteam.com');
  expect((await app.service.record('slack:TNEW', 'newteam.com')).company).toBeDefined();
});

test('a team not on the allow-list cannot install: its token is revoked, nothing is stored, and its signed /enrich is refused', async () => {
  const res = await install(base(), fake, { team: 'TSTRANGER', token: 'xoxb-stranger', ...APP });
  expect(res.status).toBe(403);
  expect(res.text).toContain('SLACK_ALLOWED_TEAMS');
  expect(fake.revoked).toContain('xoxb-stranger');
  expect(await installations().countDocuments({ teamId: 'TSTRANGER' })).toBe(0);

  const refused = await command('TSTRANGER', 'CSTR', 'stranger.com');
  expect(JSON.parse(refused.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('allow-list') });
  expect(await app.store.models.Job.countDocuments({ workspace: 'slack:TSTRANGER' })).toBe(0);
});

test('a state works for one redirect only: the same state and cookie again trade no second code', async () => {
  const { state, cookie } = await startInstall(base());
  fake.grantInstall('code-once', { team: 'TTWICE', token: 'xoxb-once', ...APP });
  fake.grantInstall('code-twice', { team: 'TTWICE', token: 'xoxb-twice', ...APP });
  expect((await redirectBack(base(), { code: 'code-once', state, cookie })).status).toBe(200);
  const before = fake.of('oauth.v2.access').length;
  const again = await redirectBack(base(), { code: 'code-twice', state, cookie });
  expect(again.status).toBe(400);
  expect(fake.of('oauth.v2.access')).toHaveLength(before);
  expect((await installationStore(app).find({ teamId: 'TTWICE' }))?.bot?.token).toBe('xoxb-once');
});

test('a redirect whose state is not this browser’s (no state cookie) installs nothing and never trades the code', async () => {
  const { state } = await startInstall(base());
  fake.grantInstall('code-forged', { team: 'TFORGED', token: 'xoxb-forged', ...APP });
  const before = fake.of('oauth.v2.access').length;
  await redirectBack(base(), { code: 'code-forged', state });
  expect(fake.of('oauth.v2.access')).toHaveLength(before);
  expect(await installations().findOne({ _id: 'team:TFORGED' as never })).toBeNull();
});

test("an Enterprise Grid org-wide install serves the org's teams with the org's token, and results reach a team known only by its id", async () => {
  expect((await install(base(), fake, { team: 'EORG', enterprise: 'EORG', token: 'xoxb-org', ...APP })).status).toBe(200);
  expect(await installations().findOne({ _id: 'enterprise:EORG' as never })).not.toBeNull();

  const ack = await command('TMEMBER', 'CMEMBER', 'member.com', { enterprise: 'EORG', isEnterpriseInstall: true });
  expect(JSON.parse(ack.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  // The card is delivered by the worker, which knows the team only: it finds the org's install.
  const card = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CMEMBER');
  expect(card.token).toBe('xoxb-org');
  expect((await app.service.record('slack:TMEMBER', 'member.com')).company).toBeDefined();

  // Another org's team is not served by it.
  const outsider = await command('TOUT', 'COUT', 'out.com', { enterprise: 'EOTHER', isEnterpriseInstall: true });
  expect(JSON.parse(outsider.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('allow-list') });
});

test('key rotation: with a new key first, a record sealed with the old key still opens and is re-sealed under the new one; without its key it does not open', async () => {
  const rotated = installationStore(app, `${TEST_KEY_2},${TEST_KEY_1}`);
  expect((await rotated.find({ teamId: 'TNEW' }))?.bot?.token).toBe('xoxb-new');
  const doc = await installations().findOne({ _id: 'team:TNEW' as never });
  expect(doc!.kid).toBe('k2');
  expect(JSON.stringify(doc)).not.toContain('xoxb-new');

  const err = await installationStore(app, TEST_KEY_1).find({ teamId: 'TNEW' }).catch((e: unknown) => e);
  expect(isEnrichbotError(err, SlackErrors.SLACK_TOKEN_KEY_MISSING.code)).toBe(true);
});
