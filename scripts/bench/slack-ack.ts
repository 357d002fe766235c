// Part (h), Slack: how fast a signed `/enrich` is acknowledged, next to a bare express handler,
// and how long until its card is posted. The App (role all: the Slack trigger's HTTP receiver on
// POST /slack/events, and the worker) runs in a process of its own, as in a deployment, with one
// company provider answering at once (the fake provider) and the Slack Web API faked at the wire
// (fake-slack.ts, SLACK_API_URL). The bare handler is an express app in another process that
// reads the raw body and answers the same JSON. Both get the same signed bodies, in bursts of
// BENCH_SLACK_CONCURRENCY (50) sent at once, alternating bare and App, BENCH_SLACK_ROUNDS times;
// after each App burst the next waits for its 50 cards. Each command names its own channel (the
// trigger paces posts per channel at one a second, as Slack asks) and its own domain.
// Acknowledgement = from the request sent to its 200 read; card = from the request sent to the
// fake Slack receiving the card's chat.postMessage (or a post to its response_url). Then
// BENCH_SLACK_LONE commands one at a time: command to card with nothing else running.
// Goals: acknowledgement p99 under 50 ms and within 2x the bare handler's p99.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import express from 'express';
import slack from '../../plugins/triggers/slack/index.js';
import { slackSignature } from '../../plugins/triggers/slack/signature.js';
import { CONCURRENCY, PREFIX, dbUrl, num, percentile, startApp, table } from './app.js';
import type { FakeProvider } from './fake-provider.js';
import { startBenchSlack, type BenchSlack } from './fake-slack.js';
import { companyProvider } from './providers.js';
import type { ResultRow } from './report.js';

const BURST = num('BENCH_SLACK_CONCURRENCY', 50);
const ROUNDS = num('BENCH_SLACK_ROUNDS', 10);
const LONE = num('BENCH_SLACK_LONE', 20);
const TEAM = 'TBENCH';
const SECRET = 'bench-signing-secret';
const ACK = { response_type: 'ephemeral', text: 'Enriching 1 input…' };
const now = () => performance.timeOrigin + performance.now();

interface AppChildOpts {
  mongodbUrl: string;
  prefix: string;
  baseUrl: string;
  slackApiUrl: string;
}

async function appMain(opts: AppChildOpts): Promise<void> {
  const app = await startApp({
    role: 'all',
    mongodbUrl: opts.mongodbUrl,
    prefix: opts.prefix,
    plugins: { instant: companyProvider('instant'), slack },
    baseUrl: opts.baseUrl,
    waterfalls: { companyProfile: ['instant'] },
    concurrency: CONCURRENCY,
    triggers: { slack: { signingSecret: SECRET, botToken: 'xoxb-bench', apiUrl: opts.slackApiUrl } },
  });
  process.stdout.write(`ready ${app.port}\n`);
  await new Promise<void>((resolve) => process.stdin.on('end', resolve).resume());
  await app.stop();
  process.exit(0);
}

/** The least an HTTP handler for Slack can do: read the raw body, answer the acknowledgement. */
async function bareMain(): Promise<void> {
  const app = express();
  app.post('/slack/events', express.raw({ type: () => true, limit: '1mb' }), (_req, res) => void res.json(ACK));
  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`));
  await new Promise<void>((resolve) => process.stdin.on('end', resolve).resume());
  server.close();
  process.exit(0);
}

async function spawnServer(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; port: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { env: process.env });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)\n/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`Slack bench server ${args[0]} exited with ${code}: ${err}`)));
  });
}

async function stopServer(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

/** A slash command as Slack sends it (form-encoded), with its own trigger_id. */
function commandBody(channel: string, text: string, responseUrl: string): string {
  return new URLSearchParams({
    token: 'legacy', team_id: TEAM, team_domain: 'bench', channel_id: channel, channel_name: 'bench', user_id: 'UBENCH', user_name: 'bench',
    command: '/enrich', text, response_url: responseUrl, trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`, api_app_id: 'A1',
  }).toString();
}

/** Cards by key (channel or response_url id): resolves when the fake Slack receives one. */
class Cards {
  private readonly waiting = new Map<string, (at: number) => void>();
  constructor(slackApi: BenchSlack) {
    slackApi.onPost((p) => {
      if (p.kind === 'chat.postEphemeral') return;
      this.waiting.get(p.key)?.(p.at);
      this.waiting.delete(p.key);
    });
  }
  expect(key: string, timeoutMs = 120_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no card for ${key} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiting.set(key, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
}

interface Timed {
  ackMs: number;
  cardMs?: number;
}

/** Sends one signed command; with `cards`, also waits for its card. */
async function command(port: number, slackUrl: string, key: string, cards?: Cards): Promise<Timed> {
  const body = commandBody(key, `${key.toLowerCase()}-bench.com`, `${slackUrl}/response/${key}`);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const card = cards?.expect(key);
  const t0 = now();
  const res = await fetch(`http://127.0.0.1:${port}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SECRET, timestamp, body) },
    body,
  });
  const text = await res.text();
  const ackMs = now() - t0;
  if (res.status !== 200 || !text.includes('Enriching')) throw new Error(`/enrich answered ${res.status} ${text.slice(0, 200)}`);
  return card ? { ackMs, cardMs: (await card) - t0 } : { ackMs };
}

const burst = (n: number, send: (i: number) => Promise<Timed>) => Promise.all(Array.from({ length: n }, (_, i) => send(i)));

export async function slackBench(fake: FakeProvider): Promise<ResultRow[]> {
  const slackApi = await startBenchSlack(TEAM);
  const cards = new Cards(slackApi);
  const opts: AppChildOpts = { mongodbUrl: dbUrl('h'), prefix: `${PREFIX}-h`, baseUrl: fake.url, slackApiUrl: slackApi.apiUrl };
  const [app, bare] = await Promise.all([spawnServer(['--app', JSON.stringify(opts)]), spawnServer(['--bare'])]);
  const toApp = (key: string) => command(app.port, slackApi.url, key, cards);
  const toBare = (key: string) => command(bare.port, slackApi.url, key);
  const appTimes: Timed[] = [];
  const bareTimes: Timed[] = [];
  const lone: Timed[] = [];
  try {
    // Warm-up, not measured: connections, auth.test, code not yet optimized.
    await burst(BURST, (i) => toBare(`CW${i}`));
    await burst(BURST, (i) => toApp(`CW${i}`));
    for (let r = 0; r < ROUNDS; r++) {
      bareTimes.push(...(await burst(BURST, (i) => toBare(`CB${r}X${i}`))));
      appTimes.push(...(await burst(BURST, (i) => toApp(`CA${r}X${i}`))));
    }
    for (let i = 0; i < LONE; i++) lone.push(await toApp(`CL${i}`));
  } finally {
    await Promise.all([stopServer(app.child), stopServer(bare.child)]);
    await slackApi.close();
  }
  const p = (xs: number[], q: number) => percentile(xs, q);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const ack = appTimes.map((t) => t.ackMs);
  const bareAck = bareTimes.map((t) => t.ackMs);
  const card = appTimes.map((t) => t.cardMs!);
  const loneCard = lone.map((t) => t.cardMs!);
  const ratio = p(ack, 99) / p(bareAck, 99);
  console.log(`${ROUNDS} bursts of ${BURST} signed /enrich commands sent at once to each, alternating; the App with worker concurrency ${CONCURRENCY}:`);
  console.log(
    table([
      ['', 'commands', 'p50', 'p90', 'p99', 'max'],
      ['acknowledgement, bare express handler', String(bareAck.length), ...[50, 90, 99, 100].map((q) => ms(p(bareAck, q)))],
      ['acknowledgement, enrichbot', String(ack.length), ...[50, 90, 99, 100].map((q) => ms(p(ack, q)))],
      [`command to card, ${BURST} at once`, String(card.length), ...[50, 90, 99, 100].map((q) => ms(p(card, q)))],
      ['command to card, one at a time', String(loneCard.length), ...[50, 90, 99, 100].map((q) => ms(p(loneCard, q)))],
    ]),
  );
  console.log(`acknowledgement p99: enrichbot / bare = ${ratio.toFixed(2)} (goal: p99 under 50 ms and at most 2x the bare handler's)`);
  return [
    { what: `/enrich acknowledgement, ${BURST} at once (${ack.length} commands), p50 / p99`, result: `${ms(p(ack, 50))} / ${ms(p(ack, 99))}`, goal: 'p99 under 50 ms', met: p(ack, 99) < 50 },
    { what: 'the same against a bare express handler (same bodies, same bursts), p50 / p99', result: `${ms(p(bareAck, 50))} / ${ms(p(bareAck, 99))}; enrichbot's p99 is ${ratio.toFixed(2)}x`, goal: 'enrichbot within 2x', met: ratio <= 2 },
    { what: `command to card, ${BURST} at once, instant provider, p50 / p99`, result: `${ms(p(card, 50))} / ${ms(p(card, 99))}` },
    { what: `command to card, one at a time (${loneCard.length}), p50 / p99`, result: `${ms(p(loneCard, 50))} / ${ms(p(loneCard, 99))}` },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--app') await appMain(JSON.parse(process.argv[3]) as AppChildOpts);
  else if (process.argv[2] === '--bare') await bareMain();
}
