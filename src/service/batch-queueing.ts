// Putting a batch's items on the queue, in the background after `submit` has answered, under a
// Redis lease, recording progress on the batch (`queuedThrough`) every chunk, so the sweeper can
// finish the queueing of a process that died (resumeQueueing). Cancelling stops it here.
import { acquireWaiting, jobIdFor } from '../queue/enrich-queue.js';
import { answeredClaim, claimKey, isBatchItem, requestersOf } from '../delivery/requesters.js';
import { batchItemId } from '../store/service-models.js';
import { EnrichbotError, ErrorCodes, errorMessage, isEnrichbotError } from '../errors.js';
import type { BatchItem, BatchOptions, Lease } from '../plugin/service.js';
import { batchKey, itemRequest, type BatchesDeps } from './batch-deps.js';

/** Enqueues in flight at once: each is a few round trips; in sequence 10,000 rows take minutes. */
const ENQUEUE_CONCURRENCY = 16;
/** Items queued between two progress marks: after a crash, at most this many are checked again. */
const QUEUE_CHUNK = 100;
/** The queueing lease outlives a dead holder by this much before the sweeper takes over. */
export const QUEUEING_LEASE_TTL_MS = 30_000;
export const queueingLeaseKey = (batchId: string) => `batch-queueing:${batchId}`;
/** How long a cancel waits for another process to stop queueing the batch (it stops every chunk). */
export const CANCEL_WAIT_MS = 30_000;

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

type QueueRun = { aborted: boolean; done: Promise<void> };

/** Test hooks: a step that slows or observes the queueing at a chosen point. */
export interface QueueingHooks {
  /** After an item's job was queued (or joined), before its queueing step ends. */
  afterItemQueued?(batchId: string, index: number): Promise<void>;
}

export class BatchQueueing {
  /** Batches this process is queueing now, so a cancel here stops them at once and stop() waits. */
  private readonly running = new Map<string, QueueRun>();
  private stopping = false;
  hooks: QueueingHooks = {};

  constructor(private readonly deps: BatchesDeps) {}

  /** Queues the batch's items in the background; the lease is released when it stops. */
  start(batchId: string, lease: Lease, resumed: boolean): void {
    const run: QueueRun = { aborted: false, done: Promise.resolve() };
    run.done = this.queueItems(batchId, lease, resumed, run)
      .catch((err) => this.deps.logger.error({ err, batchId }, `queueing the batch stopped: ${errorMessage(err)}; the sweeper resumes it`))
      .finally(async () => {
        this.running.delete(batchId);
        await lease.release().catch(() => undefined);
      });
    this.running.set(batchId, run);
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
    const options: BatchOptions = { workspace: batch.workspace, refresh: batch.refresh ?? false, ...(batch.groups?.length ? { groups: batch.groups as BatchOptions['groups'] } : {}), ...(typeof batch.maxCostUsd === 'number' ? { maxCostUsd: batch.maxCostUsd } : {}) };
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
    const { Batch } = this.deps.store.models;
    const { request, identity } = itemRequest(input, options, batchId);
    const jobId = jobIdFor(request, identity);
    const earlier = checkFirst ? await this.itemRequester(jobId, batchId, index) : null;
    if (earlier?.delivered) return;
    for (;;) {
      try {
        await this.deps.queue.enqueue({ request, identity, answerTo: { batchItem: { batchId, index } } });
        break;
      } catch (err) {
        if (!isEnrichbotError(err, ErrorCodes.JOB_BUSY) || stop()) throw err;
        // A cancel from another process is seen here too, not only between chunks.
        if ((await Batch.findById(batchId, { state: 1 }).lean())?.state === 'cancelled') throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Batch ${batchId} was cancelled while item ${index} waited for its job.`);
        await sleep(200);
      }
    }
    // Nothing more is written to the item here: from now on its job's answer owns it (whether it
    // joined another request's job is read from the job's requesters when it is answered).
    await this.hooks.afterItemQueued?.(batchId, index);
  }

  /**
   * A cancelled batch's items that were never queued: cancelled here, with their counts. Items
   * past the last mark that a holder did queue (its request is on an open job) keep their jobs,
   * which cancel() stops. Under the lease.
   */
  async cancelUnqueued(batchId: string): Promise<void> {
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
      const key = batchKey(this.deps.config, batchId);
      await this.deps.redis.multi().hincrby(key, 'queued', -left).hincrby(key, 'cancelled', left).exec();
    }
    await Batch.updateOne({ _id: batchId }, { $set: { queueing: false } });
  }

  /**
   * This item's request on its job, if one was recorded: where it stands among the run's
   * requesters (0: it started the run), whether it was answered (its claim is taken) and
   * whether the job is open. Requesters live on the job document (src/delivery/requesters.ts).
   */
  private async itemRequester(jobId: string, batchId: string, index: number): Promise<{ position: number; delivered: boolean; open: boolean } | null> {
    const doc = await this.deps.store.models.Job.findById(jobId, { status: 1, requesters: 1 }).lean();
    const list = requestersOf(doc);
    const position = list.findIndex((r) => isBatchItem(r, { batchId, index }));
    if (!doc || position < 0) return null;
    const delivered = (await this.deps.redis.exists(claimKey(this.deps.config.queue.prefix, answeredClaim(list[position])))) === 1;
    return { position, delivered, open: ['queued', 'running', 'paused'].includes(String(doc.status)) };
  }

  /**
   * The sweeper's step: batches still queueing whose holder is gone (its lease expired) are
   * taken over, each under the same lease, and finish queueing in the background.
   */
  async resume(): Promise<number> {
    if (this.stopping) return 0;
    const open = await this.deps.store.models.Batch.find({ queueing: true }, { _id: 1 }).lean();
    let resumed = 0;
    for (const b of open) {
      const batchId = String(b._id);
      if (this.running.has(batchId)) continue;
      const lease = await this.deps.leases.acquire(queueingLeaseKey(batchId), QUEUEING_LEASE_TTL_MS);
      if (!lease) continue; // its holder is alive
      this.deps.logger.warn({ batchId }, 'resuming the queueing of a batch whose process stopped');
      this.start(batchId, lease, true);
      resumed++;
    }
    return resumed;
  }

  /** Stops queueing the batch here (a cancel) and waits for it. */
  async abort(batchId: string): Promise<void> {
    const here = this.running.get(batchId);
    if (!here) return;
    here.aborted = true;
    await here.done;
  }

  /** Stops queueing in this process (at the next item) and waits: the sweeper finishes it later. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Cancels the items never queued and stops the jobs of queued ones, under the queueing lease. */
  async cancel(batchId: string): Promise<void> {
    await this.abort(batchId);
    const lease = await acquireWaiting(this.deps.leases, queueingLeaseKey(batchId), QUEUEING_LEASE_TTL_MS, CANCEL_WAIT_MS);
    if (!lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Batch ${batchId} is being queued by another process that did not stop; ask again in a moment.`);
    try {
      await this.cancelUnqueued(batchId);
      const open = await this.deps.store.models.BatchItem.find({ batchId, status: { $in: ['queued', 'paused'] } }, { jobId: 1 }).lean();
      for (const it of open) if (it.jobId) await this.deps.jobs.cancel(it.jobId);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }
}
