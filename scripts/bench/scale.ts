// Part (k), scale across processes: the engine's throughput with 1, 2 and 3 worker processes
// (BENCH_SCALE_WORKERS) on one Redis and one database, each process with concurrency
// BENCH_CONCURRENCY, running company requests answered at once by one fake provider (the (a)
// job). The bench process queues BENCH_SCALE_JOBS jobs at once and waits for them (an App in the
// client role). For each count: jobs per second and its ratio to one process, and CPU from /proc
// while the jobs ran: each worker process, this process, FerretDB, PostgreSQL and Redis, as cores
// busy (CPU seconds per second) and CPU ms per job. Where the machine's cores are all busy,
// another worker process cannot add throughput: the table shows which process holds them, and
// how busy the whole machine was (/proc/stat), which tells a quiet run from a shared one.
import { availableParallelism } from 'node:os';
import { CONCURRENCY, PREFIX, dbUrl, num, startApp, table } from './app.js';
import { cpuSnapshot, machineBusySeconds } from './cpu.js';
import type { FakeProvider } from './fake-provider.js';
import { companyProvider } from './providers.js';
import type { ResultRow } from './report.js';
import { spawnWorker, stopWorker, type WorkerOpts } from './worker-process.js';

const JOBS = num('BENCH_SCALE_JOBS', 600);
const COUNTS = (process.env.BENCH_SCALE_WORKERS ?? '1,2,3').split(',').map(Number).filter((n) => n > 0);

interface ScaleRun {
  workers: number;
  seconds: number;
  perSecond: number;
  /** CPU seconds by label while the jobs ran. */
  cpu: Map<string, number>;
  /** CPU seconds every process on the machine spent meanwhile, ours and any other's. */
  machine?: number;
}

async function scaleRun(fake: FakeProvider, workers: number): Promise<ScaleRun> {
  const part = `k${workers}`;
  const opts: WorkerOpts = { mongodbUrl: dbUrl(part), prefix: `${PREFIX}-${part}`, baseUrl: fake.url, provider: { id: 'instant' } };
  const client = await startApp({ role: 'client', mongodbUrl: opts.mongodbUrl, prefix: opts.prefix, plugins: { instant: companyProvider('instant') }, baseUrl: fake.url, waterfalls: { companyProfile: ['instant'] }, concurrency: CONCURRENCY });
  const children = await Promise.all(Array.from({ length: workers }, () => spawnWorker(opts)));
  const labels = new Map(children.map((c, i) => [c.pid!, `worker ${i + 1}`]));
  const run = async (name: string, n: number) => {
    const jobs = await Promise.all(Array.from({ length: n }, (_, i) => client.enqueue({ workspace: 'bench', input: `${name}${i}.com`, groups: ['companyProfile'] })));
    await Promise.all(jobs.map((j) => client.service.waitFor(j.jobId, 600_000)));
  };
  try {
    // Warm-up, not measured: every process's connections and first jobs.
    await run('warm', workers * CONCURRENCY * 2);
    const cpu0 = cpuSnapshot(labels);
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    await run('scale', JOBS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuSnapshot(labels);
    const busy1 = machineBusySeconds();
    const cpu = new Map([...cpu1.entries()].map(([k, v]) => [k, v - (cpu0.get(k) ?? 0)] as [string, number]).filter(([, v]) => v > 0));
    return { workers, seconds, perSecond: JOBS / seconds, cpu, machine: busy0 === undefined || busy1 === undefined ? undefined : busy1 - busy0 };
  } finally {
    await Promise.all(children.map(stopWorker));
    await client.stop();
  }
}

export async function scaleBench(fake: FakeProvider): Promise<ResultRow[]> {
  const runs: ScaleRun[] = [];
  for (const w of COUNTS) runs.push(await scaleRun(fake, w));
  const cores = availableParallelism();
  const base = runs[0];
  const workerCpu = (r: ScaleRun) => [...r.cpu.entries()].filter(([k]) => k.startsWith('worker')).map(([, v]) => v);
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  const db = (r: ScaleRun) => (r.cpu.get('ferretdb') ?? 0) + (r.cpu.get('postgres') ?? 0) + (r.cpu.get('mongod') ?? 0);
  const busy = (r: ScaleRun, v: number) => (v / r.seconds).toFixed(2);
  const perJob = (v: number) => ((v * 1000) / JOBS).toFixed(1);
  console.log(`${JOBS} company jobs queued at once, one instant provider; each worker process runs ${CONCURRENCY} at a time; ${cores} cores.`);
  console.log('CPU as cores busy while the jobs ran (CPU seconds per second), then CPU ms per job:');
  const labels = ['worker (each, mean)', 'node (bench)', 'ferretdb', 'postgres', 'redis'];
  const value = (r: ScaleRun, k: string) => (k === 'worker (each, mean)' ? sum(workerCpu(r)) / workerCpu(r).length : (r.cpu.get(k) ?? 0));
  console.log(
    table([
      ['worker processes', 'jobs/s', 'x one process', ...labels, 'these', 'machine (any process)', 'these, ms per job', 'database ms per job'],
      ...runs.map((r) => {
        const all = sum([...r.cpu.values()]);
        return [String(r.workers), r.perSecond.toFixed(1), (r.perSecond / base.perSecond).toFixed(2), ...labels.map((k) => busy(r, value(r, k))), busy(r, all), r.machine === undefined ? '-' : `${busy(r, r.machine)} of ${cores}`, perJob(all), perJob(db(r))];
      }),
    ]),
  );
  return [
    ...runs.map((r) => ({
      what: `${r.workers} worker process${r.workers > 1 ? 'es' : ''} x concurrency ${CONCURRENCY}, ${JOBS} company jobs`,
      result: `${r.perSecond.toFixed(1)} jobs/s (${(r.perSecond / base.perSecond).toFixed(2)}x one process); cores busy: workers ${busy(r, sum(workerCpu(r)))}, database ${busy(r, db(r))} (FerretDB ${busy(r, r.cpu.get('ferretdb') ?? 0)}, PostgreSQL ${busy(r, r.cpu.get('postgres') ?? 0)}), Redis ${busy(r, r.cpu.get('redis') ?? 0)}; the machine ${r.machine === undefined ? '-' : busy(r, r.machine)} of ${cores}`,
    })),
    { what: 'CPU per job at the most processes: workers / database', result: `${perJob(sum(workerCpu(runs.at(-1)!)))} / ${perJob(db(runs.at(-1)!))} ms` },
  ];
}
