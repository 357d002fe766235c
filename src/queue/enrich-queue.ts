// The traffic: bee-queue on Redis. A job's id is derived from the request (workspace +
// identity + options), so a duplicate request joins the job already queued or running instead
// of paying twice. The job record in MongoDB is the truth about status; bee-queue moves work.
// Delivery is at-least-once: a worker that dies mid-job leaves it "stalled", and another
// worker re-runs it (the engine's cache makes the re-run free for calls already made).
// FerretDB's conditional updates are not exclusive, so every step that must happen once takes a
// Redis lease first: restarting a finished job (here), resuming a paused one (the sweeper),
// cancelling (here) and running `<jobId>#<run>` (the runner).
// Each run pushed also gets a small Redis hash (`runStateKey`): the runner claims the run there
// instead of in the database, and marks it done there, so a copy bee-queue hands out again finds
// it finished without a read. When the hash is missing (Redis lost it) the runner falls back to
// the job record.
import { groupCommit, isDuplicateKey } from '../store/group-commit.js';
import { createHash } from 'node:crypto';
import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { EnrichRequest, JobResult, ReplyTo } from '../engine/types.js';
import type { Identity } from '../engine/identity.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { utcDay, type Clock } from '../clock.js';
import type { Leases } from '../platform/lease.js';
import { redisOptions, redisUnreachable } from '../platform/redis-connection.js';

export { redisOptions };
import type { Lease } from '../plugin/service.js';
import { newRequester, requestersOf, type AnswerTo, type Requester } from '../delivery/requesters.js';
import { reloadScriptsWhenLost } from './bee-scripts.js';

export interface EnrichQueueOptions {
  redisUrl: string;
  /** REDIS_TLS_CA_FILE (platform/redis-connection.ts). */
  redisTlsCaFile?: string;
  prefix: string;
  store: Store;
  clock: Clock;
  logger: Logger;
  isWorker: boolean;
  stallIntervalMs: number;
  retries: number;
  retryBackoffMs: number;
  jobRetentionDays: number;
  leases: Leases;
  /** For the runs' state hashes (the same Redis as the queue). */
  redis: Redis;
}

/** A run's state in Redis: queued, open (an attempt is running), attempts, stalls, done. */
export const runStateKey = (prefix: string, jobId: string, run: number) => `${prefix}:run-state:${jobId}#${run}`;
export const RUN_STATE_TTL_S = 8 * 86400;
export const cancelKey = (prefix: string, jobId: string) => `${prefix}:cancel:${jobId}`;

export interface EnqueueOptions {
  request: EnrichRequest;
  identity: Identity;
  /** Where this requester's answer goes; by default the trigger in the request's replyTo (none: nobody). */
  answerTo?: AnswerTo;
}

/** A run about to be started or joined, under the job's lease. */
interface RunToStart {
  jobId: string;
  request: EnrichRequest;
  identity: Identity;
  requester?: Requester;
}

type OpenJob = { status: string; run?: number | null; request?: unknown };

export type JobHandler = (request: EnrichRequest, jobId: string, run: number) => Promise<JobResult>;

/** How long a job's state-change lease lives if its holder dies without releasing it. */
export const JOB_LEASE_TTL_MS = 10_000;
export const jobLeaseKey = (jobId: string) => `job:${jobId}`;

/**
 * Takes a lease, waiting up to `waitMs` for its holder to release it: the steps that take one
 * are short (a few database writes), so a brief wait is better than failing the request.
 */
export async function acquireWaiting(leases: Leases, key: string, ttlMs: number, waitMs: number): Promise<Lease | null> {
  const deadline = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const lease = await leases.acquire(key, ttlMs);
    if (lease || Date.now() >= deadline) return lease;
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
  }
}

type Status = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';
const OPEN: Status[] = ['queued', 'running', 'paused'];

/**
 * Each run of a job is its own bee-queue job, "<jobId>#<run>": a run started again just as the
 * previous one finishes must not collide with that one's id while bee-queue still holds it.
 */
export const beeJobId = (jobId: string, run: number) => `${jobId}#${run}`;
export const jobIdOfBee = (beeId: string) => beeId.split('#')[0];
export const runOfBee = (beeId: string) => Number(beeId.split('#')[1] ?? 0);

export function jobIdFor(request: Pick<EnrichRequest, 'workspace' | 'refresh' | 'groups' | 'maxCostUsd' | 'budgetKey'>, identity: Identity): string {
  const groups = request.groups ? [...request.groups].sort().join(',') : '*';
  // A request with a budget joins only a job under the same budget (one without stays as it was).
  const budget = request.maxCostUsd === undefined ? '' : `\nbudget:${request.maxCostUsd}:${request.budgetKey ?? ''}`;
  const h = createHash('sha256').update(`${request.workspace}\n${identity.key}\n${request.refresh ? 'refresh' : ''}\n${groups}${budget}`).digest('hex');
  return `enr_${h.slice(0, 24)}`;
}

export class EnrichQueue {
  readonly bee: BeeQueue<EnrichRequest>;
  private readonly opts: EnrichQueueOptions;
  private closed = false;

  constructor(opts: EnrichQueueOptions) {
    this.opts = opts;
    this.bee = new BeeQueue<EnrichRequest>('enrich', {
      prefix: opts.prefix,
      redis: redisOptions(opts) as BeeQueue.QueueSettings['redis'],
      isWorker: opts.isWorker,
      getEvents: true,
      sendEvents: true,
      storeJobs: false,
      removeOnSuccess: true,
      removeOnFailure: true,
      activateDelayedJobs: opts.isWorker,
      stallInterval: opts.stallIntervalMs,
      // How long a worker may go without looking at the delayed retries (bee-queue's default is
      // 20 min): the notice of a new one is a pub/sub message, lost when it is published while
      // the worker's subscriber reconnects (a Redis restart), and the retry then waited that long.
      nearTermWindow: opts.stallIntervalMs,
    });
    reloadScriptsWhenLost(this.bee as BeeQueue<unknown>);
    this.bee.on('error', (err) => opts.logger.error({ err }, 'queue error'));
    this.bee.setMaxListeners(0);
  }

  async ready(): Promise<void> {
    try {
      await this.bee.ready();
    } catch (err) {
      throw redisUnreachable(this.opts.redisUrl, err);
    }
  }

  /**
   * Queues a request, or joins the identical one already queued or running. The requester is
   * added to the job so every asker gets the answer. Under the job's lease: one group-committed
   * insert to start a new job's first run, one command more to start a later run or two to join
   * an open one, none for the requester.
   */
  async enqueue({ request, identity, answerTo }: EnqueueOptions): Promise<{ jobId: string; joined: boolean }> {
    const jobId = jobIdFor(request, identity);
    const to = answerTo ?? (request.replyTo ? { replyTo: request.replyTo } : undefined);
    const requester = to ? newRequester(to) : undefined;
    // Starting and joining are exclusive (with cancelling, resuming and finishing, which take the
    // same lease): only the holder may turn a finished job into a new run, and a requester added
    // to an open job is never lost to a concurrent write of the same document (FerretDB).
    const outcome = await this.withJobLease(jobId, () => this.startOrJoin({ jobId, request, identity, requester }));
    if ('started' in outcome) {
      await this.push(jobId, outcome.started, request, true);
      return { jobId, joined: false };
    }
    // A paused job waits for the resumer; an active one must exist in Redis (it may not after a
    // Redis restart, so re-adding is harmless: bee-queue ignores a known id).
    const { open } = outcome;
    if (open && open.status !== 'paused') await this.push(jobId, open.run ?? 0, open.request as EnrichRequest);
    return { jobId, joined: true };
  }

  /** Under the job's lease: a new run (its number), or the open job joined. */
  private async startOrJoin(run: RunToStart): Promise<{ started: number } | { open: OpenJob | null }> {
    const { Job } = this.opts.store.models;
    try {
      const started = await this.startRun(run);
      // A cancel of an earlier run must not stop this one.
      await this.opts.redis.del(cancelKey(this.opts.prefix, run.jobId));
      return { started };
    } catch (err) {
      // The job is open (queued, running or paused): the upsert met its _id. Join it.
      if (!isDuplicateKey(err)) throw err;
      const open = run.requester
        ? await Job.findOneAndUpdate({ _id: run.jobId }, { $push: { requesters: run.requester } }, { returnDocument: 'after' }).lean()
        : await Job.findOne({ _id: run.jobId }, { status: 1, run: 1, request: 1 }).lean();
      return { open };
    }
  }

  /**
   * A job never asked for before (most are: new rows, new people) is one insert, group-committed
   * with other enqueues (a CSV's rows share a few commands). A finished one starts its next run;
   * an open one fails both with a duplicate key (startOrJoin joins it).
   */
  private async startRun({ jobId, request, identity, requester }: RunToStart): Promise<number> {
    const { Job } = this.opts.store.models;
    const now = this.opts.clock.now();
    const fields = {
      jobId,
      workspace: request.workspace,
      identityKey: identity.key,
      display: identity.display,
      request,
      status: 'queued',
      outcomes: [],
      costUsd: 0,
      error: null,
      errorCode: null,
      result: null,
      resumeAt: null,
      stalls: 0,
      requesters: requester ? [requester] : [],
      createdDay: utcDay(now),
      expireAt: new Date(now.getTime() + this.opts.jobRetentionDays * 86400_000),
    };
    try {
      await groupCommit(Job).write({ insertOne: { document: { _id: jobId, ...fields, run: 1 } as never } });
      return 1;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const doc = await Job.findOneAndUpdate({ _id: jobId, status: { $nin: OPEN } }, { $set: fields, $inc: { run: 1 } }, { upsert: true, returnDocument: 'after' }).lean();
      return doc?.run ?? 1;
    }
  }

  /** Runs `fn` holding the job's lease, or JOB_BUSY when another process holds it too long. */
  private async withJobLease<T>(jobId: string, fn: () => Promise<T>): Promise<T> {
    const lease = await acquireWaiting(this.opts.leases, jobLeaseKey(jobId), JOB_LEASE_TTL_MS, JOB_LEASE_TTL_MS);
    if (!lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Job ${jobId} is being changed by another process; ask again in a moment.`);
    try {
      return await fn();
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /**
   * Cancels a queued or paused job; a running one is asked to stop through its cancel flag and
   * finishes as cancelled itself. Returns what was cancelled when this call did the cancelling
   * (the caller answers the requesters; a paused job is not in Redis, so the caller may push run
   * `run` again for a worker to answer them), null otherwise. Exclusive under the job's lease:
   * of six racing cancels, one gets the result.
   */
  async cancel(jobId: string): Promise<{ result: JobResult; was: 'queued' | 'paused'; run: number; request: EnrichRequest; requesters: Requester[] } | null> {
    const { Job } = this.opts.store.models;
    return this.withJobLease(jobId, async () => {
      const doc = await Job.findOne({ _id: jobId }).lean();
      if (!doc || (doc.status !== 'queued' && doc.status !== 'paused')) return null;
      // Queued in the record may be running in Redis: that attempt stops at its cancel flag.
      if (doc.status === 'queued' && (await this.opts.redis.hget(runStateKey(this.opts.prefix, jobId, doc.run ?? 0), 'open')) === '1') return null;
      const result: JobResult = { jobId, workspace: doc.workspace, status: 'cancelled', display: doc.display ?? '', outcomes: [], costUsd: 0 };
      await Job.updateOne({ _id: jobId, run: doc.run }, { $set: { status: 'cancelled', result, resumeAt: null, finishedAt: this.opts.clock.now() } });
      return { result, was: doc.status, run: doc.run ?? 0, request: doc.request as EnrichRequest, requesters: requestersOf(doc) };
    });
  }

  /** Puts the job into Redis; false when a job with this id is already there. */
  async push(jobId: string, run: number, request: EnrichRequest, fresh = false): Promise<boolean> {
    const state = runStateKey(this.opts.prefix, jobId, run);
    // A new run starts from a clean state: run numbers start again at 1 once a job's record is
    // deleted (forget, retention), and an old run's `done` must not pass for this one's.
    const tx = this.opts.redis.multi();
    if (fresh) tx.del(state);
    await tx.hset(state, 'queued', '1').expire(state, RUN_STATE_TTL_S).exec();
    const job = await this.bee
      .createJob(request)
      .setId(beeJobId(jobId, run))
      .retries(this.opts.retries)
      .backoff('exponential', this.opts.retryBackoffMs)
      .save();
    return job.id !== null && job.id !== undefined;
  }

  /** Whether each run still has its job in Redis (waiting, active or delayed). */
  async hasJobs(runs: { jobId: string; run: number }[]): Promise<boolean[]> {
    if (!runs.length) return [];
    // bee-queue's own key builder (untyped in its .d.ts): the hash of jobs it still holds.
    const key = (this.bee as unknown as { toKey(name: string): string }).toKey('jobs');
    const tx = this.opts.redis.pipeline();
    for (const r of runs) tx.hexists(key, beeJobId(r.jobId, r.run));
    const out = (await tx.exec()) ?? [];
    return out.map(([err, v]) => !err && Number(v) === 1);
  }

  process(concurrency: number, handler: JobHandler): void {
    this.bee.process(concurrency, (job) => handler(job.data, jobIdOfBee(job.id), runOfBee(job.id)));
    void this.bee.checkStalledJobs(this.opts.stallIntervalMs);
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.bee.close(timeoutMs).catch((err) => this.opts.logger.warn({ err }, 'queue close: jobs still running are left for another worker'));
  }
}

export type { ReplyTo };
