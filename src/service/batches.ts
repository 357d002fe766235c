// Batches: many inputs submitted together (a CSV file, an API batch, a backfill). Bad items are
// reported by index while the rest run. Each accepted item is an ordinary job whose requester
// is the batch itself; when the job ends, its result is written on the item (so results stream
// back in input order with no join) and the batch's live counts move in Redis (a lost hash is
// rebuilt from the items). Progress is published at most once per interval; completion once.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import type { EnrichRequest, JobResult, ReplyTo } from '../engine/types.js';
import type { Identity } from '../engine/identity.js';
import { batchItemId } from '../store/service-models.js';
import { jobIdFor } from '../queue/enrich-queue.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import type { BatchCounts, BatchItem, BatchItemProblem, BatchOptions, BatchResultRow, BatchRowStatus, BatchStatus, BatchSubmitResult } from '../plugin/service.js';
import type { CompletionHub } from './completion.js';
import type { ActivityLog } from './activity-log.js';
import type { Tombstones } from './tombstones.js';

/** The replyTo of a batch item's job: the service answers it, not a plugin. */
export const BATCH_REPLY_TRIGGER = 'enrichbot:batch';

const COUNT_KEYS: (keyof BatchCounts)[] = ['queued', 'running', 'done', 'failed', 'paused', 'cancelled', 'rejected'];
const FINAL: BatchRowStatus[] = ['done', 'failed', 'cancelled', 'rejected'];
const CHUNK = 250;
/** Enqueues in flight at once: each is a few round trips; in sequence 10,000 rows take minutes. */
const ENQUEUE_CONCURRENCY = 16;
/** How long a process reuses a batch's document (replyTo, state) while its items finish. */
const BATCH_DOC_TTL_MS = 5000;

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface BatchesDeps {
  config: Config;
  store: Store;
  redis: Redis;
  clock: Clock;
  logger: Logger;
  hub: CompletionHub;
  tombstones: Tombstones;
  activity: ActivityLog;
  validate(input: BatchItem['input'], options: BatchOptions): { request: EnrichRequest; identity: Identity };
  enqueue(request: EnrichRequest, identity: Identity): Promise<{ jobId: string; joined: boolean }>;
  notifyTrigger(kind: 'progress' | 'done', status: BatchStatus, replyTo: ReplyTo): Promise<void>;
  claimOnce(key: string): Promise<boolean>;
  cancelJob(jobId: string): Promise<void>;
}

type Planned = { index: number; columns: Record<string, string>; input: BatchItem['input'] | null; request?: EnrichRequest; identity?: Identity; jobId?: string; problem?: BatchItemProblem };

const micro = (usd: number) => Math.round(usd * 1e6);

type BatchDocView = { _id: string; workspace: string; label?: string | null; columns?: string[] | null; state: string; replyTo: unknown; createdAt?: Date; finishedAt?: Date | null };

export class Batches {
  private readonly docs = new Map<string, { doc: BatchDocView; at: number }>();

  constructor(private readonly deps: BatchesDeps) {}

  /** The batch document, reused for a few seconds: every finishing item needs it. */
  private async batchDoc(batchId: string, fresh = false): Promise<BatchDocView | null> {
    const hit = this.docs.get(batchId);
    if (!fresh && hit && Date.now() - hit.at < BATCH_DOC_TTL_MS) return hit.doc;
    const doc = (await this.deps.store.models.Batch.findById(batchId).lean()) as BatchDocView | null;
    if (doc) this.docs.set(batchId, { doc, at: Date.now() });
    if (this.docs.size > 1000) this.docs.delete(this.docs.keys().next().value!);
    return doc;
  }

  private key(batchId: string): string {
    return `${this.deps.config.queue.prefix}:batch:${batchId}`;
  }

  async submit(source: BatchItem[] | AsyncIterable<BatchItem>, replyTo: ReplyTo, options: BatchOptions): Promise<BatchSubmitResult> {
    const { maxItems, retentionDays } = this.deps.config.service.batch;
    const items: BatchItem[] = [];
    for await (const item of source as AsyncIterable<BatchItem>) {
      if (items.length === maxItems) {
        throw new EnrichbotError(ErrorCodes.BATCH_TOO_LARGE, `A batch holds at most ${maxItems.toLocaleString('en-US')} items: split the input into smaller batches (or raise service.batch.maxItems).`);
      }
      items.push(item);
    }
    // Validate the workspace once, before anything is written.
    const probe = this.workspaceProblem(options.workspace);
    if (probe) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, probe);

    const { models } = this.deps.store;
    const now = this.deps.clock.now();
    const expireAt = new Date(now.getTime() + retentionDays * 86400_000);
    const batchId = `bat_${randomBytes(12).toString('hex')}`;
    const forgotten = await this.deps.tombstones.all(options.workspace);

    const planned: Planned[] = [];
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      const columns = item.columns ?? {};
      if (item.problem) {
        planned.push({ index, columns, input: item.input ?? null, problem: { index, code: ErrorCodes.INPUT_INVALID, reason: item.problem } });
        continue;
      }
      try {
        const { request, identity } = this.deps.validate(item.input, options);
        if (forgotten.has(await this.deps.tombstones.idFor(options.workspace, identity.key))) {
          planned.push({ index, columns, input: item.input, problem: { index, code: ErrorCodes.IDENTITY_FORGOTTEN, reason: `${identity.display} was forgotten at someone's request and is not enriched again.` } });
          continue;
        }
        const withReply = { ...request, replyTo: { trigger: BATCH_REPLY_TRIGGER, address: { batchId, index } } };
        planned.push({ index, columns, input: item.input, request: withReply, identity, jobId: jobIdFor(withReply, identity) });
      } catch (err) {
        const code = (err as { code?: string }).code ?? ErrorCodes.INPUT_INVALID;
        planned.push({ index, columns, input: item.input ?? null, problem: { index, code, reason: errorMessage(err) } });
      }
    }
    const rejected = planned.filter((p) => p.problem).map((p) => p.problem!);
    const accepted = planned.length - rejected.length;
    const columns = options.columns ?? [...new Set(items.flatMap((i) => Object.keys(i.columns ?? {})))];

    await models.Batch.create({
      _id: batchId,
      workspace: options.workspace,
      label: options.label,
      actor: options.actor,
      replyTo,
      total: planned.length,
      columns,
      state: 'running',
      counts: { ...zeroCounts(), queued: accepted, rejected: rejected.length },
      expireAt,
    });
    await this.deps.redis
      .multi()
      .hset(this.key(batchId), { total: planned.length, queued: accepted, rejected: rejected.length, costMicros: 0 })
      .pexpire(this.key(batchId), retentionDays * 86400_000 + 86400_000)
      .exec();
    // Items are written before their jobs are queued, so a job that ends at once finds its item.
    for (let i = 0; i < planned.length; i += CHUNK) {
      const chunk = planned.slice(i, i + CHUNK);
      await models.BatchItem.insertMany(
        chunk.map((p) => ({
          _id: batchItemId(batchId, p.index),
          batchId,
          workspace: options.workspace,
          index: p.index,
          columnsJson: JSON.stringify(p.columns),
          input: p.input,
          status: p.problem ? 'rejected' : 'queued',
          reason: p.problem?.reason,
          jobId: p.jobId,
          identityKey: p.identity?.key,
          expireAt,
        })),
        { ordered: false },
      );
      await forEachLimit(chunk, ENQUEUE_CONCURRENCY, async (p) => {
        if (!p.request || !p.identity) return;
        const { joined } = await this.deps.enqueue(p.request, p.identity);
        if (joined) await models.BatchItem.updateOne({ _id: batchItemId(batchId, p.index) }, { $set: { joined: true } });
      });
    }
    await this.deps.activity.write({ workspace: options.workspace, actor: options.actor ?? replyTo.trigger, action: 'batch', subject: batchId, detail: { label: options.label, total: planned.length, accepted, rejected: rejected.length } });
    if (accepted === 0) await this.maybeFinish(batchId);
    return { batchId, total: planned.length, accepted, rejected };
  }

  private workspaceProblem(workspace: string): string | undefined {
    if (!/^[\w.:-]{1,100}$/.test(workspace)) return `Invalid workspace "${workspace}": 1-100 letters, digits, _ . : - only.`;
    return undefined;
  }

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
    const key = this.key(batchId);
    const tx = this.deps.redis.multi().hincrby(key, item.status, -1).hincrby(key, status, 1);
    if (status !== 'paused') tx.hincrby(key, 'costMicros', micro(cost) - micro(item.costUsd ?? 0));
    if (result.resumeAt) tx.hset(key, 'resumeAt', result.resumeAt);
    await tx.exec();
    await this.maybeFinish(batchId, status === 'paused');
  }

  /** Live counts from Redis; rebuilt from the items when Redis lost them. */
  private async counts(batchId: string): Promise<{ counts: BatchCounts; total: number; costUsd: number; resumeAt?: string }> {
    const h = await this.deps.redis.hgetall(this.key(batchId));
    if (h.total !== undefined) {
      const counts = zeroCounts();
      for (const k of COUNT_KEYS) counts[k] = Number(h[k] ?? 0);
      return { counts, total: Number(h.total), costUsd: Number(h.costMicros ?? 0) / 1e6, ...(h.resumeAt ? { resumeAt: h.resumeAt } : {}) };
    }
    return this.rebuild(batchId);
  }

  private async rebuild(batchId: string) {
    const { BatchItem, Batch } = this.deps.store.models;
    const batch = await Batch.findById(batchId, { total: 1 }).lean();
    if (!batch) throw new EnrichbotError(ErrorCodes.BATCH_NOT_FOUND, `No batch ${batchId}.`);
    const counts = zeroCounts();
    let costMicros = 0;
    for await (const it of BatchItem.find({ batchId }, { status: 1, costUsd: 1 }).lean().cursor({ batchSize: 1000 })) {
      counts[it.status as keyof BatchCounts]++;
      costMicros += micro(it.costUsd ?? 0);
    }
    await this.deps.redis.multi().hset(this.key(batchId), { total: batch.total, costMicros, ...counts }).pexpire(this.key(batchId), this.deps.config.service.batch.retentionDays * 86400_000 + 86400_000).exec();
    this.deps.logger.warn({ batchId }, 'batch counts were missing in Redis; rebuilt from the items');
    return { counts, total: batch.total, costUsd: costMicros / 1e6 };
  }

  async status(batchId: string, workspace?: string): Promise<BatchStatus> {
    const batch = await this.deps.store.models.Batch.findById(batchId).lean();
    if (!batch || (workspace !== undefined && batch.workspace !== workspace)) {
      throw new EnrichbotError(ErrorCodes.BATCH_NOT_FOUND, `No batch ${batchId}${workspace ? ` in workspace ${workspace}` : ''}: check the id (batches are kept ${this.deps.config.service.batch.retentionDays} days).`);
    }
    const live = await this.counts(batchId);
    return this.view(batch, live);
  }

  private view(batch: { _id: string; workspace: string; label?: string | null; columns?: string[] | null; state: string; createdAt?: Date; finishedAt?: Date | null }, live: { counts: BatchCounts; total: number; costUsd: number; resumeAt?: string }): BatchStatus {
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
    };
  }

  /** Publishes progress (throttled) or, once, the batch's completion. */
  private async maybeFinish(batchId: string, stateChanged = false): Promise<void> {
    const { Batch } = this.deps.store.models;
    const batch = await this.batchDoc(batchId, stateChanged);
    if (!batch) return;
    const status = this.view(batch, await this.counts(batchId));
    const replyTo = batch.replyTo as ReplyTo;
    if (status.state === 'done' || (status.state === 'cancelled' && status.counts.queued + status.counts.running + status.counts.paused === 0)) {
      if (!(await this.deps.claimOnce(`batch-finished:${batchId}`))) return;
      // A cancel seen only by another process must not turn into "done": read the document afresh.
      const doc = (await this.batchDoc(batchId, true)) ?? batch;
      this.docs.delete(batchId);
      const state = doc.state === 'cancelled' ? 'cancelled' : status.state;
      const finishedAt = this.deps.clock.now();
      await Batch.updateOne({ _id: batchId }, { $set: { state, counts: status.counts, costUsd: status.costUsd, finishedAt } });
      const final = { ...status, state, finishedAt: finishedAt.toISOString() };
      await this.deps.hub.publish('batch', batchId, final);
      await this.deps.notifyTrigger('done', final, replyTo).catch((err) => this.deps.logger.error({ err, batchId }, 'could not deliver the finished batch'));
      return;
    }
    const { prefix } = this.deps.config.queue;
    const throttle = await this.deps.redis.set(`${prefix}:batch-progress:${batchId}`, '1', 'PX', this.deps.config.service.batch.progressIntervalMs, 'NX');
    if (throttle !== 'OK' && !(stateChanged && status.state === 'paused')) return;
    await this.deps.hub.publish('batch', batchId, status);
    await this.deps.notifyTrigger('progress', status, replyTo).catch((err) => this.deps.logger.warn({ err, batchId }, 'could not deliver batch progress'));
  }

  async waitFor(batchId: string, timeoutMs: number): Promise<BatchStatus> {
    let unsubscribe: (() => Promise<void>) | undefined;
    try {
      return await new Promise<BatchStatus>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new EnrichbotError(ErrorCodes.JOB_TIMEOUT, `Batch ${batchId} did not finish within ${Math.round(timeoutMs / 1000)} s; it goes on: check it with \`enrichbot batch ${batchId}\`.`)),
          timeoutMs,
        );
        const settle = (s: BatchStatus) => {
          if (s.state !== 'done' && s.state !== 'cancelled') return;
          clearTimeout(timer);
          resolve(s);
        };
        this.deps.hub
          .subscribe('batch', batchId, (p) => settle(p as BatchStatus))
          .then(async (unsub) => {
            unsubscribe = unsub;
            const batch = await this.deps.store.models.Batch.findById(batchId, { state: 1, finishedAt: 1 }).lean();
            if (!batch) throw new EnrichbotError(ErrorCodes.BATCH_NOT_FOUND, `No batch ${batchId}.`);
            if (batch.finishedAt) settle(await this.status(batchId));
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

  async cancel(batchId: string): Promise<void> {
    const { Batch, BatchItem } = this.deps.store.models;
    await Batch.updateOne({ _id: batchId }, { $set: { state: 'cancelled' } });
    const open = await BatchItem.find({ batchId, status: { $in: ['queued', 'paused'] } }, { jobId: 1 }).lean();
    for (const it of open) if (it.jobId) await this.deps.cancelJob(it.jobId);
    await this.maybeFinish(batchId, true);
  }
}

function zeroCounts(): BatchCounts {
  return { queued: 0, running: 0, done: 0, failed: 0, paused: 0, cancelled: 0, rejected: 0 };
}
