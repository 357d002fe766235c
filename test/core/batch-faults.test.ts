// A batch always finishes, whatever dies on the way: two worker processes run a batch submitted
// by the real CLI (`enrich --file --no-worker`) while one worker is killed (SIGKILL) at a chosen
// instant, or every Redis key of the deployment's prefix is deleted. The items' stored statuses
// are the truth; the live counts may lag, the batch may never hang (issues 24 and 28).
import { writeFileSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import { cliEnv, exited, startCli } from '../support/cli-env.js';
import type { App } from '../../src/app.js';
import type { BatchStatus } from '../../src/plugin/service.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

const USD = 0.01;
let fake: FakeServer;
let client: TestApp;
const workers: ChildProcessWithoutNullStreams[] = [];
/** Per scenario: what to do once the provider has seen this many calls. */
let onCall: (n: number) => void = () => undefined;
let delayOf: () => number = () => 0;
/** Provider calls in the current scenario. */
let calls = 0;

beforeAll(async () => {
  assertDistIsFresh();
  fake = await startFakeServer({
    'POST /paid': async (req) => {
      onCall(++calls);
      return { json: { found: true, fields: { 'company.name': `Co ${(req.json as { domain: string }).domain}` }, confidence: 0.9 }, delayMs: delayOf() };
    },
  });
  client = (await startTestApp({ file: 'batch-faults', role: 'client' })) as TestApp;
}, 60_000);
afterAll(async () => {
  await Promise.all(workers.map(stopWorker));
  await client?.stop();
  if (client) await dropTestData(client.names);
  await fake?.close();
}, 60_000);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function startWorker(extra: Record<string, unknown> = {}): Promise<ChildProcessWithoutNullStreams> {
  const w = await spawnWorker({ mongodbUrl: client.names.mongodbUrl, redisUrl: client.names.redisUrl, prefix: client.names.prefix, provider: 'paid', baseUrl: fake.url, usd: USD, concurrency: 5, ...extra });
  workers.push(w);
  return w;
}

/** The survivor sweeps every second and recounts a batch that stood still for 2 s. */
const survivorOptions = { sweeper: { intervalMs: 1000, requeueAfterMs: 2000 }, recountAfterMs: 2000 };

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Submits `rows` domains through the CLI and waits for it to exit. Returns the batch, its 'done'
 * events as published, and the CLI's exit code and output.
 */
async function runBatch(workspace: string, rows: number, timeoutS: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'batch-faults-'));
  const file = path.join(dir, 'in.csv');
  const domains = Array.from({ length: rows }, (_, i) => `${workspace.toLowerCase()}-${i}.com`);
  writeFileSync(file, `domain\n${domains.join('\n')}\n`);
  calls = 0;
  const cli = startCli(['enrich', '--file', file, '--out', path.join(dir, 'out.csv'), '--no-worker', '-w', workspace, '--groups', 'companyProfile', '--timeout', String(timeoutS)], cliEnv(client.names));
  const { Batch } = client.store.models;
  const batch = await until('the batch', async () => Batch.findOne({ workspace }, { _id: 1 }).lean());
  const batchId = String(batch._id);
  const doneEvents: BatchStatus[] = [];
  const unsubscribe = await client.service.onBatchProgress(batchId, (s) => s.state === 'done' && doneEvents.push(s));
  const code = await exited(cli);
  // A second finish would publish again: give it the time a sweep takes to show up.
  await new Promise((r) => setTimeout(r, 2500));
  await unsubscribe();
  return { batchId, domains, code, output: cli.output(), doneEvents, csv: existsSync(path.join(dir, 'out.csv')) ? readFileSync(path.join(dir, 'out.csv'), 'utf8') : '' };
}

/** What every scenario must end with: done once, counts equal to the items, every row its answer, paid once. */
async function expectFinished(run: Awaited<ReturnType<typeof runBatch>>) {
  const { Batch, BatchItem, Job } = client.store.models;
  // On failure, what the rows left waiting were waiting for.
  const waiting = run.code === 0 ? [] : await BatchItem.find({ batchId: run.batchId, status: { $ne: 'done' } }, { index: 1, status: 1, jobId: 1 }).lean();
  const jobsOf = await Promise.all(waiting.map(async (it) => ({ index: it.index, item: it.status, job: (await Job.findById(it.jobId, { status: 1, run: 1, attempts: 1 }).lean()) ?? null })));
  expect({ code: run.code, output: run.code === 0 ? '' : run.output, waiting: jobsOf }).toEqual({ code: 0, output: '', waiting: [] });
  const doc = await Batch.findById(run.batchId).lean();
  expect(doc).toMatchObject({ state: 'done' });
  expect(doc?.finishedAt).toBeTruthy();
  const items = await BatchItem.find({ batchId: run.batchId }).sort({ _id: 1 }).lean();
  const fromItems: Record<string, number> = {};
  for (const it of items) fromItems[it.status] = (fromItems[it.status] ?? 0) + 1;
  expect(fromItems).toEqual({ done: run.domains.length });
  const status = (await client.service.status(run.batchId)) as BatchStatus;
  expect(Object.fromEntries(Object.entries(status.counts).filter(([, n]) => n > 0))).toEqual(fromItems);
  expect(Object.fromEntries(Object.entries(doc!.counts ?? {}).filter(([, n]) => (n as number) > 0))).toEqual(fromItems);
  expect(items.map((it) => (it.result as { company?: { fields: { name?: { value: string } } } })?.company?.fields.name?.value)).toEqual(run.domains.map((d) => `Co ${d}`));
  // Each row carries its job's cost once (a job run again after a kill reports the new attempt's calls).
  const jobCost = new Map<string, number>();
  for (const j of await Job.find({ workspace: doc!.workspace }, { result: 1 }).lean()) jobCost.set(String(j._id), (j.result as { costUsd?: number } | null)?.costUsd ?? 0);
  expect(items.map((it) => Math.round((it.costUsd ?? 0) * 1e6))).toEqual(items.map((it) => Math.round((jobCost.get(it.jobId!) ?? -1) * 1e6)));
  expect(Math.round(status.costUsd * 1e6)).toBe(items.reduce((s, it) => s + Math.round((it.costUsd ?? 0) * 1e6), 0));
  // The end-of-batch delivery happened once.
  expect(run.doneEvents).toHaveLength(1);
  expect(run.csv.split('\n').filter((l) => l.includes('done')).length).toBe(run.domains.length);
}

test('a worker killed the instant a job is marked done, before its requesters are answered: every row is answered once and the batch finishes (issue 28)', async () => {
  delayOf = () => 5;
  // The next attempt at the job (bee-queue hands the dead worker's job on) answers it, or the
  // other worker's sweeper does (the batch stood still with a row whose job is final).
  const victim = await startWorker({ killAfterRunsDone: 1 });
  const other = await startWorker(survivorOptions);
  try {
    const run = await runBatch('KD', 20, 60);
    expect(victim.signalCode).toBe('SIGKILL');
    await expectFinished(run);
  } finally {
    await stopWorker(other);
  }
}, 120_000);

test.each([
  { seed: 1, fault: 'killed right after a result is recorded' },
  { seed: 2, fault: 'killed mid-call' },
  { seed: 3, fault: 'killed mid-call' },
])('a worker $fault (seed $seed) in a 200-row batch: the batch reaches done, the submitter exits 0, one end-of-batch delivery, counts equal the items', async ({ seed, fault }) => {
  const random = rng(seed);
  delayOf = () => Math.floor(random() * 30);
  const at = 20 + Math.floor(random() * 140);
  let victim: ChildProcessWithoutNullStreams;
  if (fault.startsWith('killed right after')) {
    victim = await startWorker({ killAfterRunsDone: Math.ceil(at / 2) });
  } else {
    victim = await startWorker();
    onCall = (n) => n === at && victim.kill('SIGKILL');
  }
  const survivor = await startWorker(survivorOptions);
  try {
    const run = await runBatch(`K${seed}`, 200, 150);
    expect(victim.signalCode).toBe('SIGKILL');
    await expectFinished(run);
  } finally {
    onCall = () => undefined;
    await stopWorker(survivor);
  }
}, 240_000);

test("every Redis key of the deployment's prefix deleted mid-batch: the batch reaches done, the submitter exits 0, one end-of-batch delivery, counts equal the items", async () => {
  const random = rng(4);
  delayOf = () => Math.floor(random() * 30);
  const w1 = await startWorker(survivorOptions);
  const w2 = await startWorker(survivorOptions);
  let wiped = false;
  onCall = (n) => {
    if (n !== 100) return;
    void client.redis.keys(`${client.names.prefix}:*`).then(async (keys) => {
      if (keys.length) await client.redis.del(...keys);
      wiped = true;
    });
  };
  try {
    const run = await runBatch('RD', 200, 150);
    expect(wiped).toBe(true);
    await expectFinished(run);
  } finally {
    onCall = () => undefined;
    await stopWorker(w1);
    await stopWorker(w2);
  }
}, 240_000);
