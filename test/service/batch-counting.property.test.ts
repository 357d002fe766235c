// The counting steps of a batch, under fault injection: any step may die between any two of its
// writes (the item's result, the live counts, the finish), and Redis may lose the batch's
// counts at any point. Whatever happened, once the sweeper's step has run the counts equal the
// items' stored statuses and the batch is final (issue 24). Property-based (fast-check): the
// batch's shape, the jobs' order and outcomes, and where each step dies are generated.
import fc from 'fast-check';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { batchItemId } from '../../src/store/service-models.js';
import type { JobResult } from '../../src/engine/types.js';
import type { ItemAnswer } from '../../src/delivery/delivery.js';

let app: Awaited<ReturnType<typeof startTestApp>>;
const USD = 0.01;

beforeAll(async () => {
  // recountAfterMs 0: every unfinished batch is looked at by the sweep that follows.
  app = await startTestApp({ file: 'batch-counting', role: 'client', overrides: { service: { batch: { recountAfterMs: 0 } } } });
}, 60_000);
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
}, 60_000);

class Crash extends Error {}
const DEATHS = ['never-answered', 'after-items-written', 'after-counts-moved', 'before-finish-write', 'after-finish-write', 'none'] as const;
type Death = (typeof DEATHS)[number];

let runs = 0;

test('any counting step may die between two writes, and Redis may lose the counts: after the sweeper step, counts equal the stored statuses and the batch is final', async () => {
  const { Batch, BatchItem, Job } = app.store.models;
  const batches = app.service.batches;
  const arb = fc.record({
    // Which job each item asks (items of one job: the first started it, the others joined).
    jobOf: fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 6 }),
    outcomes: fc.array(fc.constantFrom('done' as const, 'failed' as const), { minLength: 4, maxLength: 4 }),
    order: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
    deaths: fc.array(fc.constantFrom(...DEATHS), { minLength: 4, maxLength: 4 }),
    // Before which job's answer Redis loses the batch's counts (4: never).
    loseCountsBefore: fc.nat({ max: 4 }),
  });
  await fc.assert(
    fc.asyncProperty(arb, async ({ jobOf, outcomes, order, deaths, loseCountsBefore }) => {
      const run = ++runs;
      const batchId = `bat_prop${String(run).padStart(4, '0')}`;
      const n = jobOf.length;
      const jobIds = [0, 1, 2, 3].map((j) => `enr_prop${run}_${j}`);
      const expireAt = new Date(Date.now() + 86400_000);
      await BatchItem.insertMany(jobOf.map((j, index) => ({ _id: batchItemId(batchId, index), batchId, workspace: 'P', index, columnsJson: '{}', input: `p${run}-${j}.com`, status: 'queued', jobId: jobIds[j], expireAt })));
      const key = `${app.names.prefix}:batch:${batchId}`;
      await app.redis.hset(key, { total: n, queued: n, rejected: 0, costMicros: 0, movedAt: Date.now() });
      await Batch.create({ _id: batchId, workspace: 'P', replyTo: { trigger: 'cli', address: {} }, total: n, columns: [], state: 'running', counts: { queued: n }, expireAt, queueing: false, queuedThrough: n });
      const results = new Map<number, JobResult>();
      for (const j of new Set(jobOf)) {
        const status = outcomes[j];
        const result: JobResult = { jobId: jobIds[j], workspace: 'P', status, display: `p${run}-${j}.com`, outcomes: [], costUsd: USD, ...(status === 'failed' ? { error: 'provider down' } : {}) };
        results.set(j, result);
        const requesters = jobOf.flatMap((jj, index) => (jj === j ? [{ id: `r${run}-${index}`, batchItem: { batchId, index } }] : []));
        await Job.create({ _id: jobIds[j], jobId: jobIds[j], workspace: 'P', identityKey: `company:p${run}-${j}.com`, display: result.display, request: {}, status, result, requesters, run: 1, expireAt, createdDay: '2026-12-07' });
      }

      // Each job's answer, in the generated order, dying where generated.
      for (const [step, j] of order.entries()) {
        if (!results.has(j)) continue;
        if (step === loseCountsBefore) await app.redis.del(key);
        const death: Death = deaths[j];
        if (death === 'never-answered') continue;
        const die = (at: Death) => async () => {
          if (death === at) throw new Crash(at);
        };
        batches.rows.hooks = { afterItemsWritten: die('after-items-written'), afterCountsMoved: die('after-counts-moved') };
        batches.progress.hooks = { beforeFinishWrite: die('before-finish-write'), afterFinishWrite: die('after-finish-write') };
        const to: ItemAnswer[] = jobOf.flatMap((jj, index) => (jj === j ? [{ batchId, index, starter: jobOf.indexOf(j) === index }] : []));
        await batches.answerItems(results.get(j)!, to).catch((err) => {
          if (!(err instanceof Crash)) throw err;
        });
      }
      batches.rows.hooks = {};
      batches.progress.hooks = {};

      // The sweeper's step.
      await batches.finishStalled();

      const items = await BatchItem.find({ batchId }).sort({ _id: 1 }).lean();
      const stored: Record<string, number> = {};
      for (const it of items) stored[it.status] = (stored[it.status] ?? 0) + 1;
      const nonZero = (c: object) => Object.fromEntries(Object.entries(c).filter(([, v]) => Number(v) > 0));
      const status = await batches.status(batchId);
      expect(nonZero(status.counts)).toEqual(stored);
      expect(status.state).toBe('done');
      const doc = await Batch.findById(batchId).lean();
      expect(doc?.finishedAt).toBeTruthy();
      expect(nonZero(doc!.counts as object)).toEqual(stored);
      // Every item holds its own job's result; each job is paid for once.
      expect(items.map((it) => [it.status, (it.result as JobResult | undefined)?.jobId])).toEqual(jobOf.map((j) => [outcomes[j], jobIds[j]]));
      expect(Math.round(status.costUsd * 1e6)).toBe(Math.round(new Set(jobOf).size * USD * 1e6));
    }),
    { numRuns: 40, seed: 2426, endOnFailure: true },
  );
}, 240_000);
