// Cron schedules that run once per occurrence across any number of worker processes.
// croner only computes occurrences (in the schedule's time zone); timing and the claim are ours,
// so time can come from an injected clock. Each occurrence has a run id `<name>:<ISO>`; the
// first process whose `SET NX` on that id succeeds runs it (the marker lives a few days, so a
// late or restarted worker does not run it again) and holds a lease while it runs. A process
// that dies mid-run does not get its occurrence rerun: at most once, never twice.
// A run that fails is retried by the process that claimed it, after 1, 2, 4... x retryBaseMs,
// as long as the attempt still falls within the grace period after the occurrence; then it is
// given up: logged at error and handed to the schedule's onGiveUp (the digest raises an alert).
import { hostname } from 'node:os';
import { Cron } from 'croner';
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../clock.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Leases } from './lease.js';

export interface SchedulerOptions {
  redis: Redis;
  leases: Leases;
  prefix: string;
  logger: Logger;
  clock?: Clock;
  /** A missed occurrence younger than this runs once at start-up (default 1 h). */
  graceMs?: number;
  /** How long a run's claim marker is kept (default 3 days). */
  markerTtlMs?: number;
  /** Lease ttl while a run is going; renewed while it runs (default 60 s). */
  runLeaseMs?: number;
  /** First delay before a failed run is tried again, doubling each time (default 60 s). */
  retryBaseMs?: number;
}

/** What a schedule's owner learns when an occurrence failed every attempt within the grace period. */
export interface ScheduleFailure {
  name: string;
  occurrence: Date;
  attempts: number;
  error: Error;
}

export interface ScheduleOptions {
  onGiveUp?: (failure: ScheduleFailure) => Promise<void> | void;
  /**
   * Run a missed occurrence (within the grace period) at start-up: the default. Off for a periodic
   * reading (provider balances), where a missed one is simply taken at the next occurrence.
   */
  catchUp?: boolean;
}

interface Retry {
  occurrence: Date;
  /** Attempts made so far. */
  attempts: number;
  at: number;
}

interface Job {
  name: string;
  cron: Cron;
  timeZone: string;
  fn: (occurrence: Date) => Promise<void>;
  opts: ScheduleOptions;
  /** Occurrences at or before this instant have been handled by this process. */
  checkedUntil: number;
  timer?: NodeJS.Timeout;
  /** Failed runs this process claimed and will try again, by occurrence. */
  retries: Map<string, Retry>;
}

/** Longest single timer: occurrences far away are reached in steps, so a clock change is noticed. */
const MAX_TIMER_MS = 60_000;
/** After a long stall (a suspended laptop), only the most recent missed occurrences are run. */
const MAX_CATCH_UP = 10;

// "Last completed" only moves forward, even if runs of one schedule finish out of order.
const SET_LAST = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly graceMs: number;
  private readonly markerTtlMs: number;
  private readonly runLeaseMs: number;
  private readonly retryBaseMs: number;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.graceMs = opts.graceMs ?? 3_600_000;
    this.markerTtlMs = opts.markerTtlMs ?? 3 * 86_400_000;
    this.runLeaseMs = opts.runLeaseMs ?? 60_000;
    this.retryBaseMs = opts.retryBaseMs ?? 60_000;
  }

  /** Registers a schedule; refuses a bad cron pattern or time zone at once, naming it. */
  schedule(name: string, cron: string, timeZone: string, fn: (occurrence: Date) => Promise<void>, opts: ScheduleOptions = {}): void {
    if (!/^[\w.:-]{1,100}$/.test(name)) throw invalid(`Schedule name "${name}" is not valid: use letters, digits, _ . : - (at most 100).`);
    if (this.jobs.has(name)) throw invalid(`Schedule "${name}" is already registered: give each schedule its own name.`);
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      throw invalid(`Schedule "${name}": time zone "${timeZone}" is not an IANA time zone such as "Europe/Paris" or "UTC".`);
    }
    let parsed: Cron;
    try {
      parsed = new Cron(cron, { timezone: timeZone, paused: true });
    } catch (err) {
      throw invalid(`Schedule "${name}": cron pattern "${cron}" is not valid (${errorMessage(err)}). Example: "0 9 * * 1-5" for 09:00 on weekdays.`);
    }
    const job: Job = { name, cron: parsed, timeZone, fn, opts, checkedUntil: this.clock.now().getTime(), retries: new Map() };
    this.jobs.set(name, job);
    if (this.started) this.startJob(job);
  }

  /** Runs missed occurrences within the grace period once, then follows every schedule. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const job of this.jobs.values()) this.startJob(job);
  }

  /** Stops timers and waits for runs already going. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs.values()) if (job.timer) clearTimeout(job.timer);
    await this.whenIdle();
  }

  /** Resolves once every run started so far has finished (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /**
   * Runs whatever is due at the clock's current time and waits for those runs. Timers call it;
   * tests that move an injected clock call it directly.
   */
  async tick(): Promise<void> {
    const runs = [...this.jobs.values()].flatMap((job) => [...this.dueRuns(job), ...this.dueRetries(job)]);
    await Promise.allSettled(runs);
  }

  /** The next occurrence of a schedule after the clock's current time. */
  nextOccurrence(name: string): Date | null {
    const job = this.jobs.get(name);
    return job ? job.cron.nextRun(this.clock.now()) : null;
  }

  /** The latest occurrence whose run finished (in any process), or null. */
  async lastCompleted(name: string): Promise<Date | null> {
    const iso = await this.opts.redis.get(this.lastKey(name));
    return iso ? new Date(iso) : null;
  }

  private startJob(job: Job): void {
    if (this.stopped) return;
    const now = this.clock.now().getTime();
    job.checkedUntil = now;
    if (job.opts.catchUp !== false) this.track(this.catchUp(job, now));
    this.arm(job);
  }

  /** At start-up: the most recent past occurrence, if it was not run and is within grace. */
  private async catchUp(job: Job, now: number): Promise<void> {
    const [previous] = job.cron.previousRuns(1, new Date(now + 1));
    if (!previous || now - previous.getTime() >= this.graceMs) return;
    const last = await this.lastCompleted(job.name);
    if (last && last.getTime() >= previous.getTime()) return;
    this.opts.logger.info({ schedule: job.name, occurrence: previous.toISOString() }, 'running a missed occurrence within the grace period');
    await this.runOnce(job, previous);
  }

  private arm(job: Job): void {
    if (this.stopped) return;
    const now = this.clock.now().getTime();
    const next = job.cron.nextRun(new Date(Math.max(now, job.checkedUntil)));
    const retryAt = Math.min(...[...job.retries.values()].map((r) => r.at));
    const due = Math.min(next?.getTime() ?? Infinity, retryAt);
    if (due === Infinity) return; // a pattern with no future occurrence, nothing to retry
    // A few ms late rather than early: a timer that fires before the occurrence finds nothing due.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, due - now) + 5);
    if (job.timer) clearTimeout(job.timer);
    job.timer = setTimeout(() => {
      this.track(Promise.allSettled([...this.dueRuns(job), ...this.dueRetries(job)]).then(() => undefined));
      this.arm(job);
    }, delay);
    job.timer.unref();
  }

  /** Starts a run for each occurrence that came since the last check (within grace). */
  private dueRuns(job: Job): Promise<void>[] {
    if (this.stopped) return [];
    const now = this.clock.now().getTime();
    const due: Date[] = [];
    let from = new Date(Math.max(job.checkedUntil, now - this.graceMs));
    for (;;) {
      const next = job.cron.nextRun(from);
      if (!next || next.getTime() > now) break;
      due.push(next);
      if (due.length > MAX_CATCH_UP) due.shift();
      from = next;
    }
    job.checkedUntil = Math.max(job.checkedUntil, now);
    return due.map((occurrence) => this.track(this.runOnce(job, occurrence)));
  }

  /** Starts the retries whose time has come. */
  private dueRetries(job: Job): Promise<void>[] {
    if (this.stopped) return [];
    const now = this.clock.now().getTime();
    const due = [...job.retries.entries()].filter(([, r]) => r.at <= now);
    for (const [key] of due) job.retries.delete(key);
    return due.map(([, r]) => this.track(this.runOnce(job, r.occurrence, r.attempts)));
  }

  /**
   * Claims the occurrence (marker SET NX) on its first attempt, runs it under a lease, records
   * the outcome. A retry (attempts > 0) is made only by the process that claimed it.
   */
  private async runOnce(job: Job, occurrence: Date, attempts = 0): Promise<void> {
    const runId = `${job.name}:${occurrence.toISOString()}`;
    const log = this.opts.logger.child({ schedule: job.name, runId });
    const by = `${hostname()}:${process.pid}`;
    try {
      const lease = await this.opts.leases.acquire(`schedule:${runId}`, this.runLeaseMs);
      if (!lease) return; // another process is running it right now
      try {
        if (attempts === 0) {
          const claim = JSON.stringify({ by, at: this.clock.now().toISOString(), state: 'running' });
          const claimed = await this.opts.redis.set(this.markerKey(runId), claim, 'PX', this.markerTtlMs, 'NX');
          if (claimed !== 'OK') return; // already run (or being run) elsewhere
        }
        attempts++;
        let state = 'done';
        let failure: Error | undefined;
        try {
          await job.fn(occurrence);
        } catch (err) {
          failure = err instanceof Error ? err : new Error(errorMessage(err));
          const retryAt = this.clock.now().getTime() + this.retryBaseMs * 2 ** (attempts - 1);
          if (!this.stopped && retryAt <= occurrence.getTime() + this.graceMs) {
            state = 'retrying';
            job.retries.set(occurrence.toISOString(), { occurrence, attempts, at: retryAt });
            log.warn({ err, attempts, retryAt: new Date(retryAt).toISOString() }, `scheduled run failed: ${errorMessage(err)}; trying again at ${new Date(retryAt).toISOString()}`);
          } else {
            state = 'failed';
            log.error({ err, attempts }, `scheduled run failed ${attempts} time(s) within the grace period, giving up: ${errorMessage(err)}; the next occurrence runs as usual`);
          }
        }
        if (lease.lost) log.warn('the run outlived its lease; it was still claimed once, so no other process ran it');
        const marker = JSON.stringify({ by, at: this.clock.now().toISOString(), state, attempts });
        await this.opts.redis.set(this.markerKey(runId), marker, 'PX', this.markerTtlMs, 'XX');
        if (state !== 'retrying') await this.opts.redis.eval(SET_LAST, 1, this.lastKey(job.name), occurrence.toISOString());
        if (state === 'retrying') this.arm(job);
        if (state === 'failed' && job.opts.onGiveUp) {
          await Promise.resolve(job.opts.onGiveUp({ name: job.name, occurrence, attempts, error: failure! })).catch((err: unknown) => log.error({ err }, `the failure hook of a given-up run failed too: ${errorMessage(err)}`));
        }
      } finally {
        await lease.release();
      }
    } catch (err) {
      // Redis trouble: this process skips the occurrence; another worker may still claim it.
      log.error({ err }, `could not claim or record scheduled run: ${errorMessage(err)}`);
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  private markerKey(runId: string): string {
    return `${this.opts.prefix}:schedule-run:${runId}`;
  }

  private lastKey(name: string): string {
    return `${this.opts.prefix}:schedule-last:${name}`;
  }
}

function invalid(message: string): EnrichbotError {
  return new EnrichbotError(ErrorCodes.SCHEDULE_INVALID, message);
}
