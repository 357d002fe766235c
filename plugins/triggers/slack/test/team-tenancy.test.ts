// One workspace (SLACK_BOT_TOKEN) serves that token's team only: a correctly signed command
// whose team_id is another organisation's (as over Slack Connect) is refused with an ephemeral
// sentence and runs, costs and stores nothing; the token's own team is served as before.
import { jest } from '@jest/globals';
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, commandBody, actionBody, eventBody, FORM } from './support/slack-requests.js';

const SECRET = 'tenancy-signing-secret';
let fake: FakeSlack;
let provider: FakeServer;
let app: SlackTestApp;
const base = () => `http://127.0.0.1:${app.port}`;

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-home': 'THOME' } });
  ({ app, provider } = await startSlackTestApp({ file: 'slack-tenancy', slack: { botToken: 'xoxb-home', signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0 } }));
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
});

test("a signed /enrich from a team that is not the bot token's is refused with an ephemeral message, and nothing runs or is stored", async () => {
  const res = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'TOTHER', channel: 'CSHARED', user: 'UOUT', text: 'outsider.com' }) });
  expect(res.status).toBe(200);
  const answer = JSON.parse(res.text) as { response_type: string; text: string };
  expect(answer.response_type).toBe('ephemeral');
  expect(answer.text).toContain('TOTHER');
  expect(answer.text).toContain('one Slack workspace');

  const click = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: actionBody({ team: 'TOTHER', channel: 'CSHARED', user: 'UOUT', actionId: 'enrich_refresh', value: '{}' }) });
  expect(click.status).toBe(200);

  // The home team's command after them runs; the outsider's would have been queued first.
  const home = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'THOME', channel: 'CHOME', user: 'UIN', text: 'insider.com' }) });
  expect(JSON.parse(home.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CHOME');
  expect(await app.store.models.Job.countDocuments({})).toBe(1);
  expect(await app.store.models.Job.countDocuments({ workspace: 'slack:TOTHER' })).toBe(0);
  expect(provider.requests).toHaveLength(1);
  expect(fake.calls.filter((c) => c.args.channel === 'CSHARED')).toHaveLength(0);
});

test('after app_uninstalled from its own team, the single workspace’s later /enrich is refused: the token is marked revoked (by hash)', async () => {
  expect((await sendSigned(base(), { secret: SECRET, contentType: 'application/json', body: eventBody({ team: 'THOME', event: { type: 'app_uninstalled' } }) })).status).toBe(200);
  const docs = app.store.connection.db!.collection('plugin_slack_installations');
  for (let i = 0; i < 200 && (await docs.countDocuments({})) === 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect(JSON.stringify(await docs.find({}).toArray())).not.toContain('xoxb-home');
  const res = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'THOME', channel: 'CHOME', user: 'UIN', text: 'after.com' }) });
  expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('not installed') });
  expect(await app.store.models.Job.countDocuments({})).toBe(1);
});
