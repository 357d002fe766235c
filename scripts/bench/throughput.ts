// Parts (a) to (c): engine throughput on one process next to the floor.
//  (a) A company request answered by one fake provider: N jobs of distinct domains through the
//      whole engine (an App with role all). Jobs per second, and database commands per job
//      (the driver's command monitoring, counted from the first enqueue to the last job done),
//      by command and collection; then BENCH_LONE_JOBS requests one at a time.
//  (b) A person request ("Jane Doe @ acme<i>.com") through the default waterfalls, every
//      provider a stand-in with the real plugin's operations answering a match at once.
//  (c) The floor: a bee-queue loop on the same Redis and database, same concurrency, whose jobs
//      do one record read and one record write (the least an enrichment can do), and the bare
//      bee-queue loop of no-op jobs. Engine jobs/s as a share of the floor's.
// Each prints CPU time per job by process (Linux /proc): this process, FerretDB/PostgreSQL or
// mongod, Redis.
import { availableParallelism } from 'node:os';
import BeeQueue from 'bee-queue';
import mongoose from 'mongoose';
import { loadConfig } from '../../src/config/load.js';
import type { Plugin } from '../../src/plugin/contract.js';
import { redisOptions } from '../../src/queue/enrich-queue.js';
import { CONCURRENCY, PREFIX, REDIS_URL, dbUrl, num, startApp, succeeded, table } from './app.js';
import { CommandCounter, monitored, type CommandCount } from './commands.js';
import { cpuPerJob, cpuSnapshot } from './cpu.js';
import type { FakeProvider } from './fake-provider.js';
import { companyProvider, realProviders, standIn } from './providers.js';
import type { ResultRow } from './report.js';

const N = num('BENCH_JOBS', 300);
const PERSON_N = num('BENCH_PERSON_JOBS', 100);
const LONE_N = num('BENCH_LONE_JOBS', 50);

export interface EngineRun {
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
async function floorLoop(): Promise<EngineRun> {
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
        await records.updateOne({ _id }, { $set: { n, fields: { company_name: `Co ${n}`, seen: (found?.n ?? 0) + 1 } } }, { upsert: true });
      },
      measure,
    );
    return { ...run, jobs: N, commands: commands!, cpu };
  } finally {
    await conn.close();
  }
}

const f = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));

/** Throughput, commands and CPU per job of the runs measured so far (printed after each of a, b, c). */
function printRuns(runs: [string, EngineRun][], floor?: EngineRun, bare?: { seconds: number; perSecond: number }): void {
  const ofFloor = (r: EngineRun) => (r === floor ? '100 %' : floor ? `${((r.perSecond / floor.perSecond) * 100).toFixed(1)} %` : '-');
  console.log(`throughput, concurrency ${CONCURRENCY}; commands = database commands per job (driver command monitoring), documents = documents those commands read or wrote`);
  console.log(
    table([
      ['', 'jobs', 'seconds', 'jobs/s', 'commands/job', 'documents/job', 'of floor'],
      ...runs.map(([label, r]) => [label, String(r.jobs), f(r.seconds, 2), f(r.perSecond), f(r.commands.total / r.jobs, 2), f(r.commands.documents / r.jobs, 2), ofFloor(r)]),
      ...(bare ? [['bare bee-queue, no-op jobs', String(N), f(bare.seconds, 2), f(bare.perSecond), '0', '0', '']] : []),
    ]),
  );
  for (const [label, r] of runs) {
    if (r !== floor) console.log(`\n${label}: commands per job, by command and collection:\n${r.commands.byKind.map(([k, n]) => `  ${(n / r.jobs).toFixed(2).padStart(6)}  ${k}`).join('\n')}`);
  }
  // Where the time goes: CPU per job by process. On a saturated machine a part cannot run
  // faster than cores / (CPU per job); the database's share grows with documents per job.
  const labels = [...new Set(runs.flatMap(([, r]) => r.cpu.map(([k]) => k)))];
  if (!labels.length) return;
  const cores = availableParallelism();
  const ms = (r: EngineRun, k: string) => r.cpu.find(([l]) => l === k)?.[1];
  const total = (r: EngineRun) => r.cpu.reduce((t, [, v]) => t + v, 0);
  console.log(`\nCPU milliseconds per job, by process (/proc, ${cores} cores); "at most" = cores / total CPU per job:`);
  console.log(
    table([
      ['', ...labels, 'total', 'at most (jobs/s)', 'database ms per document'],
      ...runs.map(([label, r]) => {
        const db = (ms(r, 'postgres') ?? 0) + (ms(r, 'ferretdb') ?? 0) + (ms(r, 'mongod') ?? 0);
        return [label, ...labels.map((k) => f(ms(r, k), 2)), f(total(r), 2), f((cores * 1000) / total(r)), f(db / (r.commands.documents / r.jobs), 2)];
      }),
    ]),
  );
}

const cpuTotal = (r: EngineRun) => r.cpu.reduce((t, [, v]) => t + v, 0);
const rowOf = (what: string, r: EngineRun): ResultRow => ({ what, result: `${f(r.perSecond)} jobs/s; ${f(r.commands.total / r.jobs, 2)} database commands and ${f(r.commands.documents / r.jobs, 1)} documents per job; ${f(cpuTotal(r))} ms CPU per job (all processes)` });

/** Keeps the runs of (a) and (b) for (c)'s shares of the floor. */
export class ThroughputParts {
  private company?: EngineRun;
  private lone?: EngineRun;
  private person?: EngineRun;

  constructor(private readonly fake: FakeProvider) {}

  async runCompany(): Promise<ResultRow[]> {
    const a = { plugins: { instant: companyProvider('instant') }, baseUrl: this.fake.url, waterfalls: { companyProfile: ['instant'] }, groups: ['companyProfile'] };
    this.company = await engineRun('a', { ...a, jobs: N, input: (i) => `bench${i}.com` });
    this.lone = await engineRun('a1', { ...a, jobs: LONE_N, input: (i) => `lone${i}.com`, oneAtATime: true });
    printRuns([[`(a) company, one provider, ${N} queued at once`, this.company], ['(a) the same, one request at a time', this.lone]]);
    const goal = this.company.commands.total / this.company.jobs;
    return [
      { ...rowOf(`company, one provider, ${N} queued at once, concurrency ${CONCURRENCY}`, this.company), goal: 'at most 6 commands per job', met: goal <= 6 },
      rowOf(`the same, ${LONE_N} requests one at a time`, this.lone),
    ];
  }

  async runPerson(): Promise<ResultRow[]> {
    const defaults = loadConfig({ useDefaultFile: true, env: {} });
    const ids = [...new Set(Object.values(defaults.waterfalls).flat())];
    const plugins = Object.fromEntries((await realProviders(ids)).map((p) => [p.id, standIn(p)]));
    this.person = await engineRun('b', { plugins, baseUrl: this.fake.url, waterfalls: defaults.waterfalls, jobs: PERSON_N, input: (i) => `Jane Doe @ acme${i < 0 ? `w${-i}` : i}.com` });
    printRuns([['(b) person, default waterfalls, all answering', this.person]]);
    return [rowOf(`person, default waterfalls, every provider answering at once, ${PERSON_N} jobs`, this.person)];
  }

  async runFloor(): Promise<ResultRow[]> {
    const floor = await floorLoop();
    const bare = await queueLoop('bare', async () => ({}));
    const runs: [string, EngineRun][] = [];
    if (this.company) runs.push([`(a) company, ${N} queued at once`, this.company], ['(a) one at a time', this.lone!]);
    if (this.person) runs.push(['(b) person', this.person]);
    runs.push(['(c) floor: bee-queue, 1 read + 1 write per job', floor]);
    printRuns(runs, floor, bare);
    const share = (r?: EngineRun) => (r ? `${((r.perSecond / floor.perSecond) * 100).toFixed(1)} %` : 'not run');
    return [
      rowOf('floor: a bee-queue loop, 1 record read + 1 write per job', floor),
      { what: 'bare bee-queue loop, no-op jobs', result: `${f(bare.perSecond)} jobs/s` },
      { what: '(a) and (b) as a share of the floor, same run', result: `(a) ${share(this.company)}, (b) ${share(this.person)}`, goal: '(a) at least 50 %', ...(this.company ? { met: this.company.perSecond >= floor.perSecond / 2 } : {}) },
    ];
  }
}
