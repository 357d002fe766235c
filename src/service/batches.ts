// Batches: many inputs submitted together (a CSV file, an API batch, a backfill). Each accepted
// item is an ordinary job whose requester is the item's row (`batchItem`); the delivery hands
// the job's answer back here (answerItems) and takes the batch's progress and end to the trigger
// that submitted it. The parts:
// - batch-submit.ts: validation and the first writes (items, live counts, batch document);
// - batch-queueing.ts: the items put on the queue in the background, under a lease;
// - batch-results.ts: each job's result written on its item, and the rows read back in order;
// - batch-progress.ts: live counts, status, progress events and completion, once;
// - batch-recovery.ts: the sweeper's step that finishes a batch whose counts drifted.
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { BatchItemAnswers, ItemAnswer } from '../delivery/delivery.js';
import type { BatchItem, BatchOptions, BatchResultRow, BatchStatus, BatchSubmitResult, Lease } from '../plugin/service.js';
import type { BatchesDeps } from './batch-deps.js';
import { submitBatch } from './batch-submit.js';
import { BatchQueueing } from './batch-queueing.js';
import { BatchProgress } from './batch-progress.js';
import { BatchResults } from './batch-results.js';
import { BatchRecovery } from './batch-recovery.js';

export type { BatchesDeps };
export { QUEUEING_LEASE_TTL_MS, queueingLeaseKey } from './batch-queueing.js';

export class Batches implements BatchItemAnswers {
  readonly queueing: BatchQueueing;
  readonly progress: BatchProgress;
  readonly rows: BatchResults;
  readonly recovery: BatchRecovery;

  constructor(private readonly deps: BatchesDeps) {
    this.queueing = new BatchQueueing(deps);
    this.progress = new BatchProgress(deps);
    this.rows = new BatchResults(deps, this.progress);
    this.recovery = new BatchRecovery(deps, this.progress, this.rows);
  }

  /** The sweeper's step: batches that stood still are recounted from their items, and finished. */
  finishStalled(): Promise<number> {
    return this.recovery.sweep();
  }

  submit(source: BatchItem[] | AsyncIterable<BatchItem>, replyTo: ReplyTo, options: BatchOptions): Promise<BatchSubmitResult> {
    const steps = { startQueueing: (batchId: string, lease: Lease) => this.queueing.start(batchId, lease, false), maybeFinish: (batchId: string) => this.progress.maybeFinish(batchId) };
    return submitBatch({ deps: this.deps, steps, source, replyTo, options });
  }

  /** The sweeper's step: takes over batches still queueing whose holder is gone. */
  resumeQueueing(): Promise<number> {
    return this.queueing.resume();
  }

  /** Stops queueing in this process (at the next item) and waits: the sweeper finishes it later. */
  stop(): Promise<void> {
    return this.queueing.stop();
  }

  /** A job's answer to the rows that asked for it (from the delivery): rows written in bulk, counts moved once. */
  answerItems(result: JobResult, items: ItemAnswer[]): Promise<void> {
    return this.rows.answerItems(result, items);
  }

  status(batchId: string, workspace?: string): Promise<BatchStatus> {
    return this.progress.status(batchId, workspace);
  }

  waitFor(batchId: string, timeoutMs: number): Promise<BatchStatus> {
    return this.progress.waitFor(batchId, timeoutMs);
  }

  results(batchId: string, workspace?: string): AsyncGenerator<BatchResultRow> {
    return this.rows.results(batchId, workspace);
  }

  /**
   * Cancels the batch: queueing stops (here at once, elsewhere at its next chunk), items never
   * queued are cancelled, and the jobs of queued ones are asked to stop. Idempotent.
   */
  async cancel(batchId: string): Promise<void> {
    await this.deps.store.models.Batch.updateOne({ _id: batchId }, { $set: { state: 'cancelled' } });
    await this.queueing.cancel(batchId);
    await this.progress.maybeFinish(batchId, true);
  }
}
