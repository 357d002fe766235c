// A batch's results: each item's job result written on the item when the job ends (so results
// stream back in input order with no join), and the rows read back in order.
import type { JobResult } from '../engine/types.js';
import type { ItemAnswer } from '../delivery/delivery.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { batchItemId } from '../store/service-models.js';
import type { BatchResultRow, BatchRowStatus } from '../plugin/service.js';
import { FINAL, micro, type BatchesDeps } from './batch-deps.js';
import type { BatchProgress } from './batch-progress.js';

type Move = { from: string; to: string; costMicros: number };

/** Rows written per command when a job answers many rows of one batch. */
const BULK_ROWS = 50;

/** Test hooks: a step that dies between its writes. */
export interface ResultHooks {
  afterItemsWritten?(batchId: string): Promise<void>;
  afterCountsMoved?(batchId: string): Promise<void>;
}

export class BatchResults {
  hooks: ResultHooks = {};

  constructor(
    private readonly deps: BatchesDeps,
    private readonly progress: BatchProgress,
  ) {}

  /**
   * A job ended (or paused): its result is written on every batch item that asked for it, in
   * one command per batch, and the counts move once per batch. Only the item whose request
   * started the run is charged its cost: the others joined it. A final item is never written
   * again. The write sets only the fields a result owns: the queueing step writes nothing to an
   * item once its job is queued, so no two writers meet on one item (FerretDB rewrites the
   * whole document on update, and the later of two concurrent writes undoes the other).
   */
  async answerItems(result: JobResult, to: ItemAnswer[]): Promise<void> {
    const byBatch = new Map<string, Map<number, boolean>>();
    for (const { batchId, index, starter } of to) {
      const items = byBatch.get(batchId) ?? new Map<number, boolean>();
      // The same item asked twice (a queueing taken over): charged once if either started the run.
      items.set(index, (items.get(index) ?? false) || starter);
      byBatch.set(batchId, items);
    }
    for (const [batchId, items] of byBatch) await this.writeResults(batchId, items, result);
  }

  private async writeResults(batchId: string, items: Map<number, boolean>, result: JobResult): Promise<void> {
    const status: BatchRowStatus = result.status === 'done' ? 'done' : result.status === 'paused' ? 'paused' : result.status === 'cancelled' ? 'cancelled' : 'failed';
    const fields = { status, result, reason: result.error ?? null };
    const moves: Move[] = [];
    const joined: number[] = [];
    for (const [index, starter] of items) {
      if (starter) await this.writeOne(batchId, index, fields, result.costUsd, moves);
      else joined.push(index);
    }
    if (joined.length) {
      // The joined items, all still queued as a rule: one command per BULK_ROWS.
      // One updateMany per BULK_ROWS rows (FerretDB 1.24 dropped every connection when four jobs
      // each sent a bulkWrite of 50-249 statements at once, here, twice).
      let matchedCount = 0;
      for (let i = 0; i < joined.length; i += BULK_ROWS) {
        const some = joined.slice(i, i + BULK_ROWS);
        const filter = { batchId, index: { $in: some }, status: 'queued' as const };
        matchedCount += (await this.deps.store.models.BatchItem.updateMany(filter, { $set: { ...fields, costUsd: 0 } })).matchedCount;
      }
      for (let i = 0; i < matchedCount; i++) moves.push({ from: 'queued', to: status, costMicros: 0 });
      // Some were not queued: paused by an earlier run (or final already, then left alone).
      if (matchedCount < joined.length) for (const index of joined) await this.writeOne(batchId, index, fields, 0, moves, ['paused']);
    }
    if (!moves.length) return;
    await this.hooks.afterItemsWritten?.(batchId);
    await this.progress.move(batchId, moves, result.resumeAt);
    await this.hooks.afterCountsMoved?.(batchId);
    await this.progress.maybeFinish(batchId, status === 'paused');
  }

  /** One item: the result written on it if it is not final (or in `from`), one command. */
  private async writeOne(batchId: string, index: number, fields: { status: BatchRowStatus }, costUsd: number, moves: Move[], from?: BatchRowStatus[]): Promise<void> {
    const filter = { _id: batchItemId(batchId, index), status: from ? { $in: from } : { $nin: FINAL } };
    const before = await this.deps.store.models.BatchItem.findOneAndUpdate(filter, { $set: { ...fields, costUsd } }, { returnDocument: 'before' }).lean();
    // A paused run's cost is counted once the item is final.
    if (before) moves.push({ from: before.status, to: fields.status, costMicros: fields.status === 'paused' ? 0 : micro(costUsd) - micro(before.costUsd ?? 0) });
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
