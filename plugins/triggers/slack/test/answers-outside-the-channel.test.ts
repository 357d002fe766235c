// In a channel the bot is not a member of, Slack refuses its posts (chat.postMessage,
// chat.postEphemeral, chat.update answer channel_not_found or not_in_channel). Every answer still
// reaches the person: in the ack body, or through the response_url Slack sent with the command or
// the click. Slash commands and button clicks are signed like Slack's; Slack is the local fake.
import { jest } from '@jest/globals';
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from './support/fake-slack.js';
import { sendSigned, commandBody, actionBody, viewSubmissionBody, FORM } from './support/slack-requests.js';

const SECRET = 'outside-signing-secret';
const OUTSIDE = 'COUTSIDE';
const ARCHIVED = 'CARCHIVED';
let fake: FakeSlack;
let provider: FakeServer;
let app: SlackTestApp;
const base = () => `http://127.0.0.1:${app.port}`;

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-out': 'TO' } });
  ({ app, provider } = await startSlackTestApp({ file: 'slack-outside', slack: { botToken: 'xoxb-out', signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0 } }));
  fake.failPosts(OUTSIDE, 'channel_not_found');
  fake.failPosts(ARCHIVED, 'not_in_channel');
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
});

const responseUrl = (name: string) => `${fake.url}/response/${name}`;
const command = (channel: string, text: string, name: string) => sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'TO', channel, user: 'UO', text, responseUrl: responseUrl(name) }) });
const click = (channel: string, actionId: string, value: string, name: string) => sendSigned(base(), { secret: SECRET, contentType: FORM, body: actionBody({ team: 'TO', channel, user: 'UO', actionId, value, responseUrl: responseUrl(name) }) });
const answered = (name: string, needle: string) => fake.waitFor((c) => c.method === 'response_url' && c.path === `/response/${name}` && JSON.stringify(c.args).includes(needle), 15_000);
const blocksOf = (c: SlackCall) => c.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[];
const buttonValue = (c: SlackCall, actionId: string) => blocksOf(c).find((b) => b.type === 'actions')!.elements!.find((e) => e.action_id === actionId)!.value;

test('/enrich usage in a channel the bot is not in: today’s spend reaches the person, in the ack or through the response_url', async () => {
  const res = await command(OUTSIDE, 'usage', 'usage');
  expect(res.status).toBe(200);
  const acked = res.text ? String((JSON.parse(res.text) as { text?: string }).text ?? '') : '';
  const text = acked.includes('Spend today') ? acked : String((await answered('usage', 'Spend today')).args.text);
  expect(text).toContain('Spend today');
  expect(text).toContain('No provider was called today.');
});

test('inputs it cannot use are listed through the response_url when Slack refuses the ephemeral message; the valid one’s card follows', async () => {
  await command(ARCHIVED, 'gmail.com acme.com', 'refused');
  const refused = await answered('refused', 'could not use');
  expect(refused.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  expect(refused.args.text).toContain('`gmail.com`');
  expect(refused.args.text).toContain('the other 1 are running');
  const card = await answered('refused', 'Name of acme.com');
  expect(card.args.response_type).toBe('in_channel');
});

test('Push to HubSpot from a card in a channel the bot is not in: the outcome reaches the click’s response_url', async () => {
  const card = await answered('refused', 'Name of acme.com');
  await click(ARCHIVED, 'enrich_push', buttonValue(card, 'enrich_push'), 'push');
  const reply = await answered('push', 'That did not work');
  expect(reply.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  expect(reply.args.text).toContain('hubspot');
});

test('Refresh and Find lookalikes from a card in a channel the bot is not in: the new cards reach the click’s response_url', async () => {
  await command(OUTSIDE, 'beta.com', 'beta');
  const card = await answered('beta', 'Name of beta.com');
  await click(OUTSIDE, 'enrich_refresh', buttonValue(card, 'enrich_refresh'), 'refresh');
  const refreshed = await answered('refresh', 'Name of beta.com');
  expect(refreshed.args.response_type).toBe('in_channel');
  expect(blocksOf(refreshed).some((b) => b.type === 'actions')).toBe(true);
  await click(OUTSIDE, 'enrich_lookalikes', buttonValue(card, 'enrich_lookalikes'), 'lookalikes');
  const lookalikes = await answered('lookalikes', 'Name of beta.com');
  expect(lookalikes.args.response_type).toBe('in_channel');
});

test('Edit on a card in a channel the bot is not in: the corrected card replaces it through the response_url', async () => {
  const card = await answered('beta', 'Name of beta.com');
  await click(OUTSIDE, 'enrich_edit', buttonValue(card, 'enrich_edit'), 'edit');
  const opened = await fake.waitFor((c) => c.method === 'views.open');
  const meta = (opened.args.view as { private_metadata: string }).private_metadata;
  const ok = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: viewSubmissionBody({ team: 'TO', user: 'UO', privateMetadata: meta, field: 'company.name', value: 'Beta Corrected' }) });
  expect(ok.status).toBe(200);
  const replaced = await answered('edit', 'Beta Corrected');
  expect(replaced.args).toMatchObject({ replace_original: true });
});
