// What a worker does with one job: mark it running, run the engine, record the outcome, and
// hand the result to every requester's trigger. Paused jobs are resumed by the sweeper.
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import type { Engine } from '../engine/engine.js';
import type { EnrichRequest, JobResult } from '../engine/types.js';
import { isEnrichbotError, errorMessage, ErrorCodes } from '../errors.js';
import { answerRequesters, type ClaimOnce, type Deliver } from './requesters.js';


export class JobRunner {
  constructor(
    private readonly deps: { store: Store; engine: Engine; clock: Clock; logger: Logger; deliver: Deliver; claimOnce: ClaimOnce; isCancelled: (jobId: string) => Promise<boolean>; onFinished?: (result: JobResult) => Promise<void> },
  ) {}

  async handle(request: EnrichRequest, jobId: string): Promise<JobResult> {
    const { Job } = this.deps.store.models;
    const log = this.deps.logger.child({ jobId });
    const job = await Job.findOneAndUpdate(
      { _id: jobId, status: { $in: ['queued', 'running'] } },
      { $set: { status: 'running', startedAt: this.deps.clock.now() }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    );
    if (!job) {
      // Cancelled or already finished while it waited: nothing to do, nothing to charge.
      const doc = await Job.findOne({ _id: jobId }).lean();
      const ended = doc?.result as JobResult | undefined;
      // A job cancelled by a process that runs no triggers (the CLI, the web role) is answered here.
      if (ended?.status === 'cancelled') await answerRequesters(this.deps.store.models, ended, this.deps.deliver, this.deps.claimOnce, this.deps.logger);
      return ended ?? { jobId, workspace: request.workspace, status: 'cancelled', display: '', outcomes: [], costUsd: 0 };
    }
    let result: JobResult;
    try {
      result = await this.deps.engine.run(request, { jobId, shouldStop: () => this.deps.isCancelled(jobId) });
    } catch (err) {
      if (isEnrichbotError(err, ErrorCodes.INPUT_INVALID)) {
        result = { jobId, workspace: request.workspace, status: 'failed', display: String(typeof request.input === 'string' ? request.input : ''), outcomes: [], costUsd: 0, error: err.message, errorCode: err.code };
      } else {
        log.error({ err }, 'job failed; it will be retried');
        throw err;
      }
    }
    await this.finish(jobId, result);
    log.info({ status: result.status, costUsd: result.costUsd }, 'job finished');
    return result;
  }

  /** Called when bee-queue gives up on a job after its last retry. */
  async giveUp(request: EnrichRequest, jobId: string, err: unknown): Promise<void> {
    const result: JobResult = {
      jobId,
      workspace: request.workspace,
      status: 'failed',
      display: typeof request.input === 'string' ? request.input : JSON.stringify(request.input),
      outcomes: [],
      costUsd: 0,
      error: `The job failed after its retries: ${errorMessage(err)}`,
      errorCode: ErrorCodes.JOB_FAILED,
    };
    await this.finish(jobId, result);
  }

  private async finish(jobId: string, result: JobResult): Promise<void> {
    const { Job } = this.deps.store.models;
    await Job.updateOne(
      { _id: jobId },
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
    await this.deps.onFinished?.(result);
    await answerRequesters(this.deps.store.models, result, this.deps.deliver, this.deps.claimOnce, this.deps.logger);
  }
}
