// Engine benchmark on real Redis and MongoDB (MONGODB_URL, REDIS_URL; the local ones by
// default), on its own database and queue prefix, removed afterwards. `npm run bench`.
//  (a) Throughput: N jobs of distinct inputs through the whole engine (an App with role all,
//      one instant fake provider) next to a bare bee-queue loop of N no-op jobs on the same
//      Redis with the same concurrency: what the engine costs on top of its queue.
//  (b) Rate limit: a fake provider that allows R requests in any sliding second (429 beyond)
//      and answers in 200 ms; two worker Apps share Redis and the provider's ratePerSecond.
//      Achieved rate as a share of R, and how many 429s came back (goal: >= 95 %, none); run
//      with ratePerSecond = R, once without pacing headroom and once with the engine's default
//      (resilience.rateHeadroom), to show what the margin buys.
// The fake provider runs on its own thread so that timestamps are not skewed by the engine's
// own event loop. Tunable: BENCH_JOBS, BENCH_CONCURRENCY, BENCH_RATE, BENCH_RATE_SECONDS,
// BENCH_LATENCY_MS, BENCH_HEADROOM (one resilience.rateHeadroom; by default part b runs with 0
// and with the configured default), BENCH_ONLY=b (skip part a), BENCH_LOG_LEVEL.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import BeeQueue from 'bee-queue';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { App } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/logger.js';
import { defineProvider, type LookupResult } from '../src/plugin/contract.js';
import { redisOptions } from '../src/queue/enrich-queue.js';
import { redactUrl } from '../src/store/store.js';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const N = num('BENCH_JOBS', 150);
const CONCURRENCY = num('BENCH_CONCURRENCY', 10);
// The engine must outrun R for the limiter to set the pace: on FerretDB (SQLite) here it
// finishes roughly 5-10 jobs/s (part a), so R is 5 by default. Raise it on a faster database.
const R = num('BENCH_RATE', 5);
const RATE_SECONDS = num('BENCH_RATE_SECONDS', 15);
const LATENCY_MS = num('BENCH_LATENCY_MS', 200);
/** resilience.rateHeadroom values to run part b with: none, and the engine's default. */
const HEADROOMS = process.env.BENCH_HEADROOM !== undefined ? [Number(process.env.BENCH_HEADROOM)] : [0, loadConfig({ useDefaultFile: true, env: {} }).resilience.rateHeadroom];
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';

const MONGODB_URL = process.env.MONGODB_URL || 'mongodb://127.0.0.1:27017/enrichbot';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const TAG = randomBytes(3).toString('hex');
const PREFIX = `enrichbot-bench-${TAG}`;
// One database per part: FerretDB on SQLite scans collections, so a part would otherwise slow
// down with the previous part's documents.
const dbUrl = (part: string) => {
  const u = new URL(MONGODB_URL);
  u.pathname = `/enrichbot_bench_${TAG}_${part}`;
  return u.toString();
};
const DATABASES = [dbUrl('a'), ...HEADROOMS.map((_, i) => dbUrl(`b${i}`))];

// ---------------------------------------------------------------------------------------------
// The fake provider, on a worker thread. POST /instant answers a match at once; POST /limited
// allows R requests per sliding second (429 + Retry-After: 1 beyond) and answers after the
// latency. GET /stats reports; POST /reset clears.
const FAKE_PROVIDER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { rate, latencyMs } = workerData;
let window = [];
let stats = { accepted: [], arrivals: [], rejected: 0, instant: 0 };
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const json = (status, body, headers = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    let domain;
    try { domain = JSON.parse(Buffer.concat(chunks).toString()).domain; } catch {}
    const match = { found: true, fields: { 'company.name': 'Co ' + domain }, confidence: 0.9 };
    if (req.url === '/stats') return json(200, stats);
    if (req.url === '/reset') { window = []; stats = { accepted: [], arrivals: [], rejected: 0, instant: 0 }; return json(200, {}); }
    if (req.url === '/instant') { stats.instant++; return json(200, match); }
    if (req.url === '/limited') {
      stats.arrivals.push(now);
      window = window.filter((t) => t > now - 1000);
      if (window.length >= rate) { stats.rejected++; return json(429, { message: 'rate limited' }, { 'retry-after': '1' }); }
      window.push(now);
      stats.accepted.push(now);
      return setTimeout(() => json(200, match), latencyMs);
    }
    json(404, { message: 'no such route' });
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

interface FakeStats {
  accepted: number[];
  arrivals: number[];
  rejected: number;
  instant: number;
}

async function startFakeProvider(): Promise<{ url: string; stats(): Promise<FakeStats>; reset(): Promise<void>; close(): Promise<number> }> {
  const worker = new Worker(FAKE_PROVIDER, { eval: true, workerData: { rate: R, latencyMs: LATENCY_MS } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as FakeStats,
    reset: async () => void (await (await fetch(`${url}/reset`, { method: 'POST' })).text()),
    close: () => worker.terminate(),
  };
}

const Answer = z.object({ found: z.boolean(), fields: z.record(z.string(), z.unknown()).optional(), confidence: z.number().optional() });
function benchProvider(id: string) {
  return defineProvider({
    kind: 'provider',
    id,
    description: `benchmark provider ${id}`,
    configSchema: z.object({}).loose(),
    requiresApiKey: false,
    defaults: { costs: { lookup: { usd: 0, missCharged: false } } },
    operations: [
      {
        name: 'lookup',
        needs: [['domain']],
        returns: ['company.name'],
        async lookup(input, ctx): Promise<LookupResult> {
          const res = await ctx.http.request({ method: 'POST', path: `/${id}`, json: input, schema: Answer });
          if (res.kind === 'no_match' || !res.body.found) return { outcome: 'no_match', raw: res.raw, httpStatus: res.status };
          return { outcome: 'matched', fields: res.body.fields ?? {}, confidence: res.body.confidence ?? 0.9, raw: res.raw, httpStatus: res.status };
        },
      },
    ],
  });
}

async function startApp(opts: { role: 'all' | 'worker'; mongodbUrl: string; prefix: string; provider: string; baseUrl: string; ratePerSecond?: number; headroom?: number; concurrency: number }): Promise<App> {
  const config = loadConfig({
    useDefaultFile: false,
    env: {},
    overrides: {
      role: opts.role,
      port: 0,
      mongodbUrl: opts.mongodbUrl,
      redisUrl: REDIS_URL,
      logLevel: LOG_LEVEL,
      queue: { prefix: opts.prefix, concurrency: opts.concurrency },
      plugins: { providers: [opts.provider] },
      providers: { [opts.provider]: { baseUrl: opts.baseUrl, ratePerSecond: opts.ratePerSecond } },
      waterfalls: { companyProfile: [opts.provider] },
      sweeper: { intervalMs: 3600_000 },
      ...(opts.headroom === undefined ? {} : { resilience: { rateHeadroom: opts.headroom } }),
    },
  });
  const app = new App({ config, logger: createLogger({ level: LOG_LEVEL }), plugins: { [opts.provider]: benchProvider(opts.provider) } });
  return app.start();
}

/** Resolves when `count` jobs have succeeded on these queues' local workers. */
function succeeded(queues: BeeQueue[], count: number, timeoutMs = 120_000): Promise<void> {
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

const seconds = (ms: number) => ms / 1000;

async function engineThroughput(baseUrl: string): Promise<{ seconds: number; perSecond: number }> {
  const app = await startApp({ role: 'all', mongodbUrl: dbUrl('a'), prefix: `${PREFIX}-a`, provider: 'instant', baseUrl, concurrency: CONCURRENCY });
  try {
    // Warm-up, not measured: the first jobs pay for connections and code not yet optimized.
    const warm = succeeded([app.queue.bee], 10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => app.enqueue({ workspace: 'bench', input: `warm${i}.com`, groups: ['companyProfile'] })));
    await warm;

    const done = succeeded([app.queue.bee], N);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: N }, (_, i) => app.enqueue({ workspace: 'bench', input: `bench${i}.com`, groups: ['companyProfile'] })));
    await done;
    const ms = Date.now() - t0;
    const ok = await app.store.models.Job.countDocuments({ status: 'done', 'request.input': { $regex: '^bench' } });
    if (ok !== N) throw new Error(`engine run: ${ok} of ${N} jobs done`);
    return { seconds: seconds(ms), perSecond: (N * 1000) / ms };
  } finally {
    await app.stop();
  }
}

async function bareQueueThroughput(): Promise<{ seconds: number; perSecond: number }> {
  // The same bee-queue settings as the engine's queue (src/queue/enrich-queue.ts).
  const bee = new BeeQueue<{ n: number }>('bare', {
    prefix: `${PREFIX}-bare`,
    redis: redisOptions(REDIS_URL) as BeeQueue.QueueSettings['redis'],
    isWorker: true,
    getEvents: true,
    sendEvents: true,
    storeJobs: false,
    removeOnSuccess: true,
    removeOnFailure: true,
  });
  try {
    await bee.ready();
    bee.process(CONCURRENCY, async () => ({}));
    const save = (id: string, n: number) => bee.createJob({ n }).setId(id).retries(3).backoff('exponential', 2000).save();
    const warm = succeeded([bee], 10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => save(`warm${i}`, i)));
    await warm;

    const done = succeeded([bee], N);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: N }, (_, i) => save(`job${i}`, i)));
    await done;
    const ms = Date.now() - t0;
    return { seconds: seconds(ms), perSecond: (N * 1000) / ms };
  } finally {
    await bee.close(5000);
  }
}

interface RateRun {
  headroom: number;
  jobs: number;
  seconds: number;
  achieved: number;
  share: number;
  rejected: number;
  busiestSent: number;
  outcomes: Record<string, number>;
}

async function rateLimited(fake: Awaited<ReturnType<typeof startFakeProvider>>, headroom: number, part: string): Promise<RateRun> {
  const prefix = `${PREFIX}-${part}`;
  const jobs = Math.round(R * RATE_SECONDS);
  const settings = { mongodbUrl: dbUrl(part), prefix, provider: 'limited', baseUrl: fake.url, ratePerSecond: R, headroom, concurrency: CONCURRENCY };
  const a = await startApp({ role: 'all', ...settings });
  const b = await startApp({ role: 'worker', ...settings });
  const run = async (name: string, n: number) => {
    const done = succeeded([a.queue.bee, b.queue.bee], n);
    await Promise.all(Array.from({ length: n }, (_, i) => a.enqueue({ workspace: 'bench', input: `${name}${i}.com`, groups: ['companyProfile'] })));
    await done;
  };
  try {
    await run('warm', 2 * CONCURRENCY > jobs ? 5 : 10); // new Apps: connections, first queries
    await new Promise((r) => setTimeout(r, 1100)); // let the provider's window empty
    await fake.reset();
    const t0 = Date.now();
    await run('rated', jobs);
    const ms = Date.now() - t0;
    const stats = await fake.stats();
    const at = stats.accepted.sort((x, y) => x - y);
    const sent = stats.arrivals.sort((x, y) => x - y);
    const span = at[at.length - 1] - at[0];
    const achieved = span > 0 ? ((at.length - 1) * 1000) / span : 0;
    const busiestSent = Math.max(...sent.map((t) => sent.filter((u) => u >= t && u < t + 1000).length));
    const ledger = await a.store.models.Ledger.aggregate<{ _id: string; n: number }>([
      { $match: { provider: 'limited', at: { $gte: new Date(t0) } } },
      { $group: { _id: '$outcome', n: { $sum: 1 } } },
    ]);
    return { headroom, jobs, seconds: seconds(ms), achieved, share: achieved / R, rejected: stats.rejected, busiestSent, outcomes: Object.fromEntries(ledger.map((l) => [l._id, l.n])) };
  } finally {
    await b.stop();
    await a.stop();
  }
}

async function cleanUp(): Promise<void> {
  for (const url of DATABASES) {
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

async function main(): Promise<void> {
  console.log(`enrichbot engine benchmark: MongoDB ${redactUrl(dbUrl('*'))}, Redis ${redactUrl(REDIS_URL)}, queue prefix ${PREFIX}-*`);
  const fake = await startFakeProvider();
  let failed = false;
  try {
    const skipA = process.env.BENCH_ONLY === 'b';
    const engine = skipA ? { seconds: NaN, perSecond: NaN } : await engineThroughput(fake.url);
    const bare = skipA ? { seconds: NaN, perSecond: NaN } : await bareQueueThroughput();
    console.log('');
    console.log(`(a) throughput: ${N} jobs, concurrency ${CONCURRENCY}`);
    console.log(
      table([
        ['', 'jobs', 'seconds', 'jobs/s'],
        ['engine (App, role all, instant fake provider)', String(N), engine.seconds.toFixed(2), engine.perSecond.toFixed(1)],
        ['bare bee-queue, no-op jobs', String(N), bare.seconds.toFixed(2), bare.perSecond.toFixed(1)],
        ['engine / bare', '', '', `${((engine.perSecond / bare.perSecond) * 100).toFixed(1)} %`],
      ]),
    );

    const runs: RateRun[] = [];
    for (const [i, headroom] of HEADROOMS.entries()) runs.push(await rateLimited(fake, headroom, `b${i}`));
    console.log('');
    console.log(`(b) rate limit: provider allows R = ${R} calls in any sliding second (429 beyond) and answers in ${LATENCY_MS} ms;`);
    console.log(`    2 worker Apps x concurrency ${CONCURRENCY} share Redis; ${runs[0].jobs} jobs per run. Goal: >= 95 % of R, no 429.`);
    const label = (h: number) => `ratePerSecond = R, headroom ${Math.round(h * 100)} %`;
    console.log(
      table([
        ['', ...runs.map((r) => label(r.headroom))],
        ['achieved rate (calls/s)', ...runs.map((r) => r.achieved.toFixed(2))],
        ['share of R', ...runs.map((r) => `${(r.share * 100).toFixed(1)} %`)],
        ['429s received', ...runs.map((r) => String(r.rejected))],
        ['most calls sent in 1 s', ...runs.map((r) => String(r.busiestSent))],
        ['wall time (s)', ...runs.map((r) => r.seconds.toFixed(2))],
        ['ledger outcomes', ...runs.map((r) => Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(', '))],
        ['goal met', ...runs.map((r) => (r.share >= 0.95 && r.rejected === 0 ? 'yes' : 'no'))],
      ]),
    );
  } catch (err) {
    failed = true;
    console.error('benchmark failed:', err);
  } finally {
    await fake.close();
    await cleanUp().catch((err) => console.error('clean-up failed:', err));
  }
  process.exit(failed ? 1 : 0);
}

await main();
