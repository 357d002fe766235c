// Part (d), pacing: a fake provider allowing R calls in any sliding second (429 beyond),
// answering in BENCH_LATENCY_MS; BENCH_WORKERS worker processes share its ratePerSecond = R with
// the default resilience.rateHeadroom. For each R (BENCH_RATES, 20 and 50 by default): the most
// calls it received in any sliding second (goal: <= R), the achieved rate as a share of R (goal:
// >= 95 %), and 429s. Then the limiter alone in the same number of processes (loops that wait for
// a grant and call, no queue or database), which shows the limiter's share of R when the engine
// cannot outrun R on the machine at hand.
import { loadConfig } from '../../src/config/load.js';
import { CONCURRENCY, PREFIX, dbUrl, num, startApp, table } from './app.js';
import { busiestSecond, type FakeProvider } from './fake-provider.js';
import { companyProvider } from './providers.js';
import type { ResultRow } from './report.js';
import { spawnWorker, stopWorker, type WorkerOpts } from './worker-process.js';

const RATES = (process.env.BENCH_RATES ?? '20,50').split(',').map(Number).filter((r) => r > 0);
const RATE_SECONDS = num('BENCH_RATE_SECONDS', 15);
const WORKERS = num('BENCH_WORKERS', 3);
export const LATENCY_MS = num('BENCH_LATENCY_MS', 200);

interface PacingRun {
  label: string;
  rate: number;
  jobs: number;
  seconds: number;
  achieved: number;
  busiest: number;
  /** Limiter alone: the most grants, and the most sends, in any sliding second. */
  busiestGranted?: number;
  busiestSent?: number;
  rejected: number;
  outcomes: Record<string, number>;
}

const limitedProvider = (rate: number) => ({ id: 'limited', path: '/limited', ratePerSecond: rate });

async function pacing(fake: FakeProvider, rate: number): Promise<PacingRun> {
  const part = `d${rate}`;
  const opts: WorkerOpts = { mongodbUrl: dbUrl(part), prefix: `${PREFIX}-${part}`, baseUrl: fake.url, provider: limitedProvider(rate) };
  const client = await startApp({ role: 'client', mongodbUrl: opts.mongodbUrl, prefix: opts.prefix, plugins: { limited: companyProvider('limited', limitedProvider(rate)) }, baseUrl: fake.url, waterfalls: { companyProfile: ['limited'] }, concurrency: CONCURRENCY });
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => spawnWorker(opts)));
  const jobs = Math.round(rate * RATE_SECONDS);
  const run = async (name: string, n: number) => {
    const ids = await Promise.all(Array.from({ length: n }, (_, i) => client.enqueue({ workspace: 'bench', input: `${name}${i}.com`, groups: ['companyProfile'] })));
    await Promise.all(ids.map((j) => client.service.waitFor(j.jobId, 300_000)));
  };
  try {
    await run('warm', WORKERS * 5);
    await new Promise((r) => setTimeout(r, 1100)); // let the provider's window empty
    await fake.reset(rate);
    const t0 = Date.now();
    await run('paced', jobs);
    const ms = Date.now() - t0;
    const stats = await fake.stats();
    const at = [...stats.accepted].sort((x, y) => x - y);
    const span = at[at.length - 1] - at[0];
    const ledger = await client.store.models.Ledger.aggregate<{ _id: string; n: number }>([
      { $match: { provider: 'limited', at: { $gte: new Date(t0) } } },
      { $group: { _id: '$outcome', n: { $sum: 1 } } },
    ]);
    return {
      label: `R = ${rate}/s, engine`,
      rate,
      jobs,
      seconds: ms / 1000,
      achieved: span > 0 ? ((at.length - 1) * 1000) / span : 0,
      busiest: busiestSecond(stats.arrivals),
      rejected: stats.rejected,
      outcomes: Object.fromEntries(ledger.map((l) => [l._id, l.n])),
    };
  } finally {
    await Promise.all(workers.map(stopWorker));
    await client.stop();
  }
}

/** The limiter alone in WORKERS processes, each with CONCURRENCY loops, sharing R. */
async function pacingLimiterOnly(fake: FakeProvider, rate: number): Promise<PacingRun> {
  const jobs = Math.round(rate * RATE_SECONDS);
  const opts = { mongodbUrl: '', prefix: `${PREFIX}-l${rate}`, baseUrl: fake.url, provider: limitedProvider(rate) };
  const workers = await Promise.all(Array.from({ length: WORKERS }, (_, i) => spawnWorker({ ...opts, calls: Math.floor(jobs / WORKERS) + (i < jobs % WORKERS ? 1 : 0) }, '--limiter')));
  try {
    await fake.reset(rate);
    const t0 = Date.now();
    const done = workers.map((w) => new Promise<void>((resolve) => w.stdout.on('data', (d: Buffer) => d.toString().includes('done') && resolve())));
    for (const w of workers) w.stdin.write('go\n');
    await Promise.all(done);
    const ms = Date.now() - t0;
    const stats = await fake.stats();
    const at = [...stats.accepted].sort((x, y) => x - y);
    const span = at[at.length - 1] - at[0];
    return { label: `R = ${rate}/s, limiter alone`, rate, jobs, seconds: ms / 1000, achieved: span > 0 ? ((at.length - 1) * 1000) / span : 0, busiest: busiestSecond(stats.arrivals), busiestGranted: busiestSecond(stats.granted), busiestSent: busiestSecond(stats.sent), rejected: stats.rejected, outcomes: {} };
  } finally {
    await Promise.all(workers.map(stopWorker));
  }
}

const met = (r: PacingRun) => r.busiest <= r.rate && r.achieved >= 0.95 * r.rate && r.rejected === 0;

export async function pacingBench(fake: FakeProvider): Promise<ResultRow[]> {
  const runs: PacingRun[] = [];
  for (const rate of RATES) {
    runs.push(await pacing(fake, rate));
    runs.push(await pacingLimiterOnly(fake, rate));
  }
  const headroom = loadConfig({ useDefaultFile: true, env: {} }).resilience.rateHeadroom;
  console.log(`pacing: the provider allows R calls in any sliding second (429 beyond) and answers in ${LATENCY_MS} ms;`);
  console.log(`${WORKERS} worker processes x concurrency ${CONCURRENCY} share ratePerSecond = R (headroom ${Math.round(headroom * 100)} %). Goal: never more than R in a second, >= 95 % of R.`);
  console.log(
    table([
      ['', ...runs.map((r) => r.label)],
      ['calls', ...runs.map((r) => String(r.jobs))],
      ['most calls in any sliding second', ...runs.map((r) => String(r.busiest))],
      ['  most grants / sends in one', ...runs.map((r) => (r.busiestGranted === undefined ? '-' : `${r.busiestGranted} / ${r.busiestSent}`))],
      ['achieved rate (calls/s)', ...runs.map((r) => r.achieved.toFixed(2))],
      ['share of R', ...runs.map((r) => `${((r.achieved / r.rate) * 100).toFixed(1)} %`)],
      ['429s received', ...runs.map((r) => String(r.rejected))],
      ['wall time (s)', ...runs.map((r) => r.seconds.toFixed(2))],
      ['ledger outcomes', ...runs.map((r) => Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(', ') || '-')],
      ['goal met', ...runs.map((r) => (met(r) ? 'yes' : 'no'))],
    ]),
  );
  return runs.map((r) => ({
    what: `${r.label}, ${WORKERS} processes, ${r.jobs} calls`,
    result: `at most ${r.busiest} calls in any sliding second, ${((r.achieved / r.rate) * 100).toFixed(1)} % of R, 429s: ${r.rejected}`,
    goal: 'never more than R, at least 95 % of R, no 429',
    met: met(r),
  }));
}
