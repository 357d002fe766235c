// Counters in Redis, written by whichever worker finishes a job and read by the web role's
// /metrics at scrape time (so every worker's work shows up in one place, and a restart loses
// nothing). Fed from the service's job-finished hook and from push activity, never from the
// engine's hot path: a job's outcomes carry each call's outcome, cost and latency.
import type { Redis } from 'ioredis';
import type { ActivityEntry } from '../plugin/service.js';
import type { JobResult } from '../engine/types.js';
import { utcDay, type Clock } from '../clock.js';

/** Upper bounds (ms) of the latency histogram's buckets. */
export const LATENCY_BUCKETS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
const USAGE_TTL_S = 90 * 86400;
const PAUSED_TTL_S = 8 * 86400;

/** The day's set of jobs paused by a cap, read by the digest (reports.ts). */
export const pausedKey = (prefix: string, day: string) => `${prefix}:report:paused:${day}`;

export const metricKeys = (prefix: string) => ({
  jobs: `${prefix}:metrics:jobs`,
  calls: `${prefix}:metrics:calls`,
  spendMicros: `${prefix}:metrics:spend`,
  /** Spend by workspace, all time (micro-USD). */
  workspaceSpendMicros: `${prefix}:metrics:spend-workspace`,
  /** Workspaces that spent on a UTC day (the per-workspace cap gauges and alerts), kept 3 days. */
  spendWorkspaces: (day: string) => `${prefix}:metrics:spend-workspaces:${day}`,
  latency: (provider: string) => `${prefix}:metrics:latency:${provider}`,
  latencyProviders: `${prefix}:metrics:latency-providers`,
  /** Pushes to one destination trigger by result (ok, failed), from push activity entries. */
  push: (destination: string) => `${prefix}:metrics:push:${destination}`,
  /** Daily per-provider API usage (successful calls), kept 90 days: `<prefix>:api_usage:<provider>:<day>`. */
  apiUsage: (provider: string, day: string) => `${prefix}:api_usage:${provider}:${day}`,
});

export class UsageCounters {
  private readonly keys: ReturnType<typeof metricKeys>;
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly prefix: string,
  ) {
    this.keys = metricKeys(prefix);
  }

  async jobFinished(result: JobResult): Promise<void> {
    const day = utcDay(this.clock.now());
    const m = this.redis.multi();
    m.hincrby(this.keys.jobs, result.status, 1);
    if (result.status === 'paused') {
      const reason = result.outcomes.find((o) => o.outcome === 'cap_reached')?.reason;
      m.sadd(pausedKey(this.prefix, day), JSON.stringify({ jobId: result.jobId, workspace: result.workspace, ...(reason ? { reason } : {}) }));
      m.expire(pausedKey(this.prefix, day), PAUSED_TTL_S);
    }
    for (const o of result.outcomes) if (o.outcome === 'cap_reached') m.hincrby(this.keys.calls, `${o.provider}|${o.outcome}`, 1);
    // One count per ledger row, the first outcome that names it: an outcome that reuses an
    // answer (or an error) from earlier in the same request keeps that call's ledgerId, and
    // counting it again would show two calls where the ledger and the invoice have one.
    const counted = new Set<string>();
    for (const o of result.outcomes) {
      if (!o.ledgerId || counted.has(o.ledgerId)) continue;
      counted.add(o.ledgerId);
      m.hincrby(this.keys.calls, `${o.provider}|${o.outcome}`, 1);
      if (o.costUsd) {
        m.hincrby(this.keys.spendMicros, o.provider, Math.round(o.costUsd * 1e6));
        m.hincrby(this.keys.workspaceSpendMicros, result.workspace, Math.round(o.costUsd * 1e6));
        m.sadd(this.keys.spendWorkspaces(day), result.workspace);
        m.expire(this.keys.spendWorkspaces(day), 3 * 86400);
      }
      if (o.outcome === 'matched' || o.outcome === 'no_match') {
        m.incr(this.keys.apiUsage(o.provider, day));
        m.expire(this.keys.apiUsage(o.provider, day), USAGE_TTL_S);
      }
      if (typeof o.latencyMs === 'number' && o.outcome !== 'cached') {
        const le = LATENCY_BUCKETS_MS.find((b) => o.latencyMs! <= b);
        m.sadd(this.keys.latencyProviders, o.provider);
        m.hincrby(this.keys.latency(o.provider), le === undefined ? '+Inf' : String(le), 1);
        m.hincrby(this.keys.latency(o.provider), 'sumMs', Math.round(o.latencyMs));
        m.hincrby(this.keys.latency(o.provider), 'count', 1);
      }
    }
    await m.exec();
  }

  /**
   * Pushes by destination and result, from push activity entries: a `service.push` that succeeded,
   * and the failures a destination logs itself (`ok: false`). The destination's `pushActivity`
   * says what they count as on /metrics.
   */
  async activity(entry: Omit<ActivityEntry, 'at'>): Promise<void> {
    const destination = entry.detail?.destination;
    if (entry.action !== 'push' || typeof destination !== 'string' || !destination) return;
    await this.redis.hincrby(this.keys.push(destination), entry.detail!.ok === false ? 'failed' : 'ok', 1);
  }
}
