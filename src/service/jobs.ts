// A job's end as the service sees it: every waiter woken in every process (Redis pub/sub), the
// usage counted, a job change handed to the triggers that take one; and cancelling, which ends a
// queued or paused job here and answers its requesters through the delivery.
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Models } from '../store/models.js';
import type { JobResult } from '../engine/types.js';
import { cancelKey, type EnrichQueue } from '../queue/enrich-queue.js';
import type { Delivery } from '../delivery/delivery.js';
import type { CompletionHub } from './completion.js';
import type { UsageCounters } from './usage-counters.js';
import { announceJobChange } from './job-change-notice.js';

export interface JobsOptions {
  redis: Redis;
  prefix: string;
  queue: EnrichQueue;
  models: Models;
  hub: CompletionHub;
  counters: UsageCounters;
  delivery: Delivery;
  logger: Logger;
}

export class Jobs {
  constructor(private readonly opts: JobsOptions) {}

  /** A job ended (or paused): wakes every waiter in every process, then the bookkeeping. */
  async finished(result: JobResult): Promise<void> {
    const { hub, counters, logger, models, delivery } = this.opts;
    // Waiters first: the usage counters are bookkeeping and may take a few reads.
    await hub.publish('job', result.jobId, result).catch((err) => logger.warn({ err, jobId: result.jobId }, 'could not publish the job event; waiters time out'));
    await counters.jobFinished(result).catch((err) => logger.warn({ err, jobId: result.jobId }, 'could not update usage counters'));
    if (result.jobChange) await announceJobChange({ models, logger, triggers: () => delivery.runningAll() }, result);
  }

  /** Asks a queued or running job to stop: providers not yet called are marked not_run. */
  async cancel(jobId: string): Promise<void> {
    const { redis, prefix, queue, delivery } = this.opts;
    await redis.set(cancelKey(prefix, jobId), '1', 'EX', 86400);
    // Exclusive under the job's lease (a conditional update is not a lock on FerretDB).
    const c = await queue.cancel(jobId);
    if (!c) return;
    await this.finished(c.result);
    // A paused job is not in the queue: put it back so a worker can answer its requesters.
    if (!(await delivery.answerIfHere(c.result, c.requesters)) && c.was === 'paused') await queue.push(jobId, c.run, c.request);
  }
}
