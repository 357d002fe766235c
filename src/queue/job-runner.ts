// What a worker does with one job: claim the run, run the engine, record the outcome, and hand
// the result to every requester's trigger. Paused jobs are resumed by the sweeper.
// One live attempt per run: the runner holds the Redis lease "run:<jobId>#<run>" for the whole
// attempt (bee-queue may hand a stalled job to a second worker while the first still runs it),
// and only the run that is still the job's current one may write its result.
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import type { Engine } from '../engine/engine.js';
import type { Ledger } from '../engine/ledger.js';
import type { EnrichRequest, JobResult } from '../engine/types.js';
import type { Leases } from '../platform/lease.js';
import { EnrichbotError, isEnrichbotError, errorMessage, ErrorCodes } from '../errors.js';
import { answerRequesters, type ClaimOnce, type Deliver } from './requesters.js';
import { acquireWaiting } from './enrich-queue.js';

export const runLeaseKey = (jobId: string, run: number) => `run:${jobId}#${run}`;

export interface JobRunnerDeps {
  store: Store;
  engine: Engine;
  clock: Clock;
  logger: Logger;
  deliver: Deliver;
  claimOnce: ClaimOnce;
  isCancelled: (jobId: string) => Promise<boolean>;
  leases: Leases;
  ledger: Ledger;
  /** A run found abandoned mid-way more often than this is failed (config queue.maxStalls). */
  maxStalls: number;
  /** How long a dead worker's run lease outlives it; renewed every third of it while held. */
  runLeaseTtlMs: number;
  /** Called once the current run's result is recorded (before the requesters are answered). */
  onFinished?: (result: JobResult) => Promise<void>;
}

const displayOf = (request: EnrichRequest) => (typeof request.input === 'string' ? request.input : JSON.stringify(request.input));

export class JobRunner {
  constructor(private readonly deps: JobRunnerDeps) {}

  async handle(request: EnrichRequest, jobId: string, run: number): Promise<JobResult> {
    // A worker that died holding the lease lets it expire within the TTL: wait that long.
    const lease = await acquireWaiting(this.deps.leases, runLeaseKey(jobId, run), this.deps.runLeaseTtlMs, this.deps.runLeaseTtlMs + 1000);
    if (!lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Another worker is running ${jobId} (run ${run}); this copy is retried later.`);
    try {
      return await this.runHeld(request, jobId, run, lease);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  private async runHeld(request: EnrichRequest, jobId: string, run: number, lease: { lost: boolean }): Promise<JobResult> {
    const { Job } = this.deps.store.models;
    const log = this.deps.logger.child({ jobId, run });
    // The claim matches `running` only for this run: under the run lease, a `running` record of
    // this run means the attempt before this one died or hung (bee-queue found it stalled).
    const before = await Job.findOneAndUpdate(
      { _id: jobId, run, status: { $in: ['queued', 'running'] } },
      { $set: { status: 'running', startedAt: this.deps.clock.now() }, $inc: { attempts: 1 } },
      { returnDocument: 'before' },
    ).lean();
    if (!before) {
      // Cancelled, finished, or superseded by a newer run while it waited: nothing to do, nothing to charge.
      const doc = await Job.findOne({ _id: jobId }).lean();
      const ended = doc?.result as JobResult | undefined;
      // A job cancelled by a process that runs no triggers (the CLI, the web role) is answered here.
      if (ended?.status === 'cancelled') await answerRequesters(this.deps.store.models, ended, this.deps.deliver, this.deps.claimOnce, this.deps.logger);
      return ended ?? { jobId, workspace: request.workspace, status: 'cancelled', display: '', outcomes: [], costUsd: 0 };
    }
    const attempt = (before.attempts ?? 0) + 1;
    if (before.status === 'running') {
      const stalls = (before.stalls ?? 0) + 1;
      // Its paid calls in flight were billed and never settled: count them before calling again.
      const lost = await this.deps.ledger.markLost({ jobId });
      log.warn({ stalls, lost }, 'the previous attempt at this job stopped mid-way; running it again');
      if (stalls > this.deps.maxStalls) {
        const result: JobResult = {
          jobId, workspace: request.workspace, status: 'failed', display: displayOf(request), outcomes: [], costUsd: 0,
          error: `The job stopped mid-way ${stalls} times (its worker died or hung each time), more than queue.maxStalls (${this.deps.maxStalls}); it was failed so it does not loop. Check the workers' logs, then ask again.`,
          errorCode: ErrorCodes.JOB_STALLED,
        };
        await Job.updateOne({ _id: jobId, run }, { $set: { stalls } });
        await this.finish(jobId, run, result);
        return result;
      }
      await Job.updateOne({ _id: jobId, run }, { $set: { stalls } });
    }
    let result: JobResult;
    try {
      result = await this.deps.engine.run(request, { jobId, run, attempt, shouldStop: () => this.deps.isCancelled(jobId) });
    } catch (err) {
      if (isEnrichbotError(err, ErrorCodes.INPUT_INVALID)) {
        result = { jobId, workspace: request.workspace, status: 'failed', display: String(typeof request.input === 'string' ? request.input : ''), outcomes: [], costUsd: 0, error: err.message, errorCode: err.code };
      } else {
        log.error({ err }, 'job failed; it will be retried');
        // Handed back as queued: a retry after an error is not a stall.
        await Job.updateOne({ _id: jobId, run, status: 'running' }, { $set: { status: 'queued' } }).catch(() => undefined);
        throw err;
      }
    }
    if (lease.lost) {
      // Another worker may be running this job now: its result, not this one, is the record.
      log.warn('the run lease was lost during the run; this attempt does not record its result');
      return result;
    }
    await this.finish(jobId, run, result);
    log.info({ status: result.status, costUsd: result.costUsd }, 'job finished');
    return result;
  }

  /** Called when bee-queue gives up on a job after its last retry. */
  async giveUp(request: EnrichRequest, jobId: string, run: number, err: unknown): Promise<void> {
    // Only when no attempt at this run is alive: a live one records its own result.
    const lease = await this.deps.leases.acquire(runLeaseKey(jobId, run), this.deps.runLeaseTtlMs);
    if (!lease) return;
    try {
      await this.deps.ledger.markLost({ jobId });
      const result: JobResult = {
        jobId,
        workspace: request.workspace,
        status: 'failed',
        display: displayOf(request),
        outcomes: [],
        costUsd: 0,
        error: `The job failed after its retries: ${errorMessage(err)}`,
        errorCode: ErrorCodes.JOB_FAILED,
      };
      await this.finish(jobId, run, result, ['queued', 'running']);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /** Writes the result only if `run` is still the job's current run; then answers the requesters. */
  private async finish(jobId: string, run: number, result: JobResult, fromStatus?: JobResult['status'][]): Promise<boolean> {
    const { Job } = this.deps.store.models;
    const res = await Job.updateOne(
      { _id: jobId, run, ...(fromStatus ? { status: { $in: fromStatus } } : {}) },
      {
        $set: {
          status: result.status,
          outcomes: result.outcomes,
          costUsd: result.costUsd,
          result,
          error: result.error ?? null,
          errorCode: result.errorCode ?? null,
          resumeAt: result.resumeAt ? new Date(result.resumeAt) : null,
          finishedAt: this.deps.clock.now(),
        },
      },
    );
    if (res.matchedCount === 0) {
      this.deps.logger.warn({ jobId, run }, 'a newer run of this job exists; this run\'s result is not recorded');
      return false;
    }
    await this.deps.onFinished?.(result);
    await answerRequesters(this.deps.store.models, result, this.deps.deliver, this.deps.claimOnce, this.deps.logger);
    return true;
  }
}
