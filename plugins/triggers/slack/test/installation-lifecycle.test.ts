// An installation's life after install: `app_uninstalled` and `tokens_revoked` remove it (later
// requests from that team are refused, results still pending for it are dropped, not posted),
// and with token rotation a bot token about to expire is refreshed once through oauth.v2.access,
// even when two processes need it at the same moment (a Redis lease; a refresh token works once).
import { jest } from '@jest/globals';
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, installationStore, TEST_TOKEN_KEYS, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, commandBody, eventBody, FORM } from './support/slack-requests.js';
import { install } from './support/oauth-flow.js';

const SECRET = 'lifecycle-signing-secret';
const APP = { clientId: 'cid-l', clientSecret: 'csecret-l' };
let fake: FakeSlack;
let providers: FakeServer[] = [];
let app: SlackTestApp;
let other: SlackTestApp;
const url = (a: SlackTestApp) => `http://127.0.0.1:${a.port}`;

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: {} });
  const slack = { signingSecret: SECRET, apiUrl: fake.apiUrl, ...APP, tokenKeys: TEST_TOKEN_KEYS, allowedTeams: 'TGONE,TREV,TUSER,TROT,TSTAY', postIntervalMs: 0 };
  const first = await startSlackTestApp({ file: 'slack-lifecycle', slack });
  app = first.app;
  const second = await startSlackTestApp({ file: 'slack-lifecycle', slack, names: app.names });
  other = second.app;
  providers = [first.provider, second.provider];
  for (const team of ['TGONE', 'TREV', 'TUSER', 'TSTAY']) expect((await install(url(app), fake, { team, token: `xoxb-${team.toLowerCase()}`, ...APP })).status).toBe(200);
});
afterAll(async () => {
  await other?.stop();
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  for (const p of providers) await p.close();
});

const command = (a: SlackTestApp, team: string, channel: string, text: string) => sendSigned(url(a), { secret: SECRET, contentType: FORM, body: commandBody({ team, channel, user: `U${channel}`, text }) });
const event = (team: string, ev: Record<string, unknown>) => sendSigned(url(app), { secret: SECRET, contentType: 'application/json', body: eventBody({ team, event: ev }) });
const stored = (team: string) => installationStore(app).find({ teamId: team });

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('app_uninstalled removes the installation and its token; the team’s later /enrich is refused and a result still pending for it is dropped', async () => {
  expect((await event('TGONE', { type: 'app_uninstalled' })).status).toBe(200);
  await until(async () => (await stored('TGONE')) === undefined, 'the installation to be deleted');
  expect(await app.store.connection.db!.collection('plugin_slack_installations').countDocuments({ teamId: 'TGONE' })).toBe(0);

  const refused = await command(app, 'TGONE', 'CGONE', 'gone.com');
  expect(JSON.parse(refused.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('not installed') });

  // A job queued before the uninstall finishes after it: its card has nowhere to go.
  const pending = await app.service.submit({ workspace: 'slack:TGONE', input: 'pending.com' }, { trigger: 'slack', address: { team: 'TGONE', channel: 'CGONE' } });
  await app.service.waitFor(pending.jobId);
  const after = await command(app, 'TSTAY', 'CSTAY', 'stay.com');
  expect(JSON.parse(after.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CSTAY');
  expect(fake.calls.filter((c) => c.args.channel === 'CGONE')).toHaveLength(0);
  expect(await app.store.models.Job.countDocuments({ workspace: 'slack:TGONE' })).toBe(1);
});

test('tokens_revoked for the bot removes the installation; a revoked user token alone keeps it', async () => {
  expect((await event('TUSER', { type: 'tokens_revoked', tokens: { oauth: ['UINSTALLER'] } })).status).toBe(200);
  expect((await event('TREV', { type: 'tokens_revoked', tokens: { bot: ['UBOTTREV'] } })).status).toBe(200);
  await until(async () => (await stored('TREV')) === undefined, 'the revoked installation to be deleted');
  expect((await stored('TUSER'))?.bot?.token).toBe('xoxb-tuser');
  const refused = await command(app, 'TREV', 'CREV', 'rev.com');
  expect(JSON.parse(refused.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('not installed') });
});

test('a rotating bot token about to expire is refreshed exactly once when two processes need it at the same moment', async () => {
  expect((await install(url(app), fake, { team: 'TROT', token: 'xoxb-rot', refreshToken: 'xoxe-rot', expiresIn: 60, ...APP })).status).toBe(200);
  const refreshes = () => fake.of('oauth.v2.access').filter((c) => c.args.grant_type === 'refresh_token');
  expect(refreshes()).toHaveLength(0);

  const acks = await Promise.all([command(app, 'TROT', 'CROT1', 'rot-one.com'), command(other, 'TROT', 'CROT2', 'rot-two.com'), command(other, 'TROT', 'CROT3', 'rot-three.com')]);
  for (const ack of acks) expect(JSON.parse(ack.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  const cards = await Promise.all(['CROT1', 'CROT2', 'CROT3'].map((channel) => fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === channel)));
  expect(refreshes()).toHaveLength(1);
  expect(refreshes()[0]!.args.refresh_token).toBe('xoxe-rot');
  for (const card of cards) expect(card.token).toBe('xoxb-rot-r1');
  const inst = await stored('TROT');
  expect(inst?.bot).toMatchObject({ token: 'xoxb-rot-r1', refreshToken: 'xoxe-rot-r1' });
  expect(inst!.bot!.expiresAt! - Date.now() / 1000).toBeGreaterThan(43_000);
  expect(JSON.stringify(await app.store.connection.db!.collection('plugin_slack_installations').findOne({ _id: 'team:TROT' as never }))).not.toMatch(/xox[be]-rot/);
});
