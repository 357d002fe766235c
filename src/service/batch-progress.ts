// A batch's counts and state: live counts in Redis (moved by each item's result), the status
// view built from them, throttled progress events and the batch's completion, published once.
import type { ReplyTo } from '../engine/types.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import type { BatchCounts, BatchStatus } from '../plugin/service.js';
import { COUNT_KEYS, batchKey, batchKeyTtlMs, micro, zeroCounts, type BatchDocView, type BatchesDeps } from './batch-deps.js';

/** How long a process reuses a batch's document (replyTo, state) while its items finish. */
const BATCH_DOC_TTL_MS = 5000;

export type LiveCounts = { counts: BatchCounts; total: number; costUsd: number; resumeAt?: string };

/** A finish takes a few writes; a holder that died lets the next one in after this. */
const FINISH_LEASE_TTL_MS = 30_000;

/** Test hooks: a finish that dies between its writes. */
export interface FinishHooks {
  beforeFinishWrite?(batchId: string): Promise<void>;
  afterFinishWrite?(batchId: string): Promise<void>;
}

/** Done, or cancelled with nothing left running. */
const ending = (s: BatchStatus) => s.state === 'done' || (s.state === 'cancelled' && s.counts.queued + s.counts.running + s.counts.paused === 0);

export class BatchProgress {
  private readonly docs = new Map<string, { doc: BatchDocView; at: number }>();
  hooks: FinishHooks = {};

  constructor(private readonly deps: BatchesDeps) {}

  /** The batch document, reused for a few seconds: every finishing item needs it. */
  async batchDoc(batchId: string, fresh = false): Promise<BatchDocView | null> {
    const hit = this.docs.get(batchId);
    if (!fresh && hit && Date.now() - hit.at < BATCH_DOC_TTL_MS) return hit.doc;
    const doc = (await this.deps.store.models.Batch.findById(batchId).lean()) as BatchDocView | null;
    if (doc) this.docs.set(batchId, { doc, at: Date.now() });
    if (this.docs.size > 1000) this.docs.delete(this.docs.keys().next().value!);
    return doc;
  }

  /** Live counts from Redis; rebuilt from the items when Redis lost them. */
  async counts(batchId: string): Promise<LiveCounts> {
    const h = await this.deps.redis.hgetall(batchKey(this.deps.config, batchId));
    if (h.total !== undefined) {
      const counts = zeroCounts();
      for (const k of COUNT_KEYS) counts[k] = Number(h[k] ?? 0);
      return { counts, total: Number(h.total), costUsd: Number(h.costMicros ?? 0) / 1e6, ...(h.resumeAt ? { resumeAt: h.resumeAt } : {}) };
    }
    return this.rebuild(batchId);
  }

  private async rebuild(batchId: string): Promise<LiveCounts> {
    const live = await this.recount(batchId);
    this.deps.logger.warn({ batchId }, 'batch counts were missing in Redis; rebuilt from the items');
    return live;
  }

  /**
   * The counts as the items' stored statuses say, written over the live counts in Redis. The
   * items are the truth; the live counts are a fast copy that may lag (a step that died between
   * writing an item and moving its count, a Redis key lost).
   */
  async recount(batchId: string): Promise<LiveCounts> {
    const { BatchItem, Batch } = this.deps.store.models;
    const batch = await Batch.findById(batchId, { total: 1 }).lean();
    if (!batch) throw new EnrichbotError(ErrorCodes.BATCH_NOT_FOUND, `No batch ${batchId}.`);
    const counts = zeroCounts();
    let costMicros = 0;
    for await (const it of BatchItem.find({ batchId }, { status: 1, costUsd: 1 }).lean().cursor({ batchSize: 1000 })) {
      counts[it.status as keyof BatchCounts]++;
      costMicros += micro(it.costUsd ?? 0);
    }
    const key = batchKey(this.deps.config, batchId);
    await this.deps.redis.multi().hset(key, { total: batch.total, costMicros, ...counts, movedAt: this.deps.clock.now().getTime() }).pexpire(key, batchKeyTtlMs(this.deps.config)).exec();
    return { counts, total: batch.total, costUsd: costMicros / 1e6 };
  }

  /** Moves one status's count to another, as an item changed (and its cost, once final). */
  async move(batchId: string, moves: { from: string; to: string; costMicros: number }[], resumeAt?: string): Promise<void> {
    const key = batchKey(this.deps.config, batchId);
    const tx = this.deps.redis.multi();
    for (const m of moves) {
      tx.hincrby(key, m.from, -1).hincrby(key, m.to, 1);
      if (m.costMicros) tx.hincrby(key, 'costMicros', m.costMicros);
    }
    if (resumeAt) tx.hset(key, 'resumeAt', resumeAt);
    // When the batch last moved: the sweeper recounts one that stood still (batch-recovery.ts).
    tx.hset(key, 'movedAt', this.deps.clock.now().getTime());
    await tx.exec();
  }

  async status(batchId: string, workspace?: string): Promise<BatchStatus> {
    const batch = await this.deps.store.models.Batch.findById(batchId).lean();
    if (!batch || (workspace !== undefined && batch.workspace !== workspace)) {
      throw new EnrichbotError(ErrorCodes.BATCH_NOT_FOUND, `No batch ${batchId}${workspace ? ` in workspace ${workspace}` : ''}: check the id (batches are kept ${this.deps.config.service.batch.retentionDays} days).`);
    }
    return this.view(batch as BatchDocView, await this.counts(batchId));
  }

  view(batch: BatchDocView, live: LiveCounts): BatchStatus {
    const { counts } = live;
    const finished = counts.done + counts.failed + counts.cancelled + counts.rejected >= live.total;
    const state = batch.state === 'cancelled' ? 'cancelled' : finished ? 'done' : counts.queued + counts.running === 0 && counts.paused > 0 ? 'paused' : 'running';
    return {
      kind: 'batch',
      batchId: String(batch._id),
      workspace: batch.workspace,
      ...(batch.label ? { label: batch.label } : {}),
      columns: batch.columns ?? [],
      state,
      total: live.total,
      counts,
      costUsd: Math.round(live.costUsd * 1e6) / 1e6,
      createdAt: (batch.createdAt ?? new Date(0)).toISOString(),
      ...(batch.finishedAt ? { finishedAt: new Date(batch.finishedAt).toISOString() } : {}),
      ...(counts.paused > 0 && live.resumeAt ? { resumeAt: live.resumeAt } : {}),
      // Its last items can finish before the queueing process writes its final mark.
      ...(batch.queueing && (state === 'running' || state === 'paused') ? { queueing: { through: batch.queuedThrough ?? 0 } } : {}),
    };
  }

  /** Publishes progress (throttled) or, once, the batch's completion. */
  async maybeFinish(batchId: string, stateChanged = false): Promise<void> {
    const batch = await this.batchDoc(batchId, stateChanged);
    if (!batch || batch.finishedAt) return;
    const status = this.view(batch, await this.counts(batchId));
    if (ending(status)) {
      await this.finish(batchId);
      return;
    }
    const { prefix } = this.deps.config.queue;
    const throttle = await this.deps.redis.set(`${prefix}:batch-progress:${batchId}`, '1', 'PX', this.deps.config.service.batch.progressIntervalMs, 'NX');
    if (throttle !== 'OK' && !(stateChanged && status.state === 'paused')) return;
    await this.deps.hub.publish('batch', batchId, status);
    await this.deps.delivery.batchProgress(status, batch.replyTo as ReplyTo);
  }

  /**
   * Ends the batch once, if its stored items agree: the live counts said so, but only the items'
   * statuses decide (a count moved without its item, or twice, must not end a batch early). Under
   * a lease, and only while the document has no finishedAt: a finish that died half-way is done
   * again by the next one (the sweeper's), never twice.
   */
  async finish(batchId: string): Promise<boolean> {
    const out = await this.deps.leases.withLease(`batch-finish:${batchId}`, FINISH_LEASE_TTL_MS, async () => {
      const doc = await this.batchDoc(batchId, true);
      if (!doc || doc.finishedAt) return false;
      const live = await this.recount(batchId);
      // A cancel seen only by another process must not turn into "done": the document is read afresh.
      const status = this.view(doc, live);
      if (!ending(status)) return false;
      const state = status.state;
      const finishedAt = this.deps.clock.now();
      await this.hooks.beforeFinishWrite?.(batchId);
      await this.deps.store.models.Batch.updateOne({ _id: batchId }, { $set: { state, counts: status.counts, costUsd: status.costUsd, finishedAt } });
      this.docs.delete(batchId);
      await this.hooks.afterFinishWrite?.(batchId);
      const final = { ...status, finishedAt: finishedAt.toISOString() };
      await this.deps.hub.publish('batch', batchId, final);
      await this.deps.delivery.batchDone(final, doc.replyTo as ReplyTo);
      return true;
    });
    return out.ran && out.value;
  }

  async waitFor(batchId: string, timeoutMs: number): Promise<BatchStatus> {
    let unsubscribe: (() => Promise<void>) | undefined;
    try {
      return await new Promise<BatchStatus>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new EnrichbotError(ErrorCodes.JOB_TIMEOUT, `Batch ${batchId} did not finish within ${Math.round(timeoutMs / 1000)} s; it goes on: check it with \`enrichbot batch ${batchId}\`.`)),
          timeoutMs,
        );
        // Only the batch's end carries finishedAt: a cancelled batch's progress (rows still running) does not end the wait.
        const settle = (s: BatchStatus) => {
          if (!s.finishedAt) return;
          clearTimeout(timer);
          resolve(s);
        };
        const readRecord = async () => {
          const batch = await this.deps.store.models.Batch.findById(batchId, { state: 1, finishedAt: 1 }).lean();
          if (!batch) throw new EnrichbotError(ErrorCodes.BATCH_NOT_FOUND, `No batch ${batchId}.`);
          if (batch.finishedAt) settle(await this.status(batchId));
        };
        // Read again after a Redis reconnect: the batch's end may have been published meanwhile.
        this.deps.hub
          .subscribe('batch', batchId, (p) => settle(p as BatchStatus), () => void readRecord().catch(() => undefined))
          .then(async (unsub) => {
            unsubscribe = unsub;
            await readRecord();
          })
          .catch((err) => {
            clearTimeout(timer);
            reject(err);
          });
      });
    } finally {
      await unsubscribe?.();
    }
  }
}
