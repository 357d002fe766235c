// A CSV shared in a thread under one of the bot's own messages is enriched like one in a DM,
// and everything about it (columns, progress, the enriched file) goes to that thread. Files come
// by the message event or by file_shared (looked up with files.info and the bot token); when
// both arrive, the file is read once. Threads under anyone else's message, top-level channel
// files and the bot's own uploads are left alone.
import { jest } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { dropTestData } from '../../../../test/support/test-app.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeFile, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, eventBody } from './support/slack-requests.js';

const SECRET = 'thread-signing-secret';
const TOKEN = 'xoxb-thread';
const BOT_USER = 'UBOTTT';
let fake: FakeSlack;
let provider: FakeServer;
let other: FakeServer;
let app: SlackTestApp;
const base = () => `http://127.0.0.1:${app.port}`;

jest.setTimeout(120_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { [TOKEN]: 'TT' } });
  other = await startFakeServer({ '*': () => ({ body: 'email\nx@y.com\n' }) });
  ({ app, provider } = await startSlackTestApp({
    file: 'slack-thread',
    overrides: { queue: { concurrency: 10 }, service: { batch: { progressIntervalMs: 200 } } },
    slack: { botToken: TOKEN, signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0, maxCsvBytes: 20_000 },
  }));
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
  await other?.close();
});

const send = (event: Record<string, unknown>) => sendSigned(base(), { secret: SECRET, contentType: 'application/json', body: eventBody({ team: 'TT', event }) });
const fileShared = (f: { id: string }, channel: string, user: string, eventTs: string) => send({ type: 'file_shared', channel_id: channel, file_id: f.id, user_id: user, file: { id: f.id }, event_ts: eventTs });
const fileShareMessage = (f: FakeFile, channel: string, user: string, ts: string, thread?: { ts: string; parentUser: string }) =>
  send({ type: 'message', subtype: 'file_share', channel, channel_type: channel.startsWith('D') ? 'im' : 'channel', user, text: '', ts, files: [f], ...(thread ? { thread_ts: thread.ts, parent_user_id: thread.parentUser } : {}) });
const csvOf = (n: number, tag: string) => ['Email,Website', ...Array.from({ length: n }, (_, i) => `p${i}@${tag}${i}.com,${tag}${i}.com`)].join('\n');
const downloadsOf = (f: FakeFile) => fake.of('file.download').filter((c) => String(c.args.path).includes(`/${f.id}/`));
const postsIn = (channel: string, needle: string) => fake.of('chat.postMessage').filter((c) => c.args.channel === channel && String(c.args.text).includes(needle));

test('a CSV shared in a thread under the bot’s message, announced by file_shared and message together, is read once; columns, progress and the enriched file go to that thread', async () => {
  const parent = await app.service.notify('slack', { workspace: 'slack:TT', channel: 'CTHR', text: 'Send me CSVs in this thread' });
  expect(parent.ts).toBeDefined();
  const file = fake.addFile({ name: 'leads.csv', content: csvOf(20, 'thr'), token: TOKEN, user: 'UT', shares: { public: { CTHR: [{ ts: '200.000100', thread_ts: parent.ts }] } } });
  // Slack sends both events for one share; they may arrive together.
  const [a, b] = await Promise.all([fileShared(file, 'CTHR', 'UT', '200.000100'), fileShareMessage(file, 'CTHR', 'UT', '200.000100', { ts: parent.ts!, parentUser: BOT_USER })]);
  expect([a.status, b.status]).toEqual([200, 200]);

  const complete = await fake.waitFor((c) => c.method === 'files.completeUploadExternal' && c.args.channel_id === 'CTHR', 90_000);
  expect(complete.args.thread_ts).toBe(parent.ts);
  expect(downloadsOf(file)).toHaveLength(1);
  expect(downloadsOf(file)[0].token).toBe(TOKEN);
  const got = postsIn('CTHR', 'Got *leads.csv*');
  expect(got).toHaveLength(1);
  expect(got[0].args.thread_ts).toBe(parent.ts);
  const progress = postsIn('CTHR', 'Queuing the rows');
  expect(progress).toHaveLength(1);
  expect(progress[0].args.thread_ts).toBe(parent.ts);
  const [uploaded] = JSON.parse(String(complete.args.files)) as { id: string }[];
  const rows = parse(fake.uploads.get(uploaded.id)!.toString('utf8').replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
  expect(rows).toHaveLength(20);
  expect(rows[3]['company.name']).toBe('Name of thr3.com');

  // Slack retries the event later: still read once.
  await fileShared(file, 'CTHR', 'UT', '200.000100');
  await fileShareMessage(file, 'CTHR', 'UT', '200.000100', { ts: parent.ts!, parentUser: BOT_USER });
  const control = fake.addFile({ name: 'control.csv', content: csvOf(1, 'ctl'), token: TOKEN, user: 'UT' });
  await fileShareMessage(control, 'DUT', 'UT', '201.000100');
  await fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('Got *control.csv*'));
  expect(downloadsOf(file)).toHaveLength(1);
});

test('a thread under a post made for another trigger without naming the workspace (the digest, single-workspace mode) counts as the bot’s', async () => {
  const digest = await app.service.notify('slack', { channel: 'CDIGEST', text: 'Daily digest' });
  const file = fake.addFile({ name: 'from-digest.csv', content: csvOf(2, 'dig'), token: TOKEN, user: 'UT', shares: { public: { CDIGEST: [{ ts: '250.000100', thread_ts: digest.ts }] } } });
  await fileShared(file, 'CDIGEST', 'UT', '250.000100');
  const got = await fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('Got *from-digest.csv*'));
  expect(got.args.channel).toBe('CDIGEST');
  expect(got.args.thread_ts).toBe(digest.ts);
});

test('files in a thread under someone else’s message, at the top of a channel, or uploaded by the bot itself are not read; a channel the bot never posted in costs no files.info', async () => {
  await app.service.notify('slack', { workspace: 'slack:TT', channel: 'CGEN', text: 'The bot has posted here' });
  const underOther = fake.addFile({ name: 'other-thread.csv', content: csvOf(2, 'oth'), token: TOKEN, user: 'UT', shares: { public: { CGEN: [{ ts: '300.000100', thread_ts: '299.000100' }] } } });
  const topLevel = fake.addFile({ name: 'top.csv', content: csvOf(2, 'top'), token: TOKEN, user: 'UT', shares: { public: { CGEN: [{ ts: '301.000100' }] } } });
  const botsOwn = fake.addFile({ name: 'enriched-leads.csv', content: csvOf(2, 'bot'), token: TOKEN, user: BOT_USER, shares: { private: { DUT: [{ ts: '302.000100' }] } } });
  const quiet = fake.addFile({ name: 'quiet.csv', content: csvOf(2, 'qui'), token: TOKEN, user: 'UT', shares: { public: { CQUIET: [{ ts: '304.000100', thread_ts: '298.000100' }] } } });
  const infoBefore = fake.of('files.info').length;
  await fileShared(underOther, 'CGEN', 'UT', '300.000100');
  await fileShareMessage(underOther, 'CGEN', 'UT', '300.000100', { ts: '299.000100', parentUser: 'UOTHER' });
  await fileShared(topLevel, 'CGEN', 'UT', '301.000100');
  await fileShareMessage(topLevel, 'CGEN', 'UT', '301.000100');
  await fileShared(botsOwn, 'DUT', BOT_USER, '302.000100');
  await fileShareMessage(botsOwn, 'DUT', BOT_USER, '302.000100');
  await fileShared(quiet, 'CQUIET', 'UT', '304.000100');
  // files.info was asked for the two files others shared where the bot has posted, never for the bot's own.
  await fake.waitFor((c) => c.method === 'files.info' && c.args.file === topLevel.id);
  await fake.waitFor((c) => c.method === 'files.info' && c.args.file === underOther.id);
  const control = fake.addFile({ name: 'control2.csv', content: csvOf(1, 'ct2'), token: TOKEN, user: 'UT' });
  await fileShareMessage(control, 'DUT', 'UT', '303.000100');
  await fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('Got *control2.csv*'));
  for (const f of [underOther, topLevel, botsOwn, quiet]) expect(downloadsOf(f)).toHaveLength(0);
  const asked = fake.of('files.info').slice(infoBefore).map((c) => c.args.file);
  expect(asked).not.toContain(botsOwn.id);
  expect(asked).not.toContain(quiet.id);
  expect(fake.of('chat.postMessage').filter((c) => c.args.channel === 'CGEN').map((c) => c.args.text)).toEqual(['The bot has posted here']);
  expect(fake.of('chat.postMessage').some((c) => c.args.channel === 'CQUIET')).toBe(false);
});

test('file_shared in a DM: the file is looked up with files.info and the bot token; the size cap and the Slack-host rule apply before any download', async () => {
  const big = fake.addFile({ name: 'big.csv', content: csvOf(2, 'big'), size: 30_000, token: TOKEN, user: 'UD', shares: { private: { DUD: [{ ts: '400.000100' }] } } });
  await fileShared(big, 'DUD', 'UD', '400.000100');
  const tooBig = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'DUD');
  expect(tooBig.args.text).toContain('big.csv is 30000 bytes; I take CSV files up to 20000 bytes');
  expect(fake.of('files.info').find((c) => c.args.file === big.id)!.token).toBe(TOKEN);
  expect(downloadsOf(big)).toHaveLength(0);

  const before = other.requests.length;
  const evil = fake.addFile({ name: 'evil.csv', content: 'x', token: TOKEN, user: 'UE', downloadUrl: `${other.url}/evil.csv`, shares: { private: { DUE: [{ ts: '401.000100' }] } } });
  await fileShared(evil, 'DUE', 'UE', '401.000100');
  const refused = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'DUE');
  expect(refused.args.text).toContain('only downloaded from Slack');
  expect(other.requests.length).toBe(before);
});
