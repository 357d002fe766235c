// Slack counts chat.postMessage per channel for the whole app, not per process: two App
// instances (a web and a worker) on one Redis post to one channel no closer than
// postIntervalMs apart, and a 429 seen by one holds the other back until after Retry-After.
// Spacing is read from the fake Slack's own arrival times.
import { jest } from '@jest/globals';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import slack from '../index.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';

const INTERVAL = 300;
let fake: FakeSlack;
let web: Awaited<ReturnType<typeof startTestApp>>;
let worker: Awaited<ReturnType<typeof startTestApp>>;

jest.setTimeout(60_000);

const slackSettings = () => ({ botToken: 'xoxb-pace', signingSecret: 'pace-secret', apiUrl: fake.apiUrl, postIntervalMs: INTERVAL, apiRetries: 2, apiRetryMinMs: 10 });

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-pace': 'TP' } });
  web = await startTestApp({ file: 'slack-pacing', role: 'all', plugins: { slack }, overrides: { plugins: { providers: [], triggers: ['slack'] }, triggers: { slack: slackSettings() } } });
  worker = await startTestApp({ file: 'slack-pacing', names: web.names, role: 'worker', plugins: { slack }, overrides: { plugins: { providers: [], triggers: ['slack'] }, triggers: { slack: slackSettings() } } });
});
afterAll(async () => {
  await worker?.stop();
  await web?.stop();
  if (web) await dropTestData(web.names);
  await fake?.close();
});

const post = (app: typeof web, channel: string, text: string) => app.service.notify('slack', { workspace: 'slack:TP', channel, text });
const arrivals = (channel: string) => fake.of('chat.postMessage').filter((c) => c.args.channel === channel);

test('posts from two processes to one channel are spaced by postIntervalMs; another channel is not held up', async () => {
  await Promise.all([...[1, 2, 3].map((i) => post(web, 'CSHARED', `web ${i}`)), ...[1, 2, 3].map((i) => post(worker, 'CSHARED', `worker ${i}`)), post(worker, 'CELSE', 'elsewhere')]);
  const posts = arrivals('CSHARED');
  expect(posts.map((p) => p.args.text).sort()).toEqual(['web 1', 'web 2', 'web 3', 'worker 1', 'worker 2', 'worker 3']);
  const at = posts.map((p) => p.at).sort((a, b) => a - b);
  const gaps = at.slice(1).map((t, i) => t - at[i]);
  // Millisecond rounding of the arrival stamps is the only slack allowed.
  for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(INTERVAL - 2);
  expect(arrivals('CELSE')[0].at).toBeLessThan(at[2]);
});

test("a 429 in one process holds the other's posts to that channel until after the Retry-After", async () => {
  fake.rateLimit('chat.postMessage', 1);
  const first = post(web, 'CLIMIT', 'limited, then retried');
  const limited = await fake.waitFor((c) => c.method === 'chat.postMessage:429');
  await Promise.all([first, post(worker, 'CLIMIT', 'from the other process')]);
  const [retried, other] = arrivals('CLIMIT');
  expect(retried.args.text).toBe('limited, then retried');
  expect(other.args.text).toBe('from the other process');
  expect(retried.at - limited.at).toBeGreaterThanOrEqual(1000);
  expect(other.at - limited.at).toBeGreaterThanOrEqual(1000);
  expect(other.at - retried.at).toBeGreaterThanOrEqual(0);
});
