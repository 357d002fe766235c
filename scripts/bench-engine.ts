// Engine benchmark on real Redis and MongoDB (MONGODB_URL, REDIS_URL; the local ones by
// default), on databases and queue prefixes of its own, removed afterwards. `npm run bench`.
//  (a) A company request answered by one fake provider: N jobs of distinct domains through the
//      whole engine (an App with role all). Jobs per second, and database commands per job
//      (the driver's command monitoring, counted from the first enqueue to the last job done),
//      by command and collection.
//  (b) A person request ("Jane Doe @ acme<i>.com") through the default waterfalls, every
//      provider a stand-in with the real plugin's operations answering a match at once: the
//      same figures.
//  (c) The floor: a bee-queue loop on the same Redis and database, same concurrency, whose jobs
//      do one record read and one record write (the least an enrichment can do), and the bare
//      bee-queue loop of no-op jobs. Engine jobs/s as a share of the floor's.
//  (d) Pacing: a fake provider allowing R calls in any sliding second (429 beyond), answering in
//      200 ms; 3 worker processes (this script run with --worker) share its ratePerSecond = R
//      with the default resilience.rateHeadroom. For each R (20 and 50 by default): the most
//      calls it received in any sliding second (goal: <= R), the achieved rate as a share of R
//      (goal: >= 95 %), and 429s. Then the limiter alone in 3 processes (loops that wait for a
//      grant and call, no queue or database), which shows the limiter's share of R when the
//      engine cannot outrun R on the machine at hand.
//  (f) The estimate before bulk work: 10,000 rows (30 % duplicates) through the default
//      waterfalls, against a workspace holding 2,000 records and 4,000 cached answers. Seconds
//      (goal: under 2 s) and the provider calls made (goal: none).
// The fake provider runs on its own thread, so that its timestamps are not skewed by the
// engine's event loop. (a) also runs BENCH_LONE_JOBS requests one at a time (nothing to share a
// group commit with). Every part prints CPU time per job by process (Linux /proc): this process,
// FerretDB/PostgreSQL or mongod, Redis. Tunable: BENCH_JOBS, BENCH_PERSON_JOBS, BENCH_LONE_JOBS, BENCH_CONCURRENCY, BENCH_RATES
// (comma-separated), BENCH_RATE_SECONDS, BENCH_WORKERS, BENCH_LATENCY_MS, BENCH_ONLY (a list
// of parts, e.g. "a,c" or "d"), BENCH_LOG_LEVEL.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import BeeQueue from 'bee-queue';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { App } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/logger.js';
import type { Plugin } from '../src/plugin/contract.js';
import { redisOptions } from '../src/queue/enrich-queue.js';
import { RateLimiter } from '../src/engine/rate-limit.js';
import { redactUrl } from '../src/store/store.js';
import { busiestSecond, startFakeProvider, type FakeProvider } from './bench/fake-provider.js';
import { CommandCounter, monitored, type CommandCount } from './bench/commands.js';
import { cpuPerJob, cpuSnapshot } from './bench/cpu.js';
import { availableParallelism } from 'node:os';
import { companyProvider, realProviders, standIn } from './bench/providers.js';
import { csvBench } from './bench/csv.js';
import { estimateBench } from './bench/estimate.js';
import { batchTail } from './bench/batch-tail.js';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const N = num('BENCH_JOBS', 300);
const PERSON_N = num('BENCH_PERSON_JOBS', 100);
const LONE_N = num('BENCH_LONE_JOBS', 50);
const TAIL_ROWS = num('BENCH_TAIL_ROWS', 2000);
const CONCURRENCY = num('BENCH_CONCURRENCY', 10);
const RATES = (process.env.BENCH_RATES ?? '20,50').split(',').map(Number).filter((r) => r > 0);
const RATE_SECONDS = num('BENCH_RATE_SECONDS', 15);
const WORKERS = num('BENCH_WORKERS', 3);
const LATENCY_MS = num('BENCH_LATENCY_MS', 200);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'a,b,c,d,e,f,g').split(',').map((s) => s.trim()));
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';

const MONGODB_URL = process.env.MONGODB_URL || 'mongodb://127.0.0.1:27017/enrichbot';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const TAG = randomBytes(3).toString('hex');
const PREFIX = `enrichbot-bench-${TAG}`;
// One database per part: a part does not slow down with the previous part's documents.
const databases = new Set<string>();
const dbUrl = (part: string) => {
  const u = new URL(MONGODB_URL);
  u.pathname = `/enrichbot_bench_${TAG}_${part}`;
  if (!u.searchParams.has('directConnection')) u.searchParams.set('directConnection', 'true');
  if (!u.searchParams.has('retryWrites')) u.searchParams.set('retryWrites', 'false');
  databases.add(u.toString());
  return u.toString();
};

interface AppOpts {
  role: 'all' | 'worker' | 'client';
  mongodbUrl: string;
  prefix: string;
  plugins: Record<string, Plugin>;
  baseUrl: string;
  waterfalls?: Record<string, string[]>;
  concurrency: number;
  /** Provider call time-out (default: the config's). */
  timeoutMs?: number;
}

async function startApp(opts: AppOpts): Promise<App> {
  const ids = Object.keys(opts.plugins);
  const config = loadConfig({
    useDefaultFile: false,
    env: {},
    overrides: {
      role: opts.role === 'client' ? 'all' : opts.role,
      port: 0,
      observability: { admin: { port: 0 } },
      mongodbUrl: opts.mongodbUrl,
      redisUrl: REDIS_URL,
      logLevel: LOG_LEVEL,
      queue: { prefix: opts.prefix, concurrency: opts.concurrency },
      plugins: { providers: ids },
      providers: Object.fromEntries(ids.map((id) => [id, { baseUrl: opts.baseUrl, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }])),
      ...(opts.waterfalls ? { waterfalls: opts.waterfalls } : {}),
      sweeper: { intervalMs: 3600_000 },
    },
  });
  const app = new App({ config, logger: createLogger({ level: LOG_LEVEL }), plugins: opts.plugins, role: opts.role === 'client' ? 'client' : undefined });
  return app.start();
}

/** Resolves when `count` jobs have succeeded on these queues' local workers. */
function succeeded(queues: BeeQueue[], count: number, timeoutMs = 300_000): Promise<void> {
  let n = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${n} of ${count} jobs finished within ${timeoutMs / 1000} s`)), timeoutMs);
    for (const q of queues) {
      q.on('succeeded', () => {
        if (++n !== count) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

interface EngineRun {
  jobs: number;
  seconds: number;
  perSecond: number;
  commands: CommandCount;
  /** CPU ms per job by process while it ran (Linux). */
  cpu: [string, number][];
}

async function engineRun(part: string, opts: { plugins: Record<string, Plugin>; baseUrl: string; waterfalls?: Record<string, string[]>; jobs: number; input: (i: number) => string; groups?: string[]; oneAtATime?: boolean }): Promise<EngineRun> {
  const app = await startApp({ role: 'all', mongodbUrl: monitored(dbUrl(part)), prefix: `${PREFIX}-${part}`, plugins: opts.plugins, baseUrl: opts.baseUrl, waterfalls: opts.waterfalls, concurrency: CONCURRENCY });
  const enqueue = (input: string) => app.enqueue({ workspace: 'bench', input, ...(opts.groups ? { groups: opts.groups as never } : {}) });
  try {
    // Warm-up, not measured: the first jobs pay for connections and code not yet optimized.
    const warm = succeeded([app.queue.bee], 10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => enqueue(opts.input(-1 - i))));
    await warm;

    const counter = new CommandCounter([app.store.connection.getClient()]);
    const done = succeeded([app.queue.bee], opts.jobs);
    counter.start();
    const cpu0 = cpuSnapshot();
    const t0 = Date.now();
    if (opts.oneAtATime) {
      // A lone request each time (a Slack command, an API call): nothing to share a command with.
      for (let i = 0; i < opts.jobs; i++) await app.service.waitFor((await enqueue(opts.input(i))).jobId, 60_000);
    } else {
      await Promise.all(Array.from({ length: opts.jobs }, (_, i) => enqueue(opts.input(i))));
    }
    await done;
    const ms = Date.now() - t0;
    const cpu = cpuPerJob(cpu0, cpuSnapshot(), opts.jobs);
    const commands = counter.stop();
    const ok = await app.store.models.Job.countDocuments({ status: 'done' });
    if (ok !== opts.jobs + 10) throw new Error(`engine run ${part}: ${ok} of ${opts.jobs + 10} jobs done`);
    return { jobs: opts.jobs, seconds: ms / 1000, perSecond: (opts.jobs * 1000) / ms, commands, cpu };
  } finally {
    await app.stop();
  }
}

function benchQueue(name: string): BeeQueue {
  // The same bee-queue settings as the engine's queue (src/queue/enrich-queue.ts).
  return new BeeQueue(name, {
    prefix: `${PREFIX}-${name}`,
    redis: redisOptions(REDIS_URL) as BeeQueue.QueueSettings['redis'],
    isWorker: true,
    getEvents: true,
    sendEvents: true,
    storeJobs: false,
    removeOnSuccess: true,
    removeOnFailure: true,
  });
}

/** A bee-queue loop of N jobs; `work` is each job's body. */
async function queueLoop(name: string, work: (n: number) => Promise<unknown>, onMeasure?: { start(): void; stop?(): void }): Promise<{ seconds: number; perSecond: number }> {
  const bee = benchQueue(name);
  try {
    await bee.ready();
    bee.process(CONCURRENCY, async (job: BeeQueue.Job<{ n: number }>) => work(job.data.n));
    const save = (id: string, n: number) => bee.createJob({ n }).setId(id).retries(3).backoff('exponential', 2000).save();
    const warm = succeeded([bee], 10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => save(`warm${i}`, -1 - i)));
    await warm;

    const done = succeeded([bee], N);
    onMeasure?.start();
    const t0 = Date.now();
    await Promise.all(Array.from({ length: N }, (_, i) => save(`job${i}`, i)));
    await done;
    const ms = Date.now() - t0;
    onMeasure?.stop?.();
    return { seconds: ms / 1000, perSecond: (N * 1000) / ms };
  } finally {
    await bee.close(5000);
  }
}

/** The floor: each job reads one record by _id and writes it back (upsert), on the same database. */
async function floorLoop(): Promise<{ jobs: number; seconds: number; perSecond: number; commands: CommandCount; cpu: [string, number][] }> {
  const conn = await mongoose.createConnection(monitored(dbUrl('floor')), { serverSelectionTimeoutMS: 5000 }).asPromise();
  const records = conn.db!.collection<{ _id: string; n?: number; fields?: Record<string, unknown> }>('records');
  const counter = new CommandCounter([conn.getClient()]);
  let cpu0 = cpuSnapshot();
  let cpu: [string, number][] = [];
  let commands: CommandCount | undefined;
  const measure = {
    start: () => {
      counter.start();
      cpu0 = cpuSnapshot();
    },
    stop: () => {
      cpu = cpuPerJob(cpu0, cpuSnapshot(), N);
      commands = counter.stop();
    },
  };
  try {
    const run = await queueLoop(
      'floor',
      async (n) => {
        const _id = `company:bench${n}.com`;
        const found = await records.findOne({ _id });
        await records.updateOne({ _id }, { $set: { n, fields: { 'company_name': `Co ${n}`, seen: (found?.n ?? 0) + 1 } } }, { upsert: true });
      },
      measure,
    );
    return { ...run, jobs: N, commands: commands!, cpu };
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// (d) pacing, with worker processes: this script run as `bench-engine.js --worker <json>`.

interface WorkerOpts {
  mongodbUrl: string;
  prefix: string;
  baseUrl: string;
  rate: number;
}

function pacedPlugins(rate: number): Record<string, Plugin> {
  return { limited: companyProvider('limited', { path: '/limited', ratePerSecond: rate }) };
}

async function workerMain(opts: WorkerOpts): Promise<void> {
  const app = await startApp({ role: 'worker', mongodbUrl: opts.mongodbUrl, prefix: opts.prefix, plugins: pacedPlugins(opts.rate), baseUrl: opts.baseUrl, waterfalls: { companyProfile: ['limited'] }, concurrency: CONCURRENCY });
  // Load the HTTP client now, so that the first calls do not leave their grant late.
  await fetch(`${opts.baseUrl}/instant/warmup`, { method: 'POST' }).then((r) => r.text());
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve).resume();
    process.once('SIGTERM', resolve);
  });
  await app.stop();
  process.exit(0);
}

/**
 * The limiter alone in a worker process (no queue, no database): CONCURRENCY loops each wait for
 * a grant and POST to the limited endpoint, until `calls` calls in all; starts on "go".
 */
async function limiterMain(opts: WorkerOpts & { calls: number }): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const limiter = new RateLimiter(redis, opts.prefix);
  const pace = opts.rate * (1 - loadConfig({ useDefaultFile: true, env: {} }).resilience.rateHeadroom);
  await fetch(`${opts.baseUrl}/instant/warmup`, { method: 'POST' }).then((r) => r.text());
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  let left = opts.calls;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) {
        const { at } = await limiter.acquire('limited', pace);
        const headers = { 'x-granted-at': String(at), 'x-sent-at': String(Date.now()) };
        await (await fetch(`${opts.baseUrl}/limited`, { method: 'POST', body: '{}', headers })).text();
      }
    }),
  );
  redis.disconnect();
  process.stdout.write('done\n');
  process.exit(0);
}

function spawnWorker(opts: WorkerOpts & { calls?: number }, mode = '--worker'): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), mode, JSON.stringify(opts)], { env: process.env });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}: ${err}`)));
  });
}

async function stopWorker(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

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

async function pacing(fake: FakeProvider, rate: number): Promise<PacingRun> {
  const part = `d${rate}`;
  const opts: WorkerOpts = { mongodbUrl: dbUrl(part), prefix: `${PREFIX}-${part}`, baseUrl: fake.url, rate };
  const client = await startApp({ role: 'client', mongodbUrl: opts.mongodbUrl, prefix: opts.prefix, plugins: pacedPlugins(rate), baseUrl: fake.url, waterfalls: { companyProfile: ['limited'] }, concurrency: CONCURRENCY });
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
  const opts = { mongodbUrl: '', prefix: `${PREFIX}-l${rate}`, baseUrl: fake.url, rate };
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

// ---------------------------------------------------------------------------------------------

async function cleanUp(): Promise<void> {
  for (const url of databases) {
    const conn = await mongoose.createConnection(url, { serverSelectionTimeoutMS: 5000 }).asPromise();
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
  }
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}-*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ')).join('\n');
}

function breakdown(run: EngineRun): string {
  return run.commands.byKind.map(([k, n]) => `      ${(n / run.jobs).toFixed(2).padStart(6)}  ${k}`).join('\n');
}

async function main(): Promise<void> {
  console.log(`enrichbot engine benchmark: MongoDB ${redactUrl(dbUrl('*'))}, Redis ${redactUrl(REDIS_URL)}, queue prefix ${PREFIX}-*`);
  const fake = await startFakeProvider({ rate: RATES[0] ?? 20, latencyMs: LATENCY_MS });
  let failed = false;
  try {
    let company: EngineRun | undefined;
    let lone: EngineRun | undefined;
    let person: EngineRun | undefined;
    if (ONLY.has('a')) {
      const a = { plugins: { instant: companyProvider('instant') }, baseUrl: fake.url, waterfalls: { companyProfile: ['instant'] }, groups: ['companyProfile'] };
      company = await engineRun('a', { ...a, jobs: N, input: (i) => `bench${i}.com` });
      lone = await engineRun('a1', { ...a, jobs: LONE_N, input: (i) => `lone${i}.com`, oneAtATime: true });
    }
    if (ONLY.has('b')) {
      const defaults = loadConfig({ useDefaultFile: true, env: {} });
      const ids = [...new Set(Object.entries(defaults.waterfalls).flatMap(([, list]) => list))];
      const plugins = Object.fromEntries((await realProviders(ids)).map((p) => [p.id, standIn(p)]));
      person = await engineRun('b', { plugins, baseUrl: fake.url, waterfalls: defaults.waterfalls, jobs: PERSON_N, input: (i) => `Jane Doe @ acme${i < 0 ? `w${-i}` : i}.com` });
    }
    const floor = ONLY.has('c') ? await floorLoop() : undefined;
    const bare = ONLY.has('c') ? await queueLoop('bare', async () => ({})) : undefined;

    const f = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
    const ofFloor = (r: { perSecond: number }) => (floor ? `${((r.perSecond / floor.perSecond) * 100).toFixed(1)} %` : '-');
    const parts: [string, { jobs: number; seconds: number; perSecond: number; commands: CommandCount; cpu: [string, number][] } | undefined][] = [
      [`(a) company, one provider, ${N} queued at once`, company],
      ['    the same, one request at a time', lone],
      ['(b) person, default waterfalls, all answering', person],
      ['(c) floor: bee-queue, 1 read + 1 write per job', floor],
    ];
    const measured = parts.filter((p): p is [string, NonNullable<(typeof p)[1]>] => !!p[1]);
    console.log('');
    console.log(`(a-c) throughput, concurrency ${CONCURRENCY}; commands = database commands per job (driver command monitoring), documents = documents those commands read or wrote`);
    console.log(
      table([
        ['', 'jobs', 'seconds', 'jobs/s', 'commands/job', 'documents/job', 'of floor'],
        ...measured.map(([label, r]) => [label, String(r.jobs), f(r.seconds, 2), f(r.perSecond), f(r.commands.total / r.jobs, 2), f(r.commands.documents / r.jobs, 2), r === floor ? '100 %' : ofFloor(r)]),
        ...(bare ? [['    bare bee-queue, no-op jobs', String(N), f(bare.seconds, 2), f(bare.perSecond), '0', '0', '']] : []),
      ]),
    );
    for (const [label, run] of [['(a)', company], ['(a) one at a time', lone], ['(b)', person]] as const) {
      if (run) console.log(`\n${label} commands per job, by command and collection:\n${breakdown(run)}`);
    }
    // Where the time goes: CPU per job by process. On a saturated machine a part cannot run
    // faster than cores / (CPU per job); the database's share grows with documents per job.
    const labels = [...new Set(measured.flatMap(([, r]) => r.cpu.map(([k]) => k)))];
    if (labels.length) {
      const cores = availableParallelism();
      console.log(`\nCPU milliseconds per job, by process (/proc, ${cores} cores); "at most" = cores / total CPU per job:`);
      const ms = (r: { cpu: [string, number][] }, k: string) => r.cpu.find(([l]) => l === k)?.[1];
      const total = (r: { cpu: [string, number][] }) => r.cpu.reduce((t, [, v]) => t + v, 0);
      console.log(
        table([
          ['', ...labels, 'total', 'at most (jobs/s)', 'database ms per document'],
          ...measured.map(([label, r]) => {
            const db = (ms(r, 'postgres') ?? 0) + (ms(r, 'ferretdb') ?? 0) + (ms(r, 'mongod') ?? 0);
            return [label.trim(), ...labels.map((k) => f(ms(r, k), 2)), f(total(r), 2), f((cores * 1000) / total(r)), f(db / (r.commands.documents / r.jobs), 2)];
          }),
        ]),
      );
    }

    if (ONLY.has('d')) {
      const runs: PacingRun[] = [];
      for (const rate of RATES) {
        runs.push(await pacing(fake, rate));
        runs.push(await pacingLimiterOnly(fake, rate));
      }
      const headroom = loadConfig({ useDefaultFile: true, env: {} }).resilience.rateHeadroom;
      console.log('');
      console.log(`(d) pacing: the provider allows R calls in any sliding second (429 beyond) and answers in ${LATENCY_MS} ms;`);
      console.log(`    ${WORKERS} worker processes x concurrency ${CONCURRENCY} share ratePerSecond = R (headroom ${Math.round(headroom * 100)} %). Goal: never more than R in a second, >= 95 % of R.`);
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
          ['goal met', ...runs.map((r) => (r.busiest <= r.rate && r.achieved >= 0.95 * r.rate && r.rejected === 0 ? 'yes' : 'no'))],
        ]),
      );
    }
    if (ONLY.has('e')) csvBench();
    if (ONLY.has('f')) {
      const defaults = loadConfig({ useDefaultFile: true, env: {} });
      const ids = [...new Set(Object.entries(defaults.waterfalls).flatMap(([, list]) => list))];
      const plugins = Object.fromEntries((await realProviders(ids)).map((p) => [p.id, standIn(p)]));
      const app = await startApp({ role: 'all', mongodbUrl: dbUrl('f'), prefix: `${PREFIX}-f`, plugins, baseUrl: fake.url, waterfalls: defaults.waterfalls, concurrency: CONCURRENCY });
      try {
        const r = await estimateBench(app, fake);
        console.log(`\n(f) estimate of ${r.rows} rows (${r.duplicates} duplicates, ${r.fresh} fresh, ${r.cachedAnswers} cached answers) against ${r.records} records and ${r.cacheRows} cached answers:`);
        console.log(`    ${r.seconds.toFixed(2)} s (goal: under 2 s); expected $${r.expectedUsd.toFixed(2)}, at most $${r.worstUsd.toFixed(2)}; provider calls made: ${r.calls} (goal: 0)`);
      } finally {
        await app.stop();
      }
    }
    if (ONLY.has('g')) {
      // Provider timeout well above the time it takes to queue the rows while it holds its answers.
      const tail = await batchTail((o) => startApp({ role: 'all', mongodbUrl: dbUrl('g'), prefix: `${PREFIX}-g`, plugins: o.plugins, baseUrl: o.baseUrl, waterfalls: { companyProfile: ['tail'] }, concurrency: CONCURRENCY, timeoutMs: 600_000 }), TAIL_ROWS);
      console.log('');
      console.log(`(g) batch tail: ${tail.rows} rows naming ${tail.identities} companies, every row waiting when the provider answers. Goal: >= 500 rows/s.`);
      console.log(table([
        ['rows', 'seconds (first job done -> batch finished)', 'rows/s', 'writes to batch_items', 'goal met'],
        [String(tail.rows), tail.seconds.toFixed(2), tail.rowsPerSecond.toFixed(0), String(tail.itemWrites), tail.rowsPerSecond >= 500 ? 'yes' : 'no'],
      ]));
    }
  } catch (err) {
    failed = true;
    console.error('benchmark failed:', err);
  } finally {
    await fake.close();
    await cleanUp().catch((err) => console.error('clean-up failed:', err));
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[2] === '--worker') await workerMain(JSON.parse(process.argv[3]) as WorkerOpts);
else if (process.argv[2] === '--limiter') await limiterMain(JSON.parse(process.argv[3]) as WorkerOpts & { calls: number });
else await main();
