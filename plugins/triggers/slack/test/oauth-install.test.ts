// Multi-workspace install: GET /slack/install sets the state cookie and links to Slack's
// authorize page; Slack sends the installer to GET /slack/oauth_redirect with a code, the app
// trades it through oauth.v2.access (answered by the fake Slack), keeps the installation in
// MongoDB, and from then on that team's commands are answered with that team's own token.
import { jest } from '@jest/globals';
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, commandBody, FORM } from './support/slack-requests.js';

const SECRET = 'oauth-signing-secret';
let fake: FakeSlack;
let provider: FakeServer;
let app: SlackTestApp;
const base = () => `http://127.0.0.1:${app.port}`;

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: {} });
  ({ app, provider } = await startSlackTestApp({
    file: 'slack-oauth',
    slack: { signingSecret: SECRET, apiUrl: fake.apiUrl, clientId: 'cid-1', clientSecret: 'csecret-1', stateSecret: 'oauth-state-secret', postIntervalMs: 0 },
  }));
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
});

async function startInstall(): Promise<{ state: string; cookie: string; page: string }> {
  const res = await fetch(`${base()}/slack/install`, { redirect: 'manual' });
  expect(res.status).toBe(200);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('slack-app-oauth-state='))!;
  expect(cookie).toBeDefined();
  const value = cookie.split(';')[0];
  return { state: value.slice('slack-app-oauth-state='.length), cookie: value, page: await res.text() };
}

test('install, redirect with the code, installation kept in MongoDB, then that team’s /enrich runs with its own token', async () => {
  const { state, cookie, page } = await startInstall();
  const authorize = new URL(/<a href="([^"]+)"/.exec(page)![1].replace(/&amp;/g, '&'));
  expect(authorize.searchParams.get('client_id')).toBe('cid-1');
  expect(authorize.searchParams.get('state')).toBe(state);
  expect(authorize.searchParams.get('scope')).toContain('commands');

  fake.grantInstall('code-new', { team: 'TNEW', token: 'xoxb-new', clientId: 'cid-1', clientSecret: 'csecret-1' });
  const redirect = await fetch(`${base()}/slack/oauth_redirect?code=code-new&state=${encodeURIComponent(state)}`, { headers: { cookie }, redirect: 'manual' });
  expect(redirect.status).toBe(200);
  expect(fake.of('oauth.v2.access')).toHaveLength(1);

  const doc = await app.store.connection.db!.collection('plugin_slack_installations').findOne({ _id: 'team:TNEW' as never });
  expect(doc).not.toBeNull();
  const installation = JSON.parse(String(doc!.json)) as { team: { id: string }; bot: { token: string; userId: string } };
  expect(installation.team.id).toBe('TNEW');
  expect(installation.bot).toMatchObject({ token: 'xoxb-new', userId: 'UBOTTNEW' });

  const ack = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'TNEW', channel: 'CNEW', user: 'UNEW', text: 'newteam.com' }) });
  expect(JSON.parse(ack.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  const card = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CNEW');
  expect(card.token).toBe('xoxb-new');
  expect(JSON.stringify(card.args.blocks)).toContain('Name of newteam.com');
  expect((await app.service.record('slack:TNEW', 'newteam.com')).company).toBeDefined();
});

test('a redirect whose state is not this browser’s (no state cookie) installs nothing and never trades the code', async () => {
  const { state } = await startInstall();
  fake.grantInstall('code-forged', { team: 'TFORGED', token: 'xoxb-forged', clientId: 'cid-1', clientSecret: 'csecret-1' });
  const before = fake.of('oauth.v2.access').length;
  const res = await fetch(`${base()}/slack/oauth_redirect?code=code-forged&state=${encodeURIComponent(state)}`, { redirect: 'manual' });
  await res.text();
  expect(fake.of('oauth.v2.access')).toHaveLength(before);
  expect(await app.store.connection.db!.collection('plugin_slack_installations').findOne({ _id: 'team:TFORGED' as never })).toBeNull();
});
