// Batches: many inputs submitted together (a CSV file, an API batch, a backfill). Bad items are
// reported by index while the rest run. Each accepted item is an ordinary job whose requester
// is the batch itself; when the job ends, its result is written on the item (so results stream
// back in input order with no join) and the batch's live counts move in Redis (a lost hash is
// rebuilt from the items). Progress is published at most once per interval; completion once.
// `submit` answers once the batch and its items are written; the items are put on the queue in
// the background, under a Redis lease, recording progress on the batch (`queuedThrough`) every
// chunk, so the sweeper can finish the queueing of a process that died (resumeQueueing).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import type { EnrichRequest, JobResult, ReplyTo } from '../engine/types.js';
import type { Identity } from '../engine/identity.js';
import { batchItemId } from '../store/service-models.js';
import { acquireWaiting, jobIdFor } from '../queue/enrich-queue.js';
import { answeredClaim, claimKey, requestersOf } from '../queue/requesters.js';
import { EnrichbotError, ErrorCodes, errorMessage, isEnrichbotError } from '../errors.js';
import type { Leases } from '../platform/lease.js';
import type { Lease } from '../plugin/service.js';
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
/** Items queued between two progress marks: after a crash, at most this many are checked again. */
const QUEUE_CHUNK = 100;
/** The queueing lease outlives a dead holder by this much before the sweeper takes over. */
export const QUEUEING_LEASE_TTL_MS = 30_000;
export const queueingLeaseKey = (batchId: string) => `batch-queueing:${batchId}`;
/** How long a cancel waits for another process to stop queueing the batch (it stops every chunk). */
const CANCEL_WAIT_MS = 30_000;
/** How long a process reuses a batch's document (replyTo, state) while its items finish. */
const BATCH_DOC_TTL_MS = 5000;

/**
 * Runs `fn` over `items` in order, `limit` at a time, until `stop()` or an error. Returns how
 * many were started: with no error, items[0..started) are all done, the rest untouched.
 */
async function inOrder<T>(items: T[], limit: number, stop: () => boolean, fn: (item: T) => Promise<void>): Promise<{ started: number; error?: unknown }> {
  let next = 0;
  let failed = false;
  let error: unknown;
  const worker = async () => {
    while (next < items.length && !failed && !stop()) {
      try {
        await fn(items[next++]);
      } catch (err) {
        failed = true;
        error ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failed ? { started: next, error } : { started: next };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  leases: Leases;
}

type Planned = { index: number; columns: Record<string, string>; input: BatchItem['input'] | null; request?: EnrichRequest; identity?: Identity; jobId?: string; problem?: BatchItemProblem };

const micro = (usd: number) => Math.round(usd * 1e6);

type BatchDocView = { _id: string; workspace: string; label?: string | null; columns?: string[] | null; state: string; replyTo: unknown; createdAt?: Date; finishedAt?: Date | null; queueing?: boolean | null; queuedThrough?: number | null };

type QueueRun = { aborted: boolean; done: Promise<void> };

export class Batches {
  private readonly docs = new Map<string, { doc: BatchDocView; at: number }>();
  /** Batches this process is queueing now, so a cancel here stops them at once and stop() waits. */
  private readonly queueing = new Map<string, QueueRun>();
  private stopping = false;

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

    // Taken before anything is written: the sweeper never sees this batch queueing unheld.
    const lease = accepted > 0 ? await this.deps.leases.acquire(queueingLeaseKey(batchId), QUEUEING_LEASE_TTL_MS) : null;
    if (accepted > 0 && !lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Batch ${batchId} is already being queued: submit it again.`);
    try {
      // Items, then counts, then the batch document: a batch that exists has everything it needs.
      for (let i = 0; i < planned.length; i += CHUNK) {
        await models.BatchItem.insertMany(
          planned.slice(i, i + CHUNK).map((p) => ({
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
      }
      await this.deps.redis
        .multi()
        .hset(this.key(batchId), { total: planned.length, queued: accepted, rejected: rejected.length, costMicros: 0 })
        .pexpire(this.key(batchId), retentionDays * 86400_000 + 86400_000)
        .exec();
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
        refresh: options.refresh ?? false,
        ...(options.groups ? { groups: options.groups } : {}),
        queueing: accepted > 0,
        queuedThrough: 0,
      });
    } catch (err) {
      await lease?.release().catch(() => undefined);
      throw err;
    }
    if (lease) this.startQueueing(batchId, lease, false);
    await this.deps.activity.write({ workspace: options.workspace, actor: options.actor ?? replyTo.trigger, action: 'batch', subject: batchId, detail: { label: options.label, total: planned.length, accepted, rejected: rejected.length } });
    if (!lease) await this.maybeFinish(batchId);
    return { batchId, total: planned.length, accepted, rejected };
  }

  /** Queues the batch's items in the background; the lease is released when it stops. */
  private startQueueing(batchId: string, lease: Lease, resumed: boolean): void {
    const run: QueueRun = { aborted: false, done: Promise.resolve() };
    run.done = this.queueItems(batchId, lease, resumed, run)
      .catch((err) => this.deps.logger.error({ err, batchId }, `queueing the batch stopped: ${errorMessage(err)}; the sweeper resumes it`))
      .finally(async () => {
        this.queueing.delete(batchId);
        await lease.release().catch(() => undefined);
      });
    this.queueing.set(batchId, run);
  }

  /**
   * Puts the batch's items on the queue from `queuedThrough` on, a chunk at a time, recording
   * progress after each. Stops when this process stops, the lease is lost or the batch is
   * cancelled (then the items not queued yet are cancelled here, under the lease).
   */
  private async queueItems(batchId: string, lease: Lease, resumed: boolean, run: QueueRun): Promise<void> {
    const { Batch, BatchItem } = this.deps.store.models;
    const batch = await Batch.findById(batchId).lean();
    if (!batch?.queueing) return;
    const options: BatchOptions = { workspace: batch.workspace, refresh: batch.refresh ?? false, ...(batch.groups?.length ? { groups: batch.groups as BatchOptions['groups'] } : {}) };
    const stop = () => run.aborted || this.stopping || lease.lost;
    // A holder that died may have queued part of the chunk after its last mark without recording it.
    let unsure = resumed;
    let from = batch.queuedThrough ?? 0;
    let state = batch.state;
    while (from < batch.total) {
      if (state === 'cancelled') return this.cancelUnqueued(batchId);
      if (stop()) return;
      const to = Math.min(from + QUEUE_CHUNK, batch.total);
      const items = await BatchItem.find({ _id: { $gte: batchItemId(batchId, from), $lt: batchItemId(batchId, to) }, status: 'queued' }, { index: 1, input: 1 }).sort({ _id: 1 }).lean();
      const checkFirst = unsure;
      const { started, error } = await inOrder(items, ENQUEUE_CONCURRENCY, stop, (it) => this.queueItem(batchId, it.index, it.input as BatchItem['input'], options, checkFirst, stop));
      if (error) throw error;
      const through = started < items.length ? items[started].index : to;
      await Batch.updateOne({ _id: batchId }, { $set: { queuedThrough: through } });
      if (through < to) return;
      unsure = false;
      from = to;
      state = run.aborted ? 'cancelled' : ((await Batch.findById(batchId, { state: 1 }).lean())?.state ?? 'cancelled');
    }
    await Batch.updateOne({ _id: batchId }, { $set: { queueing: false, queuedThrough: batch.total } });
  }

  /**
   * Queues one item. When an earlier holder may have queued it already (`checkFirst`), an item
   * whose answer was delivered is left alone (queueing it again would restart its finished job);
   * otherwise enqueueing again joins the open job, or restarts one that finished before this
   * item's request reached it. A second requester for the item is harmless: a final item ignores
   * later results. A job busy in another process is waited for.
   */
  private async queueItem(batchId: string, index: number, input: BatchItem['input'], options: BatchOptions, checkFirst: boolean, stop: () => boolean): Promise<void> {
    const { Batch, BatchItem } = this.deps.store.models;
    const { request, identity } = this.deps.validate(input, options);
    const withReply = { ...request, replyTo: { trigger: BATCH_REPLY_TRIGGER, address: { batchId, index } } };
    const jobId = jobIdFor(withReply, identity);
    const earlier = checkFirst ? await this.itemRequester(jobId, batchId, index) : null;
    if (earlier?.delivered) return;
    let joined: boolean;
    for (;;) {
      try {
        ({ joined } = await this.deps.enqueue(withReply, identity));
        break;
      } catch (err) {
        if (!isEnrichbotError(err, ErrorCodes.JOB_BUSY) || stop()) throw err;
        // A cancel from another process is seen here too, not only between chunks.
        if ((await Batch.findById(batchId, { state: 1 }).lean())?.state === 'cancelled') throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Batch ${batchId} was cancelled while item ${index} waited for its job.`);
        await sleep(200);
      }
    }
    // Queued before by the dead holder: it joined only if someone else's request came first.
    if (joined && earlier) joined = earlier.position > 0;
    if (joined) await BatchItem.updateOne({ _id: batchItemId(batchId, index) }, { $set: { joined: true } });
  }

  /**
   * A cancelled batch's items that were never queued: cancelled here, with their counts. Items
   * past the last mark that a holder did queue (its request is on an open job) keep their jobs,
   * which cancel() stops. Under the lease.
   */
  private async cancelUnqueued(batchId: string): Promise<void> {
    const { Batch, BatchItem } = this.deps.store.models;
    const batch = await Batch.findById(batchId, { queueing: 1, queuedThrough: 1 }).lean();
    if (!batch?.queueing) return;
    const through = batch.queuedThrough ?? 0;
    const from = batchItemId(batchId, through);
    const unsure = await BatchItem.find({ batchId, _id: { $gte: from, $lt: batchItemId(batchId, through + QUEUE_CHUNK) }, status: 'queued' }, { index: 1, jobId: 1 }).lean();
    const queued: string[] = [];
    for (const it of unsure) {
      // Only a request on an open job is answered (one on a finished run was answered already).
      const mine = it.jobId ? await this.itemRequester(it.jobId, batchId, it.index) : null;
      if (mine?.open) queued.push(String(it._id));
    }
    const filter = { batchId, _id: queued.length ? { $gte: from, $nin: queued } : { $gte: from }, status: 'queued' as const };
    const left = await BatchItem.countDocuments(filter);
    if (left > 0) {
      await BatchItem.updateMany(filter, { $set: { status: 'cancelled', reason: 'The batch was cancelled before this item was queued.' } });
      await this.deps.redis.multi().hincrby(this.key(batchId), 'queued', -left).hincrby(this.key(batchId), 'cancelled', left).exec();
    }
    await Batch.updateOne({ _id: batchId }, { $set: { queueing: false } });
  }

  /**
   * This item's request on its job, if one was recorded: where it stands among the run's
   * requesters (0: it started the run), whether it was answered (its claim is taken) and
   * whether the job is open. Requesters live on the job document (src/queue/requesters.ts).
   */
  private async itemRequester(jobId: string, batchId: string, index: number): Promise<{ position: number; delivered: boolean; open: boolean } | null> {
    const doc = await this.deps.store.models.Job.findById(jobId, { status: 1, requesters: 1 }).lean();
    const list = requestersOf(doc);
    const position = list.findIndex((r) => r.replyTo.trigger === BATCH_REPLY_TRIGGER && r.replyTo.address.batchId === batchId && r.replyTo.address.index === index);
    if (!doc || position < 0) return null;
    const delivered = (await this.deps.redis.exists(claimKey(this.deps.config.queue.prefix, answeredClaim(list[position])))) === 1;
    return { position, delivered, open: ['queued', 'running', 'paused'].includes(String(doc.status)) };
  }

  /**
   * The sweeper's step: batches still queueing whose holder is gone (its lease expired) are
   * taken over, each under the same lease, and finish queueing in the background.
   */
  async resumeQueueing(): Promise<number> {
    if (this.stopping) return 0;
    const open = await this.deps.store.models.Batch.find({ queueing: true }, { _id: 1 }).lean();
    let resumed = 0;
    for (const b of open) {
      const batchId = String(b._id);
      if (this.queueing.has(batchId)) continue;
      const lease = await this.deps.leases.acquire(queueingLeaseKey(batchId), QUEUEING_LEASE_TTL_MS);
      if (!lease) continue; // its holder is alive
      this.deps.logger.warn({ batchId }, 'resuming the queueing of a batch whose process stopped');
      this.startQueueing(batchId, lease, true);
      resumed++;
    }
    return resumed;
  }

  /** Stops queueing in this process (at the next item) and waits: the sweeper finishes it later. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.queueing.values()].map((r) => r.done));
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

  private view(batch: { _id: string; workspace: string; label?: string | null; columns?: string[] | null; state: string; createdAt?: Date; finishedAt?: Date | null; queueing?: boolean | null; queuedThrough?: number | null }, live: { counts: BatchCounts; total: number; costUsd: number; resumeAt?: string }): BatchStatus {
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

  /**
   * Cancels the batch: queueing stops (here at once, elsewhere at its next chunk), items never
   * queued are cancelled, and the jobs of queued ones are asked to stop. Idempotent.
   */
  async cancel(batchId: string): Promise<void> {
    const { Batch, BatchItem } = this.deps.store.models;
    await Batch.updateOne({ _id: batchId }, { $set: { state: 'cancelled' } });
    const here = this.queueing.get(batchId);
    if (here) {
      here.aborted = true;
      await here.done;
    }
    const lease = await acquireWaiting(this.deps.leases, queueingLeaseKey(batchId), QUEUEING_LEASE_TTL_MS, CANCEL_WAIT_MS);
    if (!lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Batch ${batchId} is being queued by another process that did not stop; ask again in a moment.`);
    try {
      await this.cancelUnqueued(batchId);
      const open = await BatchItem.find({ batchId, status: { $in: ['queued', 'paused'] } }, { jobId: 1 }).lean();
      for (const it of open) if (it.jobId) await this.deps.cancelJob(it.jobId);
    } finally {
      await lease.release().catch(() => undefined);
    }
    await this.maybeFinish(batchId, true);
  }
}

function zeroCounts(): BatchCounts {
  return { queued: 0, running: 0, done: 0, failed: 0, paused: 0, cancelled: 0, rejected: 0 };
}
