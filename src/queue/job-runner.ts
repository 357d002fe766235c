// What a worker does with one job: claim the run, run the engine, record the outcome, and hand
// the result to the delivery, which answers every requester. Paused jobs are resumed by the sweeper.
// One live attempt per run: the runner holds the Redis lease "run:<jobId>#<run>" for the whole
// attempt (bee-queue may hand a stalled job to a second worker while the first still runs it),
// and only the run that is still the job's current one may write its result.
// The claim lives in Redis, in the run's state hash the queue wrote when it pushed the run: an
// attempt counter, an `open` flag that an attempt which died mid-way leaves behind (a stall), and
// `done` once the result is recorded. The database is read only when that hash is missing (Redis
// lost it) or the job was cancelled; then the job record decides, as it always may.
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import type { Engine } from '../engine/engine.js';
import type { Ledger } from '../engine/ledger.js';
import type { EnrichRequest, JobResult } from '../engine/types.js';
import type { Leases } from '../platform/lease.js';
import { EnrichbotError, isEnrichbotError, errorMessage, ErrorCodes } from '../errors.js';
import { requestersOf } from '../delivery/requesters.js';
import type { Delivery } from '../delivery/delivery.js';
import { JOB_LEASE_TTL_MS, RUN_STATE_TTL_S, acquireWaiting, jobLeaseKey, runStateKey } from './enrich-queue.js';

/**
 * Starts an attempt at a run: [known, attempts, stalled, done, stalls]. `known` 0: no state (Redis
 * lost it, or the run was never pushed here). An attempt that finds `open` still set from the
 * one before it found a stall.
 */
const START_ATTEMPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0, 0, 0} end
if redis.call('HGET', KEYS[1], 'done') then return {1, 0, 0, 1, 0} end
local stalled = redis.call('HGET', KEYS[1], 'open') == '1'
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local stalls = tonumber(redis.call('HGET', KEYS[1], 'stalls') or '0')
if stalled then stalls = redis.call('HINCRBY', KEYS[1], 'stalls', 1) end
redis.call('HSET', KEYS[1], 'open', '1')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return {1, attempts, stalled and 1 or 0, 0, stalls}
`;

export const runLeaseKey = (jobId: string, run: number) => `run:${jobId}#${run}`;

export interface JobRunnerDeps {
  store: Store;
  engine: Engine;
  clock: Clock;
  logger: Logger;
  /** Answers the requesters of a recorded result (each once, across every process). */
  delivery: Pick<Delivery, 'answer'>;
  isCancelled: (jobId: string) => Promise<boolean>;
  leases: Leases;
  ledger: Ledger;
  /** The queue's Redis and key prefix (the runs' state hashes). */
  redis: Redis;
  prefix: string;
  /** A run found abandoned mid-way more often than this is failed (config queue.maxStalls). */
  maxStalls: number;
  /** How long a dead worker's run lease outlives it; renewed every third of it while held. */
  runLeaseTtlMs: number;
  /** Called once the current run's result is recorded (before the requesters are answered). */
  onFinished?: (result: JobResult) => Promise<void>;
  /** Test hook: called the instant a run is marked done in Redis, before anyone is answered. */
  afterRunDone?: (jobId: string, run: number) => void;
}

/** This attempt at a run: its number, whether the one before it stalled, and how it was claimed. */
interface Attempt {
  attempt: number;
  stalled: boolean;
  stalls: number;
  /** Claimed on the job record (no Redis state, done there, or cancelled), not in Redis. */
  viaRecord: boolean;
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

  /** The run's phases, under its lease: claim the attempt, fail a run that stalls too often, run, record. */
  private async runHeld(request: EnrichRequest, jobId: string, run: number, lease: { lost: boolean }): Promise<JobResult> {
    const log = this.deps.logger.child({ jobId, run });
    const attempt = await this.claimAttempt(jobId, run);
    if (!attempt) return this.recorded(request, jobId);
    const counts = { attempts: attempt.attempt, stalls: attempt.stalls };
    if (attempt.stalled) {
      // Its paid calls in flight were billed and never settled: count them before calling again.
      const lost = await this.deps.ledger.markLost({ jobId });
      log.warn({ stalls: attempt.stalls, lost }, 'the previous attempt at this job stopped mid-way; running it again');
      if (attempt.stalls > this.deps.maxStalls) return this.failStalled({ request, jobId, run, counts });
    }
    const result = await this.runEngine({ request, jobId, run, attempt, log });
    if (lease.lost) {
      // Another worker may be running this job now: its result, not this one, is the record. Handed
      // back as a failed attempt, not a success: when nobody else has it (the lease expired while
      // Redis was unreachable), bee-queue's retry runs it again (its calls are cached) instead of
      // dropping the job until the sweeper's requeue; when someone does, the retry finds it done.
      log.warn('the run lease was lost during the run; this attempt does not record its result');
      throw new EnrichbotError(ErrorCodes.JOB_BUSY, `The run lease of ${jobId} (run ${run}) was lost during the attempt (Redis unreachable longer than the lease, or the attempt outlived it); its result is not recorded and the job is tried again.`);
    }
    await this.finish(jobId, run, result, undefined, counts);
    log.info({ status: result.status, costUsd: result.costUsd }, 'job finished');
    return result;
  }

  /**
   * Claims this attempt at the run in its Redis state; null when there is nothing to run (the
   * record says the run is over). Done in Redis but open in the record (a state left from an
   * older job of the same id and run): the record decides. So does a cancel (cancelled while
   * queued: answered by `recorded`), and a missing state (Redis lost it).
   */
  private async claimAttempt(jobId: string, run: number): Promise<Attempt | null> {
    const stateKey = runStateKey(this.deps.prefix, jobId, run);
    const [known, attempts, stalled, done, stalls] = (await this.deps.redis.eval(START_ATTEMPT, 1, stateKey, String(RUN_STATE_TTL_S))) as number[];
    const viaRecord = !known || !!done || (await this.deps.isCancelled(jobId));
    if (!viaRecord) return { attempt: attempts, stalled: stalled === 1, stalls, viaRecord };
    // The claim matches `running` only for this run: under the run lease, a `running` record of
    // this run means the attempt before this one died or hung (bee-queue found it stalled).
    const before = await this.deps.store.models.Job.findOneAndUpdate(
      { _id: jobId, run, status: { $in: ['queued', 'running'] } },
      { $set: { status: 'running', startedAt: this.deps.clock.now() }, $inc: { attempts: 1 } },
      { returnDocument: 'before' },
    ).lean();
    if (!before) {
      await this.deps.redis.hdel(stateKey, 'open');
      return null;
    }
    const wasRunning = before.status === 'running';
    return { attempt: (before.attempts ?? 0) + 1, stalled: wasRunning, stalls: (before.stalls ?? 0) + (wasRunning ? 1 : 0), viaRecord };
  }

  /** A run that stopped mid-way more than queue.maxStalls times is failed, so it does not loop. */
  private async failStalled({ request, jobId, run, counts }: { request: EnrichRequest; jobId: string; run: number; counts: { attempts: number; stalls: number } }): Promise<JobResult> {
    const result: JobResult = {
      jobId, workspace: request.workspace, status: 'failed', display: displayOf(request), outcomes: [], costUsd: 0,
      error: `The job stopped mid-way ${counts.stalls} times (its worker died or hung each time), more than queue.maxStalls (${this.deps.maxStalls}); it was failed so it does not loop. Check the workers' logs, then ask again.`,
      errorCode: ErrorCodes.JOB_STALLED,
    };
    await this.finish(jobId, run, result, undefined, counts);
    return result;
  }

  /**
   * The engine's run. Bad input fails the job; any other error hands the run back cleanly (not a
   * stall) and is thrown, so bee-queue retries it.
   */
  private async runEngine({ request, jobId, run, attempt, log }: { request: EnrichRequest; jobId: string; run: number; attempt: Attempt; log: Logger }): Promise<JobResult> {
    try {
      return await this.deps.engine.run(request, { jobId, run, attempt: attempt.attempt, shouldStop: () => this.deps.isCancelled(jobId) });
    } catch (err) {
      if (isEnrichbotError(err, ErrorCodes.INPUT_INVALID)) {
        return { jobId, workspace: request.workspace, status: 'failed', display: String(typeof request.input === 'string' ? request.input : ''), outcomes: [], costUsd: 0, error: err.message, errorCode: err.code };
      }
      log.error({ err }, 'job failed; it will be retried');
      await this.deps.redis.hdel(runStateKey(this.deps.prefix, jobId, run), 'open').catch(() => undefined);
      if (attempt.viaRecord) await this.deps.store.models.Job.updateOne({ _id: jobId, run, status: 'running' }, { $set: { status: 'queued' } }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The job's recorded result (this run was finished, cancelled or superseded while it waited).
   * A final or paused record's requesters are answered here (claims make it once per requester):
   * an attempt that died after recording the result and before answering left them waiting.
   */
  private async recorded(request: EnrichRequest, jobId: string): Promise<JobResult> {
    // Nothing to run, nothing to charge.
    return (await this.answerFromRecord(jobId)) ?? { jobId, workspace: request.workspace, status: 'cancelled', display: '', outcomes: [], costUsd: 0 };
  }

  /** Answers a final or paused job's unanswered requesters from its recorded result; returns that result. */
  private async answerFromRecord(jobId: string): Promise<JobResult | undefined> {
    const doc = await this.deps.store.models.Job.findOne({ _id: jobId }).lean();
    const ended = doc?.result as JobResult | undefined;
    if (ended && doc && !['queued', 'running'].includes(String(doc.status))) await this.deps.delivery.answer(ended, requestersOf(doc));
    return ended;
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
      await this.finish(jobId, run, result);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /**
   * Writes the result only if `run` is still the job's current, open run; then answers the
   * requesters the same command returned. Under the job's lease: a requester joining at that
   * moment is either in the list answered here or finds the job finished and starts a new run.
   */
  private async finish(jobId: string, run: number, result: JobResult, fromStatus: JobResult['status'][] = ['queued', 'running'], counts?: { attempts: number; stalls: number }): Promise<boolean> {
    const { Job } = this.deps.store.models;
    const lease = await acquireWaiting(this.deps.leases, jobLeaseKey(jobId), JOB_LEASE_TTL_MS, JOB_LEASE_TTL_MS);
    if (!lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Job ${jobId} is being changed by another process; its result is recorded on the next attempt.`);
    let doc: { requesters?: unknown } | null;
    try {
      doc = await Job.findOneAndUpdate(
        { _id: jobId, run, status: { $in: fromStatus } },
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
            ...(counts ? { attempts: counts.attempts, stalls: counts.stalls } : {}),
          },
        },
        { returnDocument: 'after' }, // (FerretDB 1.24 has no projection in findAndModify)
      ).lean();
    } finally {
      await lease.release().catch(() => undefined);
    }
    const stateKey = runStateKey(this.deps.prefix, jobId, run);
    await this.deps.redis.multi().hset(stateKey, 'done', '1').hdel(stateKey, 'open').expire(stateKey, RUN_STATE_TTL_S).exec();
    this.deps.afterRunDone?.(jobId, run);
    if (!doc) {
      this.deps.logger.warn({ jobId, run }, 'this run is no longer the job\'s open run (finished, cancelled or superseded); its result is not recorded');
      // An earlier attempt may have recorded the result and died (or lost Redis) before answering:
      // the recorded result goes to whoever is still unanswered (claims make it once each).
      await this.answerFromRecord(jobId);
      return false;
    }
    await this.deps.onFinished?.(result);
    await this.deps.delivery.answer(result, requestersOf(doc));
    return true;
  }
}
