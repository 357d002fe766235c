// Housekeeping without TTL indexes (FerretDB has none): resumes paused jobs whose time has
// come, deletes expired cache rows and old finished jobs, and drops old raw responses.
import type { Store } from './store/store.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { EnrichQueue } from './queue/enrich-queue.js';
import type { EnrichRequest } from './engine/types.js';

export interface SweepReport {
  resumed: number;
  jobsDeleted: number;
  cacheDeleted: number;
  rawDropped: number;
}

export class Sweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SweepReport>;
  constructor(
    private readonly deps: { store: Store; clock: Clock; logger: Logger; queue: EnrichQueue; rawRetentionDays: number },
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.runOnce().catch((err) => this.deps.logger.error({ err }, 'sweep failed')), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  runOnce(): Promise<SweepReport> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<SweepReport> {
    const { Job, Cache, Ledger, Requester } = this.deps.store.models;
    const now = this.deps.clock.now();
    let resumed = 0;
    const due = await Job.find({ status: 'paused', resumeAt: { $lte: now } }).lean();
    for (const job of due) {
      const claimed = await Job.findOneAndUpdate({ _id: job.jobId, status: 'paused' }, { $set: { status: 'queued', resumeAt: null }, $inc: { run: 1 } }, { returnDocument: 'after' }).lean();
      if (claimed) {
        await this.deps.queue.push(job.jobId, claimed.run, job.request as EnrichRequest);
        resumed++;
      }
    }
    const jobs = await Job.deleteMany({ expireAt: { $lt: now }, status: { $in: ['done', 'failed', 'cancelled'] } });
    const cache = await Cache.deleteMany({ expireAt: { $lt: now } });
    await Requester.deleteMany({ expireAt: { $lt: now }, delivered: true });
    const raw = await Ledger.updateMany(
      { at: { $lt: new Date(now.getTime() - this.deps.rawRetentionDays * 86400_000) }, raw: { $exists: true } },
      { $unset: { raw: '' } },
    );
    const report = { resumed, jobsDeleted: jobs.deletedCount, cacheDeleted: cache.deletedCount, rawDropped: raw.modifiedCount };
    if (resumed || report.jobsDeleted || report.cacheDeleted) this.deps.logger.info(report, 'sweep');
    return report;
  }
}
