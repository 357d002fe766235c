// After a 429, the posts released when the hold ends keep the channel's interval: the limited
// post's own retry (the SDK sends it after Retry-After plus its back-off), the posts queued behind
// the hold, and posts to another channel that the SDK's paused queue held back meanwhile. Gaps are
// read from the fake Slack's arrival times against a lower bound derived from postIntervalMs.
import { jest } from '@jest/globals';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import slack from '../index.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';

const INTERVAL = 300;
/** Arrival stamps are whole milliseconds taken after parsing: a generous floor, no ceiling. */
const FLOOR = INTERVAL * 0.8;
let fake: FakeSlack;
let app: Awaited<ReturnType<typeof startTestApp>>;

jest.setTimeout(60_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-hold': 'TH' } });
  // The SDK's first back-off equals the interval, as with the defaults (1 s and 1 s).
  const settings = { botToken: 'xoxb-hold', signingSecret: 'hold-secret', apiUrl: fake.apiUrl, postIntervalMs: INTERVAL, apiRetries: 2, apiRetryMinMs: INTERVAL };
  app = await startTestApp({ file: 'slack-hold', role: 'all', plugins: { slack }, overrides: { plugins: { providers: [], triggers: ['slack'] }, triggers: { slack: settings } } });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
});

const post = (channel: string, text: string) => app.service.notify('slack', { workspace: 'slack:TH', channel, text });
const arrivals = (channel: string) => fake.of('chat.postMessage').filter((c) => c.args.channel === channel).sort((a, b) => a.at - b.at);
const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]);

test('the retried post and the two posts queued behind a 429 hold go out at least the channel interval apart', async () => {
  fake.rateLimit('chat.postMessage', 1);
  const first = post('CHELD', 'limited');
  const limited = await fake.waitFor((c) => c.method === 'chat.postMessage:429');
  await Promise.all([first, post('CHELD', 'behind 1'), post('CHELD', 'behind 2')]);
  const posts = arrivals('CHELD');
  expect(posts.map((p) => p.args.text).sort()).toEqual(['behind 1', 'behind 2', 'limited']);
  for (const p of posts) expect(p.at - limited.at).toBeGreaterThanOrEqual(1000);
  for (const gap of gaps(posts.map((p) => p.at))) expect(gap).toBeGreaterThanOrEqual(FLOOR);
});

test("posts to another channel that waited out the SDK's pause after a 429 keep their interval", async () => {
  fake.rateLimit('chat.postMessage', 1);
  const first = post('CLIMITED', 'limited');
  await fake.waitFor((c) => c.method === 'chat.postMessage:429' && c.args.channel === 'CLIMITED');
  await Promise.all([first, post('CNEXT', 'next 1'), post('CNEXT', 'next 2'), post('CNEXT', 'next 3')]);
  const posts = arrivals('CNEXT');
  expect(posts).toHaveLength(3);
  for (const gap of gaps(posts.map((p) => p.at))) expect(gap).toBeGreaterThanOrEqual(FLOOR);
});
