// The daily digest on real parts: two worker Apps on one database and Redis prefix, the real
// scheduler on an injected clock, the real daily-digest trigger, and a test "slack" trigger that
// posts with the real @slack/web-api WebClient to a local fake of the Slack Web API.
import { z } from 'zod';
import { WebClient } from '@slack/web-api';
import { ManualClock } from '../../../../src/clock.js';
import { defineTrigger } from '../../../../src/plugin/contract.js';
import type { Scheduler } from '../../../../src/platform/scheduler.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { startFakeSlack, type FakeSlack } from '../../../../test/support/fake-slack.js';
import { cliEnv, runCli, writeConfig } from '../../../../test/support/cli-env.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import digestTrigger from '../index.js';
import { buildDigest, runDigest, CHART_FILENAME } from '../digest.js';
import { CHART_HEIGHT, CHART_WIDTH, spendChartSvg } from '../chart.js';

const slackTrigger = defineTrigger({
  kind: 'trigger',
  id: 'slack',
  description: 'test: posts through the real Slack WebClient to a fake Slack API',
  configSchema: z.object({ apiUrl: z.string(), botToken: z.string() }),
  async notify(message, ctx) {
    // Slack "down": the same client against a port where nothing listens.
    const client = new WebClient(ctx.config.botToken, { slackApiUrl: slackDown ? 'http://127.0.0.1:9/api/' : ctx.config.apiUrl, retryConfig: { retries: 0 } });
    const posted = await client.chat.postMessage({ channel: message.channel, text: message.text, blocks: message.blocks as never });
    for (const f of message.files ?? []) {
      await client.filesUploadV2({ channel_id: posted.channel!, thread_ts: posted.ts!, file: f.content, filename: f.filename, title: f.title ?? f.filename });
    }
    return { channel: posted.channel!, ts: posted.ts };
  },
});

let slackDown = false;

/** Another trigger that can post (a pager): what reaches it is recorded. */
const paged: { channel: string; text: string }[] = [];
const pagerTrigger = defineTrigger({
  kind: 'trigger',
  id: 'pager',
  description: 'test: a second trigger that can post',
  configSchema: z.object({}).loose(),
  async notify(message) {
    paged.push({ channel: message.channel, text: message.text });
    return { channel: message.channel };
  },
});

const DAY = '2026-03-01';
const clock = new ManualClock(new Date('2026-03-01T15:00:00Z'));
let slack: FakeSlack;
/** A provider the recovery test breaks and mends: 503 while `probeDown`. */
let probe: FakeServer;
let probeDown = false;
let a: Awaited<ReturnType<typeof startTestApp>>;
let b: Awaited<ReturnType<typeof startTestApp>>;
const schedulerOf = (app: object) => (app as { scheduler: Scheduler }).scheduler;

async function seed(app: typeof a): Promise<void> {
  const { Ledger, Job } = app.store.models;
  const row = (o: Record<string, unknown>, at = `${DAY}T10:00:00Z`) => ({ costUsd: 0, charged: false, ...o, at: new Date(at), day: String(at).slice(0, 10) });
  await Ledger.create([
    ...[1, 2, 3].map(() => row({ workspace: 'T1', provider: 'apollo', outcome: 'matched', costUsd: 0.1, charged: true })),
    row({ workspace: 'T1', provider: 'apollo', outcome: 'no_match' }),
    row({ workspace: 'T1', provider: 'apollo', outcome: 'error', errorKind: 'server', error: 'HTTP 502 bad gateway' }, `${DAY}T11:00:00Z`),
    row({ workspace: 'T1', provider: 'apollo', outcome: 'error', errorKind: 'server', error: 'HTTP 503 <b>down</b> & out <!channel>' }, `${DAY}T12:00:00Z`),
    row({ workspace: 'T1', provider: 'apollo', outcome: 'cached' }),
    ...[1, 2].map(() => row({ workspace: 'T2', provider: 'prospeo', outcome: 'matched', costUsd: 0.05, charged: true })),
    row({ workspace: 'T2', provider: 'prospeo', outcome: 'error', errorKind: 'rate_limit', error: 'Too many requests' }),
    ...[1, 2, 3].map(() => row({ workspace: 'T1', provider: 'exa', outcome: 'circuit_open', errorKind: 'circuit_open', error: 'circuit open' })),
    // Other days: one inside the chart's 7 days, one outside it.
    row({ workspace: 'T1', provider: 'apollo', outcome: 'matched', costUsd: 0.2, charged: true }, '2026-02-27T10:00:00Z'),
    row({ workspace: 'T1', provider: 'apollo', outcome: 'matched', costUsd: 5, charged: true }, '2026-02-20T10:00:00Z'),
  ]);
  const job = (jobId: string, finishedAt: string, outcomes: Record<string, unknown>[]) => ({ _id: jobId, jobId, workspace: 'T1', status: 'done' as const, outcomes, finishedAt: new Date(finishedAt) }) as never;
  await Job.insertMany([
    job('enr_1', `${DAY}T10:00:00Z`, [{ group: 'workEmail', provider: 'apollo', outcome: 'matched', costUsd: 0.1, fields: ['person.workEmail'] }]),
    job('enr_2', `${DAY}T11:00:00Z`, [{ group: 'workEmail', provider: 'apollo', outcome: 'cached', costUsd: 0, fields: ['person.workEmail'] }]),
    job('enr_3', `${DAY}T12:00:00Z`, [{ group: 'companyProfile', provider: 'apollo', outcome: 'matched', costUsd: 0.1, fields: ['company.name'] }]),
    job('enr_4', '2026-02-28T12:00:00Z', [{ group: 'workEmail', provider: 'apollo', outcome: 'matched', costUsd: 0.1, fields: ['person.workEmail'] }]),
  ]);
  // Through the service's own hooks, as the worker and the HubSpot trigger call them.
  await app.service.jobFinished({ jobId: 'enr_5', workspace: 'T2', status: 'paused', display: 'x@y.com', costUsd: 0, outcomes: [{ group: 'workEmail', provider: 'prospeo', outcome: 'cap_reached', reason: "workspace T2's daily spend cap of $0.50 is reached", costUsd: 0 }] });
  await app.service.logActivity({ workspace: 'T1', actor: 'hubspot', action: 'push', subject: 'jane@acme.com', detail: { destination: 'hubspot', ok: false, error: 'PROPERTY_DOESNT_EXIST <x>', objectId: 501 } });
  await app.service.logActivity({ workspace: 'T1', actor: 'hubspot', action: 'push', subject: 'joe@acme.com', detail: { destination: 'hubspot', ok: true, objectId: 502 } });
}

beforeAll(async () => {
  slack = await startFakeSlack();
  probe = await startFakeServer({ 'POST /probe': () => (probeDown ? { status: 503, json: { error: 'down' } } : { json: { found: true, fields: { 'company.acceptsMail': true } } }) });
  const overrides = {
    plugins: { triggers: ['slack', 'pager', 'daily-digest'], providers: ['probe'] },
    providers: { probe: { baseUrl: probe.url } },
    waterfalls: { mailServer: ['probe'] },
    resilience: { breakerThreshold: 2, maxRetries: 1 },
    triggers: { slack: { apiUrl: slack.apiUrl, botToken: 'xoxb-test-token' }, 'daily-digest': { channel: '#ops', alertsChannel: '#alerts', time: '09:00', timeZone: 'UTC' } },
    spendCaps: { dailyUsd: 10, perWorkspaceDailyUsd: 1, workspaces: { T2: 0.5 } },
  };
  const plugins = { slack: slackTrigger, pager: pagerTrigger, 'daily-digest': digestTrigger, probe: httpProvider({ id: 'probe', returns: ['company.acceptsMail'], needs: [['domain']], usd: 0 }) } as never;
  a = await startTestApp({ file: 'daily-digest', role: 'worker', clock, plugins, overrides });
  b = await startTestApp({ file: 'daily-digest', names: a.names, role: 'worker', clock, plugins, overrides });
  await seed(a);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  if (a) await dropTestData(a.names);
  await slack?.close();
  await probe?.close();
});

/** Moves the shared clock and lets both workers run what is due. */
async function bothAt(iso: string): Promise<void> {
  clock.set(new Date(iso));
  await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick()]);
  await Promise.all([schedulerOf(a).whenIdle(), schedulerOf(b).whenIdle()]);
}

test('the daily report states the exact figures of the seeded ledger', async () => {
  const r = await a.service.dailyReport(DAY);
  expect(r.totalUsd).toBe(0.4);
  expect(r.providers).toEqual([
    { provider: 'apollo', calls: 6, hits: 3, hitRate: 0.5, cached: 1, costUsd: 0.3 },
    { provider: 'prospeo', calls: 3, hits: 2, hitRate: 2 / 3, cached: 0, costUsd: 0.1 },
    { provider: 'exa', calls: 0, hits: 0, hitRate: null, cached: 0, costUsd: 0 },
  ]);
  expect(r.workspaces).toEqual([
    { workspace: 'T1', costUsd: 0.3, capUsd: 1 },
    { workspace: 'T2', costUsd: 0.1, capUsd: 0.5 },
  ]);
  expect(r.emailsFound).toBe(2);
  expect(r.costPerEmailUsd).toBe(0.2);
  expect(r.errors).toEqual([
    { provider: 'apollo', kind: 'server', count: 2, sample: 'HTTP 503 <b>down</b> & out <!channel>' },
    { provider: 'prospeo', kind: 'rate_limit', count: 1, sample: 'Too many requests' },
  ]);
  expect(r.breakers).toEqual([{ provider: 'exa', refused: 3 }]);
  expect(r.pausedJobs).toEqual({ count: 1, jobs: [{ jobId: 'enr_5', workspace: 'T2', reason: "workspace T2's daily spend cap of $0.50 is reached" }] });
  // No trigger here declares what pushes to "hubspot" are: its failures are listed under its id.
  expect(r.pushFailures).toEqual([
    { destination: 'hubspot', label: 'hubspot', count: 1, records: [{ workspace: 'T1', subject: 'jane@acme.com', error: 'PROPERTY_DOESNT_EXIST <x>', objectId: '501', at: '2026-03-01T15:00:00.000Z' }] },
  ]);

  const series = await a.service.spendSeries(DAY, 7);
  expect(series.days).toEqual(['2026-02-23', '2026-02-24', '2026-02-25', '2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01']);
  expect(series.providers).toEqual(['apollo', 'prospeo']);
  expect(series.usd).toEqual({ apollo: [0, 0, 0, 0, 0.2, 0, 0.3], prospeo: [0, 0, 0, 0, 0, 0, 0.1] });
});

test('the digest text carries every section and escapes provider and user text for mrkdwn', async () => {
  const d = buildDigest(await a.service.dailyReport(DAY), await a.service.queueHealth());
  expect(d.quiet).toBe(false);
  const lines = d.plain.split('\n');
  for (const line of [
    'Enrichbot digest for 2026-03-01 (UTC)',
    'Spend $0.4000 of $10.00 daily cap (4.0%) · new spend vs Sun 2026-02-22 ($0.00)',
    'Month to date (2026-03-01 to 2026-03-01)',
    '  - T1: $0.30, forecast $9.30 by 2026-03-31',
    '  - apollo: $0.3000 · 6 calls · 3 hits (50.0%) · 1 cached',
    '  - prospeo: $0.1000 · 3 calls · 2 hits (66.7%)',
    '  - exa: $0.00 · 0 calls · 0 hits',
    '  - T1: $0.3000 of $1.00 cap (30.0%)',
    '  - T2: $0.1000 of $0.50 cap (20.0%)',
    '  - $0.2000 (2 emails found)',
    '  - apollo · server × 2 — "HTTP 503 <b>down</b> & out <!channel>"',
    '  - prospeo · rate_limit × 1 — "Too many requests"',
    '  - exa: open, 3 calls refused',
    '  - 1 job',
    '  - 1 record',
    '  - T1 · jane@acme.com (object 501): PROPERTY_DOESNT_EXIST <x>',
    '  - 0 waiting · 0 active · 0 delayed · 0 failed',
  ]) {
    expect(lines).toContain(line);
  }
  const slackText = `${d.text}\n${JSON.stringify(d.blocks)}`;
  expect(d.text).toContain('apollo · server × 2 — "HTTP 503 &lt;b&gt;down&lt;/b&gt; &amp; out &lt;!channel&gt;"');
  expect(d.text).toContain('PROPERTY_DOESNT_EXIST &lt;x&gt;');
  expect(slackText).not.toContain('<!channel>');
  expect(slackText).not.toContain('<b>');
  expect(slackText).not.toContain('<x>');
});

test('a quiet day says so in one line', async () => {
  const d = buildDigest(await a.service.dailyReport('2026-02-25'), await a.service.queueHealth());
  expect(d.quiet).toBe(true);
  expect(d.plain).toBe('Enrichbot digest for 2026-02-25 (UTC): a quiet day, no provider calls, no errors, nothing paused.');
  expect(d.plain.split('\n')).toHaveLength(1);
});

test('two workers racing the 09:00 schedule post the digest once, with the 7-day chart as a PNG', async () => {
  clock.set(new Date('2026-03-02T08:59:59Z'));
  await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick()]);
  const before = slack.messages().length;
  clock.set(new Date('2026-03-02T09:00:00.010Z'));
  await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick(), schedulerOf(a).tick(), schedulerOf(b).tick()]);
  await Promise.all([schedulerOf(a).whenIdle(), schedulerOf(b).whenIdle()]);

  const digests = slack.messages().slice(before).filter((m) => String(m.args.text).startsWith('*Enrichbot digest'));
  expect(digests).toHaveLength(1);
  const msg = digests[0]!;
  expect(msg.args.channel).toBe('#ops');
  expect(msg.headers.authorization).toBe('Bearer xoxb-test-token');
  expect(String(msg.args.text)).toContain('*Enrichbot digest for 2026-03-01 (UTC)*');
  expect(String(msg.args.text)).toContain('apollo: $0.3000 · 6 calls · 3 hits (50.0%) · 1 cached');
  expect((msg.args.blocks as { type: string }[])[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Enrichbot digest for 2026-03-01 (UTC)' } });

  const asked = slack.calls.filter((c) => c.method === 'files.getUploadURLExternal');
  expect(asked).toHaveLength(1);
  expect(asked[0]!.args.filename).toBe(CHART_FILENAME);
  expect(slack.uploads).toHaveLength(1);
  const png = slack.uploads[0]!.bytes;
  expect(Number(asked[0]!.args.length)).toBe(png.length);
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  expect(png.readUInt32BE(16)).toBe(CHART_WIDTH);
  expect(png.readUInt32BE(20)).toBe(CHART_HEIGHT);
  const completed = slack.calls.filter((c) => c.method === 'files.completeUploadExternal');
  expect(completed).toHaveLength(1);
  expect(completed[0]!.args.channel_id).toBe('C0DIGEST01');
  expect(completed[0]!.args.files).toEqual([{ id: slack.uploads[0]!.fileId, title: 'Spend, 2026-02-23 to 2026-03-01' }]);
});

test('a dry run builds the digest and the chart and posts nothing', async () => {
  const calls = slack.calls.length;
  const run = await runDigest(a.service, { channel: '#ops' }, DAY, { dryRun: true });
  expect(run.digest.plain).toContain('apollo: $0.3000 · 6 calls');
  expect(run.chart?.png.readUInt32BE(16)).toBe(CHART_WIDTH);
  expect(run.posted).toBeUndefined();
  expect(slack.calls.length).toBe(calls);
});

test('an open circuit is alerted once to the alerts channel, not again within the hour, across both workers', async () => {
  const { Ledger } = a.store.models;
  const t = new Date('2026-03-02T10:00:10Z');
  await Ledger.create([
    { workspace: 'T1', provider: 'findymail', outcome: 'error', errorKind: 'server', error: 'HTTP 500 <internal>', costUsd: 0, charged: false, at: new Date(t.getTime() - 5000), day: '2026-03-02' },
    ...[1, 2].map(() => ({ workspace: 'T1', provider: 'findymail', outcome: 'circuit_open', errorKind: 'circuit_open', error: 'circuit open', costUsd: 0, charged: false, at: t, day: '2026-03-02' })),
  ]);
  const before = slack.messages().length;
  clock.set(new Date('2026-03-02T10:00:30Z'));
  await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick()]);
  clock.set(new Date('2026-03-02T10:01:30Z'));
  await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick()]);
  clock.set(new Date('2026-03-02T10:02:30Z'));
  await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick()]);

  const alerts = slack.messages().slice(before);
  expect(alerts).toHaveLength(1);
  expect(alerts[0]!.args.channel).toBe('#alerts');
  expect(String(alerts[0]!.args.text)).toContain('*findymail is failing*: its circuit breaker is open and refused 2 calls');
  expect(String(alerts[0]!.args.text)).toContain('Last error (server): "HTTP 500 &lt;internal&gt;"');
});

test('structured provider status per job: { status, error, at } from its ledger rows', async () => {
  const { Ledger } = a.store.models;
  await Ledger.create([
    { workspace: 'T9', jobId: 'enr_status', provider: 'apollo', outcome: 'error', errorKind: 'server', error: 'HTTP 503', httpStatus: 503, costUsd: 0, charged: false, at: new Date('2026-03-02T10:00:00Z'), day: '2026-03-02' },
    { workspace: 'T9', jobId: 'enr_status', provider: 'prospeo', outcome: 'matched', httpStatus: 200, costUsd: 0.01, charged: true, at: new Date('2026-03-02T10:00:01Z'), day: '2026-03-02' },
  ]);
  expect(await a.service.providerStatus('enr_status', 'T9')).toEqual({
    apollo: { status: 'error', error: 'HTTP 503', httpStatus: 503, at: '2026-03-02T10:00:00.000Z' },
    prospeo: { status: 'matched', httpStatus: 200, at: '2026-03-02T10:00:01.000Z' },
  });
  expect(await a.service.providerStatus('enr_status', 'other-workspace')).toEqual({});
});

test('a bad day is refused with what to give', async () => {
  await expect(a.service.dailyReport('2026-02-30')).rejects.toMatchObject({ code: 'ENRICHBOT_ERR_INPUT_INVALID' });
  await expect(a.service.spendSeries(DAY, 0)).rejects.toMatchObject({ code: 'ENRICHBOT_ERR_INPUT_INVALID' });
});

test('enrichbot digest --dry-run prints the digest and posts nothing; without --now or --dry-run it says what to give; disabled, it says how to enable it', async () => {
  const enabled = writeConfig({ plugins: { triggers: ['slack', 'daily-digest'] }, triggers: { slack: { apiUrl: slack.apiUrl, botToken: 'xoxb-test-token', signingSecret: 'test-signing-secret' }, 'daily-digest': { channel: '#ops' } } });
  const env = cliEnv(a.names, { ENRICHBOT_CONFIG: enabled });
  const posted = slack.messages().length;
  const dry = await runCli(['digest', '--dry-run', '--date', DAY], env, 120000);
  expect(dry.stderr).toBe('');
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('  - apollo: $0.3000 · 6 calls · 3 hits (50.0%) · 1 cached');
  expect(dry.stdout).toContain(`Chart: ${CHART_FILENAME}, ${CHART_WIDTH}x${CHART_HEIGHT} px`);
  expect(dry.stdout).toContain('Dry run: nothing was posted.');
  expect(slack.messages().length).toBe(posted);
  const none = await runCli(['digest'], env);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('--now posts the digest, --dry-run prints it');
  const noTrigger = await runCli(['digest', '--now', '--date', DAY], cliEnv(a.names));
  expect(noTrigger.code).toBe(1);
  expect(noTrigger.stderr).toContain('daily-digest: disabled; enable it: add daily-digest to plugins.triggers');
  expect(noTrigger.stderr).toContain('ENRICHBOT_ERR_TRIGGER_UNKNOWN');
}, 150000);

test('the digest without the slack trigger is refused at start-up and by check-config, in one sentence naming both plugins', async () => {
  const overrides = { plugins: { triggers: ['daily-digest'] }, triggers: { 'daily-digest': { channel: '#ops' } } };
  // An App that did start is stopped here, so a regression fails the test instead of hanging it.
  const outcome = await startTestApp({ file: 'daily-digest-nodep', role: 'worker', plugins: { 'daily-digest': digestTrigger } as never, overrides }).then(
    async (started) => {
      await started.stop();
      await dropTestData(started.names);
      return 'started';
    },
    (err: unknown) => err,
  );
  expect(outcome).toMatchObject({ issues: [{ code: 'ENRICHBOT_ERR_PLUGIN_DEPENDENCY_MISSING', message: expect.stringMatching(/"daily-digest".*"slack"/) }] });
  const config = writeConfig({ plugins: { triggers: ['daily-digest'] }, triggers: { 'daily-digest': { channel: '#ops' } } });
  const checked = await runCli(['check-config'], cliEnv(a.names, { ENRICHBOT_CONFIG: config }));
  expect(checked.code).toBe(1);
  const problems = checked.stderr.split('\n').filter((l) => l.startsWith('  - '));
  expect(problems).toEqual([expect.stringContaining('[ENRICHBOT_ERR_PLUGIN_DEPENDENCY_MISSING]')]);
  expect(problems[0]).toContain('plugin "daily-digest" depends on "slack"');
}, 60000);

test('a digest that fails while Slack is down is retried within the grace period and posted once when Slack is back', async () => {
  const digestsFor = (day: string) => slack.messages().filter((m) => String(m.args.text).includes(`Enrichbot digest for ${day}`));
  const at = async (iso: string) => {
    clock.set(new Date(iso));
    await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick()]);
    await Promise.all([schedulerOf(a).whenIdle(), schedulerOf(b).whenIdle()]);
  };
  paged.length = 0;
  slackDown = true;
  await at('2026-03-03T09:00:00.010Z'); // fails
  await at('2026-03-03T09:01:00.010Z'); // the first retry fails too
  slackDown = false;
  await at('2026-03-03T09:03:00.010Z'); // the second retry posts it
  await at('2026-03-03T09:40:00.010Z');
  expect(digestsFor('2026-03-02')).toHaveLength(1);
  expect(paged).toEqual([]);
});

test('a digest still failing when the grace period ends raises one alert through every trigger that can still post', async () => {
  const at = async (iso: string) => {
    clock.set(new Date(iso));
    await Promise.all([schedulerOf(a).tick(), schedulerOf(b).tick()]);
    await Promise.all([schedulerOf(a).whenIdle(), schedulerOf(b).whenIdle()]);
  };
  paged.length = 0;
  slackDown = true;
  const before = slack.messages().length;
  // Attempts at 09:00, 09:01, 09:03, 09:07, 09:15, 09:31; the next (10:03) is past the hour of grace.
  for (const t of ['09:00', '09:01', '09:03', '09:07', '09:15', '09:31', '09:45', '10:05', '11:00']) await at(`2026-03-04T${t}:00.010Z`);
  slackDown = false;
  expect(slack.messages().length).toBe(before);
  expect(paged).toHaveLength(1);
  expect(paged[0]!.channel).toBe('#alerts');
  expect(paged[0]!.text).toContain('The daily digest for 2026-03-03 was not posted');
  expect(paged[0]!.text).toContain('6 attempts');
  expect(paged[0]!.text).toContain('enrichbot digest --now --date 2026-03-03');
});

test('spend cap alerts go out at 80 % and at 100 % of a cap, once each per day across both workers', async () => {
  await bothAt('2026-03-05T12:00:00.010Z');
  const before = slack.messages().length;
  const capMessages = () => slack.messages().slice(before).map((m) => String(m.args.text)).filter((t) => t.includes('spend cap'));
  // T2's cap is $0.50: reserve as the engine does before paid calls.
  expect((await a.spendCap.reserve('T2', 0.35)).ok).toBe(true);
  await bothAt('2026-03-05T12:01:00.010Z');
  expect(capMessages()).toEqual([]);
  expect((await b.spendCap.reserve('T2', 0.05)).ok).toBe(true); // $0.40: 80 %
  await bothAt('2026-03-05T12:02:00.010Z');
  await bothAt('2026-03-05T12:03:00.010Z');
  expect(capMessages()).toEqual([expect.stringContaining("*Workspace T2's daily spend cap is 80% used*: $0.40 of $0.50 spent on 2026-03-05 (UTC)")]);
  expect((await a.spendCap.reserve('T2', 0.1)).ok).toBe(true); // $0.50: reached
  await bothAt('2026-03-05T12:04:00.010Z');
  await bothAt('2026-03-05T12:05:00.010Z');
  expect(capMessages()).toHaveLength(2);
  expect(capMessages()[1]).toContain("*Workspace T2's daily spend cap is reached*: $0.50 of $0.50");
  expect(slack.messages().slice(before).every((m) => m.args.channel === '#alerts')).toBe(true);
  // The next day starts again from nothing.
  await bothAt('2026-03-06T00:01:00.010Z');
  expect(capMessages()).toHaveLength(2);
});

test('a provider whose breaker opened is alerted once, and "recovered" is posted once when its breaker closes', async () => {
  await bothAt('2026-03-06T10:00:00.010Z');
  const before = slack.messages().length;
  const texts = () => slack.messages().slice(before).map((m) => String(m.args.text));
  probeDown = true;
  for (const d of ['one.com', 'two.com', 'three.com']) await a.enrichAndWait({ workspace: 'T1', input: d, groups: ['mailServer'] });
  expect((await a.service.breakerStates()).probe).toBe('open');
  await bothAt('2026-03-06T10:00:30.010Z');
  await bothAt('2026-03-06T10:01:30.010Z');
  expect(texts().filter((t) => t.includes('*probe is failing*'))).toHaveLength(1);
  expect(texts().filter((t) => t.includes('recovered'))).toEqual([]);
  // After the cool-down (60 s) a trial call goes through and closes the breaker.
  probeDown = false;
  await bothAt('2026-03-06T10:03:00.010Z');
  const mended = await a.enrichAndWait({ workspace: 'T1', input: 'four.com', groups: ['mailServer'] });
  expect(mended.outcomes.map((o) => o.outcome)).toEqual(['matched']);
  await bothAt('2026-03-06T10:04:00.010Z');
  await bothAt('2026-03-06T10:05:00.010Z');
  expect(texts().filter((t) => t.includes('recovered'))).toEqual([expect.stringContaining('*probe recovered*: its circuit breaker is closed again')]);
});

test('the digest shows month-to-date spend per workspace with a forecast to month end, and the change against the same weekday last week', async () => {
  // 2026-02-27 (a Friday): $0.20 that day; February so far $5.20 (T1), $5.00 of it on Friday 02-20.
  const r = await a.service.dailyReport('2026-02-27');
  expect(r.sameDayLastWeek).toEqual({ day: '2026-02-20', totalUsd: 5 });
  expect(r.monthToDate).toEqual({ from: '2026-02-01', through: '2026-02-27', daysInMonth: 28, totalUsd: 5.2, forecastUsd: 5.392593, workspaces: [{ workspace: 'T1', costUsd: 5.2, forecastUsd: 5.392593 }] });
  const lines = buildDigest(r, await a.service.queueHealth()).plain.split('\n');
  expect(lines).toContain('Spend $0.2000 of $10.00 daily cap (2.0%) · -96.0% vs Fri 2026-02-20 ($5.00)');
  expect(lines).toContain('Month to date (2026-02-01 to 2026-02-27)');
  expect(lines).toContain('  - all workspaces: $5.20, forecast $5.39 by 2026-02-28');
  expect(lines).toContain('  - T1: $5.20, forecast $5.39 by 2026-02-28');
});

test('the spend chart draws the daily cap as a line, and none without a cap', async () => {
  const series = await a.service.spendSeries(DAY, 7);
  expect(series.capUsd).toBe(10);
  const svg = spendChartSvg(series);
  expect(svg).toContain('daily cap $10.00');
  expect(spendChartSvg({ ...series, capUsd: null })).not.toContain('daily cap');
});
