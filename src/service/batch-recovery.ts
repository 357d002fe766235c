// A batch never hangs: the sweeper's step for batches that stood still. The live counts are a
// fast copy of the items' statuses and can drift (a worker killed between writing an item and
// moving its count, Redis losing its keys), and an item's answer can be lost with the worker
// that held it (claimed, never written). For each unfinished batch that has not moved for
// `service.batch.recountAfterMs`: items still waiting whose job is final get the job's result,
// the counts are recounted from the items, and a batch whose items are all final is finished.
import type { JobResult } from '../engine/types.js';
import { isBatchItem, requestersOf } from '../delivery/requesters.js';
import type { ItemAnswer } from '../delivery/delivery.js';
import { batchItemId } from '../store/service-models.js';
import { batchKey, type BatchesDeps } from './batch-deps.js';
import type { BatchProgress } from './batch-progress.js';
import type { BatchResults } from './batch-results.js';

const FINAL_JOB = ['done', 'failed', 'cancelled'];
/** Batches looked at per sweep (the oldest first). */
const PER_SWEEP = 200;

export class BatchRecovery {
  constructor(
    private readonly deps: BatchesDeps,
    private readonly progress: BatchProgress,
    private readonly rows: BatchResults,
  ) {}

  /** Returns how many batches it finished. */
  async sweep(): Promise<number> {
    const { Batch } = this.deps.store.models;
    const open = await Batch.find({ finishedAt: null }, { _id: 1 }).sort({ createdAt: 1 }).limit(PER_SWEEP).lean();
    const idleMs = this.deps.config.service.batch.recountAfterMs;
    const now = this.deps.clock.now().getTime();
    let finished = 0;
    for (const b of open) {
      const batchId = String(b._id);
      const movedAt = Number((await this.deps.redis.hget(batchKey(this.deps.config, batchId), 'movedAt')) ?? 0);
      if (now - movedAt < idleMs) continue;
      if (await this.recover(batchId)) finished++;
    }
    if (finished) this.deps.logger.warn({ finished }, 'batches that stood still were recounted from their items and finished');
    return finished;
  }

  /** Answers the items whose job ended without them, recounts, and finishes the batch if it can. */
  async recover(batchId: string): Promise<boolean> {
    const { Batch, BatchItem, Job } = this.deps.store.models;
    const batch = await Batch.findById(batchId, { queueing: 1, queuedThrough: 1, finishedAt: 1 }).lean();
    if (!batch || batch.finishedAt) return false;
    // Items past the queueing mark may not be on their job yet: the queueing step owns them.
    const waiting = await BatchItem.find({ batchId, status: { $in: ['queued', 'paused'] } }, { index: 1, jobId: 1 }).lean();
    const byJob = new Map<string, number[]>();
    for (const it of waiting) {
      if (!it.jobId || (batch.queueing && it.index >= (batch.queuedThrough ?? 0))) continue;
      byJob.set(it.jobId, [...(byJob.get(it.jobId) ?? []), it.index]);
    }
    for (const [jobId, indexes] of byJob) {
      const job = await Job.findById(jobId).lean();
      if (job && FINAL_JOB.includes(String(job.status)) && job.result) {
        const requesters = requestersOf(job);
        const to: ItemAnswer[] = indexes.map((index) => ({ batchId, index, starter: requesters.findIndex((r) => isBatchItem(r, { batchId, index })) === 0 }));
        await this.rows.answerItems(job.result as JobResult, to);
      } else if (!job) {
        // Its job is gone (forgotten, or expired): nothing will ever answer it.
        await BatchItem.updateMany(
          { batchId, index: { $in: indexes }, status: { $in: ['queued', 'paused'] }, _id: { $gte: batchItemId(batchId, indexes[0]) } },
          { $set: { status: 'failed', reason: 'Its job record is gone (forgotten or expired before it ran): submit this row again.' } },
        );
      }
    }
    await this.progress.recount(batchId);
    return this.progress.finish(batchId);
  }
}
