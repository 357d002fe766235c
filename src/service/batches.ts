// Batches: many inputs submitted together (a CSV file, an API batch, a backfill). Each accepted
// item is an ordinary job whose requester is the batch itself. The parts:
// - batch-submit.ts: validation and the first writes (items, live counts, batch document);
// - batch-queueing.ts: the items put on the queue in the background, under a lease;
// - batch-results.ts: each job's result written on its item, and the rows read back in order;
// - batch-progress.ts: live counts, status, progress events and completion, once;
// - batch-recovery.ts: the sweeper's step that finishes a batch whose counts drifted.
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { Delivery } from '../queue/requesters.js';
import type { BatchItem, BatchOptions, BatchResultRow, BatchStatus, BatchSubmitResult } from '../plugin/service.js';
import { BATCH_REPLY_TRIGGER, type BatchesDeps } from './batch-deps.js';
import { submitBatch } from './batch-submit.js';
import { BatchQueueing } from './batch-queueing.js';
import { BatchProgress } from './batch-progress.js';
import { BatchResults } from './batch-results.js';
import { BatchRecovery } from './batch-recovery.js';

export { BATCH_REPLY_TRIGGER, type BatchesDeps };
export { QUEUEING_LEASE_TTL_MS, queueingLeaseKey } from './batch-queueing.js';

export class Batches {
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
    return submitBatch(this.deps, { startQueueing: (batchId, lease) => this.queueing.start(batchId, lease, false), maybeFinish: (batchId) => this.progress.maybeFinish(batchId) }, source, replyTo, options);
  }

  /** The sweeper's step: takes over batches still queueing whose holder is gone. */
  resumeQueueing(): Promise<number> {
    return this.queueing.resume();
  }

  /** Stops queueing in this process (at the next item) and waits: the sweeper finishes it later. */
  stop(): Promise<void> {
    return this.queueing.stop();
  }

  onItemResults(result: JobResult, to: Delivery[]): Promise<void> {
    return this.rows.onItemResults(result, to);
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
