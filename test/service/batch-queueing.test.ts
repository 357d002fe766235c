// A batch is answered before its items are queued; the queueing goes on in the background under
// a Redis lease. These tests cut it short for real: a submitting process killed with SIGKILL mid
// way (the sweeper takes over once its lease expires, and every item gets exactly one result,
// each provider call made once), a cancel while items are still being queued, and a batch-wide
// budget kept through a takeover (read back from the batch record).
import { once } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { companyNameAnswer, oneCompanyProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import { until as untilEvery } from '../support/wait.js';
import { jobIdFor, jobLeaseKey } from '../../src/queue/enrich-queue.js';
import { batchItemId } from '../../src/store/service-models.js';
import type { BatchStatus } from '../../src/plugin/service.js';

let fake: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
const USD = 0.01;

beforeAll(async () => {
  assertDistIsFresh();
  fake = await startFakeServer({
    'POST /co': companyNameAnswer,
  });
  app = await startTestApp({
    file: 'batch-queueing',
    ...oneCompanyProvider(fake.url, USD, { queue: { concurrency: 20 } }),
  });
}, 120_000);
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
}, 60_000);

/** The job id an item of a batch in workspace W with default options gets. */
function jobOf(domain: string): string {
  const { request, identity } = app.service.validate({ workspace: 'W', input: domain });
  return jobIdFor(request, identity);
}

/** Polls every 200 ms, for at most two minutes unless told. */
const until = <T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 120_000) => untilEvery(what, fn, timeoutMs, 200);

/** The batch's counts as the items say, to compare with the live counts in Redis. */
async function countsFromItems(batchId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const it of await app.store.models.BatchItem.find({ batchId }, { status: 1 }).lean()) out[it.status] = (out[it.status] ?? 0) + 1;
  return out;
}

const nonZero = (c: BatchStatus['counts']) => Object.fromEntries(Object.entries(c).filter(([, n]) => n > 0));

test('a process killed while queueing a batch: the sweeper finishes it once the lease expires, and every item gets one result from one provider call', async () => {
  const domains = Array.from({ length: 300 }, (_, i) => `k${i}-crash.com`);
  // Item 250's job is held busy, so the submitter stalls in its third chunk (200-299) after marking 200.
  const busy = await app.leases.acquire(jobLeaseKey(jobOf(domains[250])), 60_000);
  expect(busy).not.toBeNull();
  let child: ChildProcessWithoutNullStreams | undefined;
  try {
    child = await spawnWorker({ mongodbUrl: app.names.mongodbUrl, redisUrl: app.names.redisUrl, prefix: app.names.prefix, workspace: 'W', inputs: domains }, 'test/service/fixtures/batch-submitter.mjs');
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const batchId = await until('the batch id', async () => /batch (bat_\w+)/.exec(out)?.[1]);
    const { Batch } = app.store.models;
    await until('the submitter to mark 200 items queued', async () => ((await Batch.findById(batchId).lean())?.queuedThrough ?? 0) >= 200);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await busy!.release();

    const left = await Batch.findById(batchId).lean();
    expect(left).toMatchObject({ queueing: true, queuedThrough: 200 });
    // The dead holder's lease has not expired yet: the sweeper leaves the batch alone.
    expect((await app.sweeper!.runOnce()).batchesResumed).toBe(0);
    const status = (await app.service.status(batchId)) as BatchStatus;
    expect(status.queueing).toEqual({ through: 200 });
    expect(status.counts.queued + status.counts.running + status.counts.done).toBe(300);

    // Once it expires (30 s), a sweep takes the batch over.
    await until('a sweep to resume the batch', async () => (await app.sweeper!.runOnce()).batchesResumed === 1, 90_000);
    const final = await app.service.waitForBatch(batchId, 240_000);
    expect(final.state).toBe('done');
    expect(nonZero(final.counts)).toEqual({ done: 300 });
    expect(final.queueing).toBeUndefined();
    expect(final.costUsd).toBeCloseTo(300 * USD, 6);
    expect(await countsFromItems(batchId)).toEqual({ done: 300 });
    const rows = [];
    for await (const row of app.service.results(batchId)) rows.push(row);
    expect(rows.map((r) => [r.index, r.status, r.result?.company?.fields.name?.value])).toEqual(domains.map((d, i) => [i, 'done', `Name of ${d}`]));
    // One provider call per domain: no item's job ran twice.
    const calls = new Map<string, number>();
    for (const r of fake.requests) if (r.path === '/co') calls.set((r.json as { domain: string }).domain, (calls.get((r.json as { domain: string }).domain) ?? 0) + 1);
    expect(domains.filter((d) => calls.get(d) !== 1)).toEqual([]);
    // No finished job was started again for an item the dead holder had already queued.
    const runs = await app.store.models.Job.find({ _id: { $in: domains.map(jobOf) } }, { run: 1 }).lean();
    expect(runs).toHaveLength(300);
    expect(runs.filter((j) => j.run !== 1).map((j) => j._id)).toEqual([]);
    // The last items can finish before the final mark is written: wait for it.
    await until('the final mark', async () => (await Batch.findById(batchId).lean())?.queueing === false);
    expect(await Batch.findById(batchId).lean()).toMatchObject({ queueing: false, queuedThrough: 300 });
  } finally {
    await busy?.release();
    if (child) await stopWorker(child);
  }
}, 420_000);

test('cancel while the items are still being queued: queueing stops, items never queued are cancelled without a job, the batch ends cancelled; cancelling again changes nothing', async () => {
  const domains = Array.from({ length: 300 }, (_, i) => `c${i}-cancel.com`);
  const busy = await app.leases.acquire(jobLeaseKey(jobOf(domains[120])), 60_000);
  try {
    const { batchId, accepted } = await app.service.submitBatch(
      domains.map((input) => ({ input })),
      { trigger: 'cli', address: {} },
      { workspace: 'W' },
    );
    expect(accepted).toBe(300);
    const { Batch, BatchItem, Job } = app.store.models;
    await until('the first chunk to be marked queued', async () => ((await Batch.findById(batchId).lean())?.queuedThrough ?? 0) >= 100);
    const cancelling = app.service.cancel(batchId, 'W', 'tester');
    await until('the batch to be marked cancelled', async () => (await Batch.findById(batchId).lean())?.state === 'cancelled');
    await busy!.release();
    await cancelling;

    const final = await app.service.waitForBatch(batchId, 240_000);
    expect(final.state).toBe('cancelled');
    expect(final.queueing).toBeUndefined();
    expect(final.counts.queued + final.counts.running + final.counts.paused).toBe(0);
    expect(final.counts.done + final.counts.cancelled + final.counts.failed).toBe(300);
    // The last chunk was never queued: its items are cancelled and no job exists for them.
    const lastChunk = await BatchItem.find({ batchId, _id: { $gte: batchItemId(batchId, 200) } }, { status: 1, reason: 1 }).lean();
    expect(lastChunk).toHaveLength(100);
    expect(lastChunk.every((it) => it.status === 'cancelled' && /before this item was queued/.test(it.reason ?? ''))).toBe(true);
    expect(await Job.countDocuments({ _id: { $in: domains.slice(200).map(jobOf) } })).toBe(0);
    const fromItems = await countsFromItems(batchId);
    expect(nonZero(final.counts)).toEqual(fromItems);

    await app.service.cancel(batchId, 'W', 'tester');
    expect(nonZero(((await app.service.status(batchId)) as BatchStatus).counts)).toEqual(fromItems);
    expect(await Job.countDocuments({ _id: { $in: domains.slice(200).map(jobOf) } })).toBe(0);
  } finally {
    await busy?.release();
  }
}, 420_000);

test('cancel from another process while a process is queueing: that process stops, the item it was stuck on and those never queued are cancelled without a job', async () => {
  const domains = Array.from({ length: 300 }, (_, i) => `x${i}-away.com`);
  // Item 250's job is held busy: the submitter is stuck on it when the cancel comes.
  const busy = await app.leases.acquire(jobLeaseKey(jobOf(domains[250])), 120_000);
  let child: ChildProcessWithoutNullStreams | undefined;
  try {
    child = await spawnWorker({ mongodbUrl: app.names.mongodbUrl, redisUrl: app.names.redisUrl, prefix: app.names.prefix, workspace: 'W', inputs: domains }, 'test/service/fixtures/batch-submitter.mjs');
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const batchId = await until('the batch id', async () => /batch (bat_\w+)/.exec(out)?.[1]);
    const { Batch, BatchItem, Job } = app.store.models;
    await until('the submitter to mark 200 items queued', async () => ((await Batch.findById(batchId).lean())?.queuedThrough ?? 0) >= 200);

    // Waits for the submitter to let go of the batch (it notices the cancel while waiting for item 250's job).
    await app.service.cancel(batchId, 'W', 'tester');
    expect(await Batch.findById(batchId).lean()).toMatchObject({ state: 'cancelled', queueing: false });
    expect(child.exitCode).toBeNull();
    const stuck = await BatchItem.findById(batchItemId(batchId, 250)).lean();
    expect(stuck).toMatchObject({ status: 'cancelled', reason: expect.stringMatching(/before this item was queued/) });
    expect(await Job.countDocuments({ _id: jobOf(domains[250]) })).toBe(0);

    const final = await app.service.waitForBatch(batchId, 240_000);
    expect(final.state).toBe('cancelled');
    expect(final.counts.queued + final.counts.running + final.counts.paused).toBe(0);
    expect(final.counts.done + final.counts.cancelled + final.counts.failed).toBe(300);
    expect(nonZero(final.counts)).toEqual(await countsFromItems(batchId));
  } finally {
    await busy?.release();
    if (child) await stopWorker(child);
  }
}, 420_000);

test('a batch-wide maxCostUsd survives a queueing takeover: the items the sweeper queues spend against the same budget, so the whole batch makes only the calls it pays for', async () => {
  const domains = Array.from({ length: 150 }, (_, i) => `b${i}-budget.com`);
  // A second process that submits and queues; it stops (a shutdown) while item 100 is being queued.
  const web = await startTestApp({
    file: 'batch-queueing',
    names: app.names,
    role: 'web',
    ...oneCompanyProvider(fake.url, USD),
  });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let reached!: () => void;
  const atGate = new Promise<void>((r) => (reached = r));
  web.service.batches.queueing.hooks = {
    afterItemQueued: async (_batchId, index) => {
      if (index !== 100) return;
      reached();
      await gate;
    },
  };
  try {
    const before = fake.requests.filter((r) => r.path === '/co').length;
    // 5 calls fit in $0.055; the 6th would pass it.
    const { batchId, accepted } = await web.service.submitBatch(domains.map((input) => ({ input })), { trigger: 'cli', address: {} }, { workspace: 'W', maxCostUsd: 0.055 });
    expect(accepted).toBe(150);
    await atGate;
    const stopping = web.service.batches.stop();
    open();
    await stopping;
    const { Batch } = app.store.models;
    const left = await Batch.findById(batchId).lean();
    expect(left).toMatchObject({ queueing: true, maxCostUsd: 0.055 });
    expect(left!.queuedThrough!).toBeLessThan(150);

    expect((await app.sweeper!.runOnce()).batchesResumed).toBe(1);
    const final = await app.service.waitForBatch(batchId, 120_000);
    expect(final.state).toBe('done');
    expect(nonZero(final.counts)).toEqual({ done: 150 });
    const rows = [];
    for await (const row of app.service.results(batchId)) rows.push(row);
    const stopped = rows.filter((r) => r.result?.outcomes.some((o) => o.outcome === 'budget_reached' && o.costUsd === 0));
    expect(stopped).toHaveLength(145);
    expect(fake.requests.filter((r) => r.path === '/co').length - before).toBe(5);
    expect(final.costUsd).toBeCloseTo(5 * USD, 6);
  } finally {
    open();
    await web.stop();
  }
}, 120_000);
