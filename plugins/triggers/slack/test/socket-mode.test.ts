// Socket Mode (SLACK_APP_TOKEN): no public URL. The app opens the connection through
// apps.connections.open on SLACK_API_URL, Slack pushes envelopes over the WebSocket, the app
// acks each by envelope id (commands and events alike), and the work still runs on the queue.
// Slack's re-sent envelope of an event already taken is acked and not run again.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import { createLogger } from '../../../../src/logger.js';
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startFakeSocketMode, type FakeSocketMode } from './support/fake-socket-mode.js';

let fake: FakeSlack;
let socket: FakeSocketMode;
let provider: FakeServer;
let app: SlackTestApp;

jest.setTimeout(60_000);

const lines: string[] = [];
const logEvents = new EventEmitter();
const logger = createLogger({ level: 'warn', stream: new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), logEvents.emit('line'), cb()) }) });
/** Resolves once a log line containing `text` was written (already, or later); rejects after 10 s. */
const logged = (text: string) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => (logEvents.off('line', check), reject(new Error(`no log line with "${text}" within 10 s`))), 10_000);
    const check = () => lines.some((l) => l.includes(text)) && (clearTimeout(timer), logEvents.off('line', check), resolve());
    logEvents.on('line', check);
    check();
  });

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-sock': 'TS' }, appTokens: ['xapp-sock'] });
  socket = await startFakeSocketMode();
  fake.socketUrl = socket.url;
  ({ app, provider } = await startSlackTestApp({ file: 'slack-socket', logger, slack: { botToken: 'xoxb-sock', appToken: 'xapp-sock', apiUrl: fake.apiUrl, postIntervalMs: 0 } }));
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await socket?.close();
  await fake?.close();
  await provider?.close();
});

test('with SLACK_APP_TOKEN the app connects through apps.connections.open on SLACK_API_URL with the app token', async () => {
  const open = await fake.waitFor((c) => c.method === 'apps.connections.open');
  expect(open.token).toBe('xapp-sock');
  await socket.connected();
});

test('a slash_commands envelope is acked over the socket with "Enriching…", the input is enqueued and its card posted', async () => {
  await socket.connected();
  socket.send({
    envelope_id: 'env-cmd-1',
    type: 'slash_commands',
    accepts_response_payload: true,
    payload: {
      token: 'legacy',
      team_id: 'TS',
      team_domain: 'sock',
      channel_id: 'CSOCK',
      channel_name: 'general',
      user_id: 'US',
      user_name: 'tester',
      command: '/enrich',
      text: 'socket.com',
      api_app_id: 'A1',
      is_enterprise_install: 'false',
      response_url: `${fake.url}/response/sock`,
      trigger_id: '1.2.3',
    },
  });
  const ack = await socket.waitForAck('env-cmd-1');
  expect(ack.payload).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  const card = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CSOCK');
  expect(card.token).toBe('xoxb-sock');
  expect(JSON.stringify(card.args.blocks)).toContain('Name of socket.com');
  const jobs = await app.store.models.Job.find({}).lean();
  expect(jobs.map((j) => [j.workspace, j.display])).toEqual([['slack:TS', 'socket.com']]);
});

test('an events_api envelope (a CSV shared in a DM, by file_shared) is acked over the socket and the file read with the bot token', async () => {
  await socket.connected();
  const file = fake.addFile({ name: 'sock.csv', content: 'Website\nsock-a.com\nsock-b.com\n', token: 'xoxb-sock', user: 'US', shares: { private: { DUS: [{ ts: '500.000100' }] } } });
  socket.send({
    envelope_id: 'env-ev-1',
    type: 'events_api',
    accepts_response_payload: false,
    retry_attempt: 0,
    retry_reason: '',
    payload: {
      token: 'legacy',
      team_id: 'TS',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: 'EvSock1',
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'TS', user_id: 'UBOTTS', is_bot: true }],
      event: { type: 'file_shared', channel_id: 'DUS', file_id: file.id, user_id: 'US', file: { id: file.id }, event_ts: '500.000100' },
    },
  });
  expect((await socket.waitForAck('env-ev-1')).envelope_id).toBe('env-ev-1');
  const got = await fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('Got *sock.csv*'));
  expect(got.args.channel).toBe('DUS');
  expect(got.token).toBe('xoxb-sock');
  const download = fake.of('file.download').find((c) => String(c.args.path).includes(file.id))!;
  expect(download.token).toBe('xoxb-sock');
});

test("Slack's retry of an events_api envelope already taken (same event_id, retry_attempt 1) is acked and not run again", async () => {
  await socket.connected();
  const home = (envelope: string, user: string, eventId: string, retry: number) =>
    socket.send({
      envelope_id: envelope,
      type: 'events_api',
      accepts_response_payload: false,
      retry_attempt: retry,
      retry_reason: retry ? 'timeout' : '',
      payload: { token: 'legacy', team_id: 'TS', api_app_id: 'A1', type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000), authorizations: [{ team_id: 'TS', user_id: 'UBOTTS', is_bot: true }], event: { type: 'app_home_opened', user, tab: 'home', channel: `D${user}` } },
    });
  home('env-home-1', 'UHOME', 'EvSockHome', 0);
  await socket.waitForAck('env-home-1');
  await fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === 'UHOME');
  home('env-home-2', 'UHOME', 'EvSockHome', 1);
  await socket.waitForAck('env-home-2');
  // The retry is acked before any listener runs (Bolt acks events first): the app's log says when it was set aside.
  await logged('slack event already taken');
  expect(fake.of('views.publish').filter((c) => c.args.user_id === 'UHOME')).toHaveLength(1);
});
