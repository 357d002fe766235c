// A signed Slack request is taken once, across processes: a byte-identical replay inside the
// five-minute window, the same trigger_id under a fresh signature, and Slack's own retry of an
// event already taken (X-Slack-Retry-Num) are all answered 200 and never run again. Two App
// instances share one database and queue prefix, as two web processes of one deployment do.
import { jest } from '@jest/globals';
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { slackSignature } from '../signature.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, commandBody, eventBody, FORM } from './support/slack-requests.js';

const SECRET = 'replay-signing-secret';
let fake: FakeSlack;
let providers: FakeServer[] = [];
let app: SlackTestApp;
let other: SlackTestApp;
const url = (a: SlackTestApp) => `http://127.0.0.1:${a.port}`;

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-r': 'TR' } });
  const slack = { botToken: 'xoxb-r', signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0 };
  const first = await startSlackTestApp({ file: 'slack-replay', slack });
  app = first.app;
  const second = await startSlackTestApp({ file: 'slack-replay', slack, names: app.names });
  other = second.app;
  providers = [first.provider, second.provider];
});
afterAll(async () => {
  await other?.stop();
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  for (const p of providers) await p.close();
});

const jobs = () => app.store.models.Job.countDocuments({});
const providerCalls = () => providers.reduce((n, p) => n + p.requests.length, 0);

test('a byte-identical replay of a signed /enrich refresh is acknowledged and starts no second run, in this process or another', async () => {
  const now = Math.floor(Date.now() / 1000);
  const body = commandBody({ team: 'TR', channel: 'CR', user: 'UR', text: 'refresh replay.com' });
  const signature = slackSignature(SECRET, String(now), body);
  const first = await sendSigned(url(app), { secret: SECRET, body, contentType: FORM, timestamp: now, signature });
  expect(JSON.parse(first.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CR');

  const again = await sendSigned(url(app), { secret: SECRET, body, contentType: FORM, timestamp: now, signature });
  const elsewhere = await sendSigned(url(other), { secret: SECRET, body, contentType: FORM, timestamp: now, signature });
  expect(again).toEqual({ status: 200, text: '' });
  expect(elsewhere).toEqual({ status: 200, text: '' });
  // The same trigger_id signed anew (a later timestamp) is the same interaction: not run again.
  const resigned = await sendSigned(url(other), { secret: SECRET, body, contentType: FORM, timestamp: now + 1 });
  expect(resigned).toEqual({ status: 200, text: '' });

  // A fresh command after them runs; by then the replays would have queued their runs too.
  const fresh = await sendSigned(url(other), { secret: SECRET, body: commandBody({ team: 'TR', channel: 'CR2', user: 'UR', text: 'fresh.com' }), contentType: FORM });
  expect(JSON.parse(fresh.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CR2');
  expect(await jobs()).toBe(2);
  expect(providerCalls()).toBe(2);
  expect(fake.of('chat.postMessage').filter((c) => c.args.channel === 'CR')).toHaveLength(1);
});

test("Slack's retry of an event already taken (X-Slack-Retry-Num, same event_id, new signature) is acked and not run again", async () => {
  const opened = (user: string) => eventBody({ team: 'TR', eventId: `EvHome${user}`, event: { type: 'app_home_opened', user, tab: 'home', channel: `D${user}` } });
  const body = opened('UHOME');
  const first = await sendSigned(url(app), { secret: SECRET, body, contentType: 'application/json' });
  expect(first.status).toBe(200);
  await fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === 'UHOME');

  const retry = await sendSigned(url(other), { secret: SECRET, body, contentType: 'application/json', timestamp: Math.floor(Date.now() / 1000) + 1, headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
  expect(retry).toEqual({ status: 200, text: '' });
  // A new event after the retry is answered; the retry, had it run, would have published first.
  await sendSigned(url(other), { secret: SECRET, body: opened('UNEXT'), contentType: 'application/json' });
  await fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === 'UNEXT');
  expect(fake.of('views.publish').filter((c) => c.args.user_id === 'UHOME')).toHaveLength(1);
});
