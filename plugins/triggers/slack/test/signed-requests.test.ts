// POST /slack/events accepts only requests signed with the signing secret, within five minutes
// of the (injected) clock: Slack's published example verifies with its own timestamp, and is
// refused as stale otherwise; a tampered body or a bad signature is refused and enqueues nothing.
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../../../src/clock.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { verifySlackSignature, slackSignature } from '../signature.js';
import slack from '../index.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, commandBody, FORM } from './support/slack-requests.js';

const vector = (JSON.parse(readFileSync('/work/shared/vectors/signatures.json', 'utf8')) as { slack_v0: { signing_secret: string; timestamp: string; body: string; expected_signature: string } }).slack_v0;

let fake: FakeSlack;
let app: Awaited<ReturnType<typeof startTestApp>>;
const clock = new ManualClock(Number(vector.timestamp) * 1000);
const base = () => `http://127.0.0.1:${app.port}`;

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-one': 'T1DC2JH3J' } });
  app = await startTestApp({
    file: 'slack-signed',
    clock,
    role: 'all',
    plugins: { slack },
    overrides: { plugins: { providers: [], triggers: ['slack'] }, triggers: { slack: { botToken: 'xoxb-one', signingSecret: vector.signing_secret, apiUrl: fake.apiUrl, postIntervalMs: 0 } } },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
});

const jobs = () => app.store.models.Job.countDocuments({});

test("Slack's published example signature matches (HMAC v0 over v0:timestamp:body)", () => {
  expect(slackSignature(vector.signing_secret, vector.timestamp, vector.body)).toBe(vector.expected_signature);
  const at = new Date(Number(vector.timestamp) * 1000);
  expect(verifySlackSignature({ signingSecret: vector.signing_secret, timestamp: vector.timestamp, signature: vector.expected_signature, rawBody: vector.body, now: at })).toEqual({ ok: true });
});

test('the same example is refused as stale by the live clock, and so is one 5 minutes and 1 second off either way', () => {
  const args = { signingSecret: vector.signing_secret, timestamp: vector.timestamp, signature: vector.expected_signature, rawBody: vector.body };
  expect(verifySlackSignature({ ...args, now: new Date() })).toEqual({ ok: false, reason: 'stale' });
  const t = Number(vector.timestamp) * 1000;
  expect(verifySlackSignature({ ...args, now: new Date(t + 301_000) })).toEqual({ ok: false, reason: 'stale' });
  expect(verifySlackSignature({ ...args, now: new Date(t - 301_000) })).toEqual({ ok: false, reason: 'stale' });
  expect(verifySlackSignature({ ...args, now: new Date(t + 299_000) })).toEqual({ ok: true });
});

test('the example request is accepted at POST /slack/events with the clock at its timestamp', async () => {
  clock.set(Number(vector.timestamp) * 1000 + 30_000);
  const res = await sendSigned(base(), { secret: vector.signing_secret, body: vector.body, contentType: FORM, timestamp: Number(vector.timestamp), signature: vector.expected_signature });
  expect(res.status).toBe(200);
  // It reached Bolt: the example's /webhook-collect is not ours, and the bot says so.
  expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/webhook-collect') });
});

test('the same request six minutes later is refused as stale', async () => {
  clock.set(Number(vector.timestamp) * 1000 + 6 * 60_000);
  const res = await sendSigned(base(), { secret: vector.signing_secret, body: vector.body, contentType: FORM, timestamp: Number(vector.timestamp), signature: vector.expected_signature });
  expect(res.status).toBe(401);
  expect(JSON.parse(res.text)).toEqual({ ok: false, error: 'stale' });
});

test('a tampered body, a bad signature or no signature is refused and nothing is enqueued; a well-signed /enrich is', async () => {
  const now = Math.floor(Date.now() / 1000);
  clock.set(now * 1000);
  const body = commandBody({ team: 'T1DC2JH3J', channel: 'C1', user: 'U1', text: 'acme.com' });
  const signature = slackSignature(vector.signing_secret, String(now), body);
  const callsBefore = fake.calls.length;

  const tampered = await sendSigned(base(), { secret: vector.signing_secret, body: body.replace('acme.com', 'evil.com'), contentType: FORM, timestamp: now, signature });
  expect(tampered).toEqual({ status: 401, text: JSON.stringify({ ok: false, error: 'bad_signature' }) });
  const wrongSecret = await sendSigned(base(), { secret: 'not-the-secret', body, contentType: FORM, timestamp: now });
  expect(wrongSecret.status).toBe(401);
  const garbage = await sendSigned(base(), { secret: vector.signing_secret, body, contentType: FORM, timestamp: now, signature: 'v0=00' });
  expect(garbage.status).toBe(401);
  const unsigned = await fetch(`${base()}/slack/events`, { method: 'POST', headers: { 'content-type': FORM }, body });
  expect(unsigned.status).toBe(401);
  expect(await jobs()).toBe(0);
  expect(fake.calls.length).toBe(callsBefore);

  const good = await sendSigned(base(), { secret: vector.signing_secret, body, contentType: FORM, timestamp: now, signature });
  expect(good.status).toBe(200);
  expect(JSON.parse(good.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 1 input…' });
  for (let i = 0; i < 100 && (await jobs()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await jobs()).toBe(1);
});
