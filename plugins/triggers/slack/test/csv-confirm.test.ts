// A CSV whose worst-case estimate is above service.batch.confirmAboveUsd (here $0.005; the fake
// provider costs $0.001 a call) gets the estimate with Run / Cancel first: nothing runs and no
// provider is asked until the person who shared it presses Run; anyone else is refused
// privately; Cancel says nothing was spent. A finished batch shows estimate vs actual.
import { dropTestData } from '../../../../test/support/test-app.js';
import type { FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from './support/fake-slack.js';
import { actionBody, commandBody, eventBody, FORM, sendSigned } from './support/slack-requests.js';

const SECRET = 'csv-confirm-secret';
let fake: FakeSlack;
let provider: FakeServer;
let app: SlackTestApp;
const base = () => `http://127.0.0.1:${app.port}`;

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-confirm': 'TK' } });
  ({ app, provider } = await startSlackTestApp({
    file: 'slack-csv-confirm',
    overrides: { queue: { concurrency: 10 }, service: { batch: { progressIntervalMs: 200, confirmAboveUsd: 0.005 } } },
    slack: { botToken: 'xoxb-confirm', signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0 },
  }));
}, 120_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
}, 120_000);

const csvOf = (tag: string, n: number) => ['domain', ...Array.from({ length: n }, (_, i) => `${tag}-${i}.com`)].join('\n');
const providerCallsFor = (tag: string) => provider.requests.filter((r) => String((r.json as { domain?: string })?.domain ?? '').startsWith(`${tag}-`)).length;

async function share(user: string, name: string, content: string): Promise<void> {
  const file = fake.addFile({ name, content, token: 'xoxb-confirm' });
  const res = await sendSigned(base(), {
    secret: SECRET,
    contentType: 'application/json',
    body: eventBody({ team: 'TK', event: { type: 'message', subtype: 'file_share', channel: `D${user}`, channel_type: 'im', user, text: '', ts: '200.1', files: [file] } }),
  });
  expect(res.status).toBe(200);
}

/** The Run / Cancel question for this file, and its buttons' value; clicks name the message `ts`. */
async function question(name: string, ts: string): Promise<{ call: SlackCall; value: string; ts: string }> {
  const call = await fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).startsWith(`*${name}* may cost up to`), 20_000);
  const blocks = (typeof call.args.blocks === 'string' ? JSON.parse(call.args.blocks) : call.args.blocks) as { type: string; elements?: { action_id: string; value: string }[] }[];
  const buttons = blocks.find((b) => b.type === 'actions')!.elements!;
  expect(buttons.map((b) => b.action_id)).toEqual(['csv_run', 'csv_cancel']);
  return { call, value: buttons[0].value, ts };
}

const click = (user: string, channel: string, actionId: string, value: string, messageTs: string) =>
  sendSigned(base(), { secret: SECRET, contentType: FORM, body: actionBody({ team: 'TK', channel, user, actionId, value, messageTs }) });

const batchOf = (label: string) => app.store.models.Batch.findOne({ label }).lean() as Promise<{ _id: string; estimate?: { worstUsd: number; expectedUsd: number } } | null>;

test('a CSV above the threshold gets the estimate with Run / Cancel; another person cannot run it; the uploader runs it once and the finished message shows estimate vs actual', async () => {
  await share('UA', 'big-run.csv', csvOf('run', 10));
  const q = await question('big-run.csv', '9.1');
  expect(q.call.args.text).toContain('$0.01');
  expect(q.call.args.text).toContain('10 to enrich');
  expect(q.call.args.text).toContain('Only <@UA> can run it');
  // Nothing ran while it waits.
  expect(providerCallsFor('run')).toBe(0);
  expect(await batchOf('big-run.csv')).toBeNull();

  expect((await click('UX', 'DUA', 'csv_run', q.value, q.ts)).status).toBe(200);
  const refusal = await fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'UX' && String(c.args.text).includes('Only <@UA>'));
  expect(refusal.args.text).toContain('big-run.csv');
  expect(await batchOf('big-run.csv')).toBeNull();

  // A double click by the uploader runs the batch once.
  await Promise.all([click('UA', 'DUA', 'csv_run', q.value, q.ts), click('UA', 'DUA', 'csv_run', q.value, q.ts)]);
  const finished = await fake.waitFor((c) => c.method === 'chat.update' && String(c.args.text).includes('*big-run.csv*: finished') && String(c.args.text).includes('Estimate:'), 30_000);
  expect(finished.args.text).toContain('Estimate: expected $');
  expect(finished.args.text).toContain('at most $0.01 · actual $0.01');
  expect(await app.store.models.Batch.countDocuments({ label: 'big-run.csv' })).toBe(1);
  expect(providerCallsFor('run')).toBe(10);
  const batch = await batchOf('big-run.csv');
  expect(batch?.estimate?.worstUsd).toBeCloseTo(0.01);
  expect(fake.of('chat.update').some((c) => c.args.ts === q.ts && String(c.args.text).startsWith('Running *big-run.csv*'))).toBe(true);
}, 60_000);

test('Cancel says nothing was spent, runs nothing, and a later Run finds the CSV gone', async () => {
  await share('UB', 'big-cancel.csv', csvOf('cancel', 10));
  const q = await question('big-cancel.csv', '9.2');
  await click('UB', 'DUB', 'csv_cancel', q.value, q.ts);
  const cancelled = await fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === q.ts && String(c.args.text).includes('big-cancel.csv'));
  expect(cancelled.args.text).toContain('nothing was run and nothing was spent');
  await click('UB', 'DUB', 'csv_run', q.value, q.ts);
  await fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'UB' && String(c.args.text).includes('already run or cancelled'));
  expect(providerCallsFor('cancel')).toBe(0);
  expect(await batchOf('big-cancel.csv')).toBeNull();
}, 60_000);

test('a CSV at or below the threshold runs at once, keeps its estimate, and its finished message shows estimate vs actual', async () => {
  await share('UC', 'small.csv', csvOf('small', 3));
  const finished = await fake.waitFor((c) => c.method === 'chat.update' && String(c.args.text).includes('*small.csv*: finished') && String(c.args.text).includes('Estimate:'), 30_000);
  expect(finished.args.text).toContain('at most $0.00 · actual $0.00');
  expect(fake.of('chat.postMessage').some((c) => String(c.args.text).startsWith('*small.csv* may cost'))).toBe(false);
  expect((await batchOf('small.csv'))?.estimate?.worstUsd).toBeCloseTo(0.003);
}, 60_000);

test('a /enrich with many inputs above the threshold asks Run / Cancel first; only the person who typed it runs them', async () => {
  const domains = Array.from({ length: 6 }, (_, i) => `cmd-${i}.com`);
  const res = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'TK', channel: 'CCMD', user: 'UA', text: domains.join(' ') }) });
  expect(res.status).toBe(200);
  expect(res.text).toContain('may cost up to $0.01: press Run');
  const q = await question('6 inputs from /enrich', '9.3');
  expect(q.call.args.channel).toBe('CCMD');
  expect(providerCallsFor('cmd')).toBe(0);

  await click('UX', 'CCMD', 'csv_run', q.value, q.ts);
  await fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'UX' && String(c.args.text).includes('who asked for 6 inputs'));
  expect(providerCallsFor('cmd')).toBe(0);

  await click('UA', 'CCMD', 'csv_run', q.value, q.ts);
  for (const d of domains) await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CCMD' && String(c.args.text).startsWith(`${d}:`), 30_000);
  expect(providerCallsFor('cmd')).toBe(6);
}, 60_000);

test('a /enrich with a few inputs at or below the threshold runs at once, as before', async () => {
  const res = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'TK', channel: 'CFEW', user: 'UA', text: 'few-0.com few-1.com' }) });
  expect(res.text).toContain('Enriching 2 inputs');
  await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CFEW' && String(c.args.text).startsWith('few-1.com:'), 30_000);
  expect(fake.of('chat.postMessage').some((c) => c.args.channel === 'CFEW' && String(c.args.text).includes('may cost up to'))).toBe(false);
}, 60_000);
