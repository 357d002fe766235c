// A batch's results: each item's job result written on the item when the job ends (so results
// stream back in input order with no join), and the rows read back in order.
import type { JobResult, ReplyTo } from '../engine/types.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { batchItemId } from '../store/service-models.js';
import type { BatchResultRow, BatchRowStatus } from '../plugin/service.js';
import { FINAL, micro, type BatchesDeps } from './batch-deps.js';
import type { BatchProgress } from './batch-progress.js';

export class BatchResults {
  constructor(
    private readonly deps: BatchesDeps,
    private readonly progress: BatchProgress,
  ) {}

  /** A batch item's job ended (or paused): record it on the item and move the counts. */
  async onItemResult(result: JobResult, replyTo: ReplyTo): Promise<void> {
    const { batchId, index } = replyTo.address as { batchId?: string; index?: number };
    if (typeof batchId !== 'string' || typeof index !== 'number') return;
    const { BatchItem } = this.deps.store.models;
    const _id = batchItemId(batchId, index);
    const status: BatchRowStatus = result.status === 'done' ? 'done' : result.status === 'paused' ? 'paused' : result.status === 'cancelled' ? 'cancelled' : 'failed';
    // One command: write the result on an item not yet final, and get what it was before (its
    // counts move from that status). Each item's result arrives once (the requester's claim).
    // A joined item's cost belongs to the request that started the job.
    const item = await BatchItem.findOneAndUpdate({ _id, status: { $nin: FINAL } }, { $set: { status, result, reason: result.error ?? null, costUsd: result.costUsd } }, { returnDocument: 'before' }).lean();
    if (!item) return;
    const cost = item.joined ? 0 : result.costUsd;
    if (cost !== result.costUsd) await BatchItem.updateOne({ _id }, { $set: { costUsd: cost } });
    await this.progress.move(batchId, [{ from: item.status, to: status, costMicros: status === 'paused' ? 0 : micro(cost) - micro(item.costUsd ?? 0) }], result.resumeAt);
    await this.progress.maybeFinish(batchId, status === 'paused');
  }

  async *results(batchId: string, workspace?: string): AsyncGenerator<BatchResultRow> {
    const batch = await this.deps.store.models.Batch.findById(batchId, { workspace: 1 }).lean();
    if (!batch || (workspace !== undefined && batch.workspace !== workspace)) throw new EnrichbotError(ErrorCodes.BATCH_NOT_FOUND, `No batch ${batchId}${workspace ? ` in workspace ${workspace}` : ''}.`);
    const cursor = this.deps.store.models.BatchItem.find({ batchId }).sort({ _id: 1 }).lean().cursor({ batchSize: 200 });
    for await (const it of cursor) {
      yield {
        index: it.index,
        columns: it.columnsJson ? (JSON.parse(it.columnsJson) as Record<string, string>) : {},
        input: (it.input as BatchResultRow['input']) ?? null,
        status: it.status as BatchRowStatus,
        ...(it.reason ? { reason: it.reason } : {}),
        ...(it.jobId ? { jobId: it.jobId } : {}),
        ...(it.result ? { result: it.result as JobResult } : {}),
      };
    }
  }
}
