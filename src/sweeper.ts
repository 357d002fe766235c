// Housekeeping without TTL indexes (FerretDB has none): resumes paused jobs whose time has
// come, finishes queueing batches whose process died, finishes batches whose counts drifted,
// deletes expired cache rows and old finished jobs, drops old raw responses, and marks paid
// calls whose worker never came back as lost. Every worker runs a sweeper; one sweep at a time
// runs (a Redis lease), and each resume takes the job's lease, so a job resumes once.
import type { Store } from './store/store.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import { JOB_LEASE_TTL_MS, jobLeaseKey, type EnrichQueue } from './queue/enrich-queue.js';
import type { EnrichRequest } from './engine/types.js';
import type { Leases } from './platform/lease.js';
import type { Ledger } from './engine/ledger.js';

export interface SweepReport {
  /** false when another worker's sweep was running: this one did nothing. */
  ran: boolean;
  resumed: number;
  jobsDeleted: number;
  cacheDeleted: number;
  rawDropped: number;
  lost: number;
  /** Open jobs Redis had lost (flushed, restarted without persistence), queued again. */
  requeued: number;
  /** Batches whose queueing another process had left unfinished, taken over. */
  batchesResumed?: number;
  /** Batches that stood still, recounted from their items and finished. */
  batchesFinished?: number;
}

export interface SweeperDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  queue: EnrichQueue;
  rawRetentionDays: number;
  leases: Leases;
  ledger: Ledger;
  /** A pending ledger row older than this has no live call behind it (default: one hour). */
  pendingLostAfterMs?: number;
  /** An open job unchanged this long whose Redis job is gone is queued again (default 5 min). */
  requeueAfterMs?: number;
  /** Raises spend counters that fell below the ledger (Redis lost a key, a settle went missing). */
  reconcileSpend?: () => Promise<unknown>;
  /** Takes over batches still queueing whose holder's lease expired; returns how many. */
  resumeBatchQueueing?: () => Promise<number>;
  /** Recounts batches that stood still from their items, finishing those whose items are all final. */
  finishStalledBatches?: () => Promise<number>;
}

const SWEEP_LEASE_TTL_MS = 60_000;

export class Sweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SweepReport>;
  constructor(private readonly deps: SweeperDeps) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.runOnce().catch((err) => this.deps.logger.error({ err }, 'sweep failed')), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  runOnce(): Promise<SweepReport> {
    this.running ??= this.sweepExclusive().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepExclusive(): Promise<SweepReport> {
    const done = await this.deps.leases.withLease('sweep', SWEEP_LEASE_TTL_MS, () => this.sweep());
    return done.ran ? done.value : { ran: false, resumed: 0, jobsDeleted: 0, cacheDeleted: 0, rawDropped: 0, lost: 0, requeued: 0 };
  }

  /** Starts the next run of a paused job, once: under its lease, only if still paused at that run. */
  private async resume(jobId: string, run: number, request: EnrichRequest): Promise<boolean> {
    const { Job } = this.deps.store.models;
    const out = await this.deps.leases.withLease(jobLeaseKey(jobId), JOB_LEASE_TTL_MS, async () => {
      const res = await Job.updateOne({ _id: jobId, run, status: 'paused' }, { $set: { status: 'queued', resumeAt: null, stalls: 0 }, $inc: { run: 1 } });
      return res.modifiedCount === 1;
    });
    if (!out.ran || !out.value) return false;
    await this.deps.queue.push(jobId, run + 1, request, true);
    return true;
  }

  /**
   * Queues again the open jobs whose Redis job is gone: Redis lost its keys (a restart without
   * persistence, a flush, eviction) while the records still say queued. Only jobs last changed
   * more than `requeueAfterMs` ago are looked at, a bounded number per sweep; a job that is
   * there is left alone. Redis is asked first, then the record again: a job that finished
   * between the first read and the Redis check (bee-queue drops it once its handler returned,
   * after the record was written) reads final the second time and is not queued again.
   */
  private async requeueLost(now: Date): Promise<number> {
    const { Job } = this.deps.store.models;
    const before = new Date(now.getTime() - (this.deps.requeueAfterMs ?? 5 * 60_000));
    const open = await Job.find({ status: { $in: ['queued', 'running'] }, updatedAt: { $lt: before } }, { _id: 1, run: 1 }).limit(1000).lean();
    if (!open.length) return 0;
    const present = await this.deps.queue.hasJobs(open.map((j) => ({ jobId: String(j._id), run: j.run ?? 0 })));
    let requeued = 0;
    for (let i = 0; i < open.length; i++) {
      if (present[i]) continue;
      const j = await Job.findOne({ _id: open[i]._id, run: open[i].run, status: { $in: ['queued', 'running'] } }, { _id: 1, run: 1, request: 1 }).lean();
      if (!j) continue;
      await this.deps.queue.push(String(j._id), j.run ?? 0, j.request as EnrichRequest);
      requeued++;
    }
    if (requeued) this.deps.logger.warn({ requeued }, 'open jobs were missing from Redis (it lost its keys); queued them again');
    return requeued;
  }

  private async sweep(): Promise<SweepReport> {
    const { Job, Cache, Ledger, Batch, BatchItem, Activity } = this.deps.store.models;
    const now = this.deps.clock.now();
    let resumed = 0;
    const due = await Job.find({ status: 'paused', resumeAt: { $lte: now } }).lean();
    for (const job of due) if (await this.resume(job.jobId, job.run ?? 0, job.request as EnrichRequest)) resumed++;
    const batchesResumed = (await this.deps.resumeBatchQueueing?.()) ?? 0;
    const jobs = await Job.deleteMany({ expireAt: { $lt: now }, status: { $in: ['done', 'failed', 'cancelled'] } });
    const cache = await Cache.deleteMany({ expireAt: { $lt: now } });
    // The trigger platform's documents: batches, their rows and the activity log expire too.
    await BatchItem.deleteMany({ expireAt: { $lt: now } });
    await Batch.deleteMany({ expireAt: { $lt: now } });
    await Activity.deleteMany({ expireAt: { $lt: now } });
    await this.deps.reconcileSpend?.();
    const raw = await Ledger.updateMany(
      { at: { $lt: new Date(now.getTime() - this.deps.rawRetentionDays * 86400_000) }, raw: { $exists: true } },
      { $unset: { raw: '' } },
    );
    // A pending row's `at` is when its call started (by the same clock).
    const lost = await this.deps.ledger.markLost({ before: new Date(now.getTime() - (this.deps.pendingLostAfterMs ?? 3600_000)) });
    const requeued = await this.requeueLost(now);
    const batchesFinished = (await this.deps.finishStalledBatches?.()) ?? 0;
    const report = { ran: true, resumed, jobsDeleted: jobs.deletedCount, cacheDeleted: cache.deletedCount, rawDropped: raw.modifiedCount, lost, requeued, batchesResumed, batchesFinished };
    if (resumed || report.jobsDeleted || report.cacheDeleted || lost || requeued || batchesResumed || batchesFinished) this.deps.logger.info(report, 'sweep');
    return report;
  }
}
