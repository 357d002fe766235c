// Read-only reports for operators and the daily digest: one UTC day's spend, calls, hits and
// errors from the ledger (the truth), jobs a cap paused, pushes a destination failed to write
// (activity log), breakers that refused calls, and the queue's health. Every sum is its own
// single-accumulator $group (FerretDB 1.24), joined by groupSums.
import type { Redis } from 'ioredis';
import type { Store } from '../store/store.js';
import type { Config } from '../config/schema.js';
import type { EnrichQueue } from '../queue/enrich-queue.js';
import { groupSums } from '../store/group-sums.js';
import type { CapUsage, DailyReport, ProviderOutage, ProviderStatusRecord, PushFailures, QueueHealth, SpendSeries } from '../plugin/service.js';
import type { PushActivity } from '../plugin/contract.js';
import { metricKeys, pausedKey } from './usage-counters.js';
import { utcDay } from '../clock.js';
import { balancesWithDaysLeft, batchEstimatesOf, costPerDeliverable } from './foresight-report.js';

/** Outcomes that are an actual request to the provider (cached, skipped, refused are not). */
const CALLED = new Set(['matched', 'no_match', 'error', 'timeout']);
/** Calls that got no answer: errors, and time-outs (their own outcome since issue 28). */
const FAILED = { $in: ['error', 'timeout'] };
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;
const MAX_LISTED = 20;

function parseDetail(json: string | undefined | null): Record<string, unknown> | undefined {
  try {
    return json ? (JSON.parse(json) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface ReportsDeps {
  config: Config;
  store: Store;
  redis: Redis;
  queue: EnrichQueue;
  /** What pushes to each destination trigger count as, by its id (the enabled plugins' `pushActivity`). */
  pushActivity?: Record<string, PushActivity>;
}

/** Redis set of the jobs a spend cap paused on a day (written by the service when a job pauses). */

export function dayRange(day: string): { from: Date; to: Date } {
  const from = new Date(`${day}T00:00:00.000Z`);
  return { from, to: new Date(from.getTime() + 86400_000) };
}

/** The UTC day `n` days after (or before, when negative) `day`. */
export function shiftDay(day: string, n: number): string {
  return new Date(dayRange(day).from.getTime() + n * 86400_000).toISOString().slice(0, 10);
}

export function previousDays(endDay: string, days: number): string[] {
  const end = dayRange(endDay).from.getTime();
  return Array.from({ length: days }, (_, i) => new Date(end - (days - 1 - i) * 86400_000).toISOString().slice(0, 10));
}

export class Reports {
  constructor(private readonly deps: ReportsDeps) {}

  async daily(day: string): Promise<DailyReport> {
    const caps = this.deps.config.spendCaps;
    const providers = await this.providerDay(day);
    const emailsFound = await this.emailsFound(day);
    const totalUsd = round6(providers.reduce((s, p) => s + p.costUsd, 0));
    const models = this.deps.store.models;
    return {
      day,
      totalUsd,
      caps: { dailyUsd: caps.dailyUsd, perWorkspaceDailyUsd: caps.perWorkspaceDailyUsd },
      providers,
      workspaces: await this.workspaceDay(day),
      emailsFound,
      costPerEmailUsd: emailsFound ? round6(totalUsd / emailsFound) : null,
      errors: await this.errorsOf(day),
      breakers: await this.breakersOf(day),
      pausedJobs: await this.pausedJobs(day),
      pushFailures: await this.pushFailures(day),
      sameDayLastWeek: await this.sameDayLastWeek(day),
      monthToDate: await this.monthToDate(day),
      // People whose job change a refresh found that day (issue 21).
      jobChanges: await models.Person.countDocuments({ jobChangeDays: day }),
      balances: await balancesWithDaysLeft(models, day),
      batchEstimates: await batchEstimatesOf(models, day),
      deliverableEmails: await costPerDeliverable(models, day),
    };
  }

  /** Calls, hits, cached answers and spend per provider, most spent first. */
  private async providerDay(day: string): Promise<DailyReport['providers']> {
    const byOutcome = await groupSums(this.deps.store.models.Ledger, { day }, { provider: 'provider', outcome: 'outcome' }, { costUsd: 'costUsd', calls: 1 });
    const providers = new Map<string, DailyReport['providers'][number]>();
    for (const r of byOutcome) {
      const p = providers.get(r.provider) ?? { provider: r.provider, calls: 0, hits: 0, hitRate: null, cached: 0, costUsd: 0 };
      if (CALLED.has(r.outcome)) p.calls += r.calls;
      if (r.outcome === 'matched') p.hits += r.calls;
      if (r.outcome === 'cached') p.cached += r.calls;
      p.costUsd = round6(p.costUsd + r.costUsd);
      providers.set(r.provider, p);
    }
    for (const p of providers.values()) p.hitRate = p.calls ? p.hits / p.calls : null;
    return [...providers.values()].sort((a, b) => b.costUsd - a.costUsd || a.provider.localeCompare(b.provider));
  }

  /** Workspaces that spent, with the cap that applies to each, most spent first. */
  private async workspaceDay(day: string): Promise<DailyReport['workspaces']> {
    const caps = this.deps.config.spendCaps;
    const rows = await groupSums(this.deps.store.models.Ledger, { day }, { workspace: 'workspace' }, { costUsd: 'costUsd' });
    return rows
      .map((r) => ({ workspace: r.workspace, costUsd: round6(r.costUsd), capUsd: Object.hasOwn(caps.workspaces, r.workspace) ? caps.workspaces[r.workspace]! : caps.perWorkspaceDailyUsd }))
      .filter((w) => w.costUsd > 0)
      .sort((a, b) => b.costUsd - a.costUsd || a.workspace.localeCompare(b.workspace));
  }

  /** Failed calls by provider and error kind, each with its latest message. */
  private async errorsOf(day: string): Promise<DailyReport['errors']> {
    const { Ledger } = this.deps.store.models;
    const errRows = await groupSums(Ledger, { day, outcome: FAILED }, { provider: 'provider', kind: 'errorKind' }, { count: 1 });
    const errors: DailyReport['errors'] = [];
    for (const r of errRows) {
      const kind = r.kind ?? null;
      const sample = await Ledger.findOne({ day, outcome: FAILED, provider: r.provider, errorKind: kind }, { error: 1 }).sort({ at: -1 }).lean();
      errors.push({ provider: r.provider, kind: kind ?? 'unknown', count: r.count, sample: sample?.error ?? '' });
    }
    return errors.sort((a, b) => b.count - a.count || a.provider.localeCompare(b.provider) || a.kind.localeCompare(b.kind));
  }

  private async breakersOf(day: string): Promise<DailyReport['breakers']> {
    const rows = await groupSums(this.deps.store.models.Ledger, { day, outcome: 'circuit_open' }, { provider: 'provider' }, { refused: 1 });
    return rows.map((r) => ({ provider: r.provider, refused: r.refused })).sort((a, b) => b.refused - a.refused || a.provider.localeCompare(b.provider));
  }

  private async sameDayLastWeek(day: string): Promise<DailyReport['sameDayLastWeek']> {
    const weekBefore = shiftDay(day, -7);
    const [lastWeek] = await this.deps.store.models.Ledger.aggregate<{ costUsd: number }>([{ $match: { day: weekBefore } }, { $group: { _id: null, costUsd: { $sum: '$costUsd' } } }]);
    return { day: weekBefore, totalUsd: round6(lastWeek?.costUsd ?? 0) };
  }

  /** Spend from the 1st of the month through `day`, per workspace, with a linear forecast. */
  private async monthToDate(day: string): Promise<DailyReport['monthToDate']> {
    const from = `${day.slice(0, 8)}01`;
    const elapsed = Number(day.slice(8, 10));
    const d = new Date(`${from}T00:00:00Z`);
    const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    const forecast = (usd: number) => round6((usd / elapsed) * daysInMonth);
    const rows = await groupSums(this.deps.store.models.Ledger, { day: { $gte: from, $lte: day } }, { workspace: 'workspace' }, { costUsd: 'costUsd' });
    const workspaces = rows
      .filter((r) => r.costUsd > 0)
      .map((r) => ({ workspace: r.workspace, costUsd: round6(r.costUsd), forecastUsd: forecast(r.costUsd) }))
      .sort((a, b) => b.costUsd - a.costUsd || a.workspace.localeCompare(b.workspace));
    const totalUsd = round6(workspaces.reduce((s, w) => s + w.costUsd, 0));
    return { from, through: day, daysInMonth, totalUsd, forecastUsd: forecast(totalUsd), workspaces };
  }

  /**
   * Today's spend against each daily cap, read from the counters the caps are enforced with
   * (reservations in flight included), for the workspaces that spent today or have a cap.
   */
  async capUsage(now: Date): Promise<CapUsage> {
    const day = utcDay(now);
    const { prefix } = this.deps.config.queue;
    const caps = this.deps.config.spendCaps;
    const micros = async (key: string) => Number((await this.deps.redis.get(key)) ?? 0) / 1e6;
    const spent = await this.deps.redis.smembers(metricKeys(prefix).spendWorkspaces(day));
    const names = [...new Set([...spent, ...Object.keys(caps.workspaces)])].sort();
    const workspaces: CapUsage['workspaces'] = [];
    for (const workspace of names) {
      const capUsd = Object.hasOwn(caps.workspaces, workspace) ? caps.workspaces[workspace]! : caps.perWorkspaceDailyUsd;
      workspaces.push({ workspace, spentUsd: await micros(`${prefix}:spend:${day}:ws:${workspace}`), capUsd });
    }
    return { day, global: { spentUsd: await micros(`${prefix}:spend:${day}:global`), capUsd: caps.dailyUsd }, workspaces };
  }

  /** Jobs that finished that day with a work email from some provider (the digest's "found email"). */
  private async emailsFound(day: string): Promise<number> {
    const { from, to } = dayRange(day);
    let n = 0;
    // Jobs per day are few enough to read their outcomes; an $elemMatch over arrays is avoided
    // on purpose (FerretDB 1.24 support for it is partial).
    const cursor = this.deps.store.models.Job.find({ finishedAt: { $gte: from, $lt: to } }, { outcomes: 1 }).lean().cursor();
    for await (const job of cursor) {
      const outcomes = (job.outcomes ?? []) as { outcome?: string; fields?: string[] }[];
      if (outcomes.some((o) => (o.outcome === 'matched' || o.outcome === 'cached') && o.fields?.includes('person.workEmail'))) n++;
    }
    return n;
  }

  private async pausedJobs(day: string): Promise<DailyReport['pausedJobs']> {
    const members = await this.deps.redis.smembers(pausedKey(this.deps.config.queue.prefix, day));
    const jobs = members.map((m) => JSON.parse(m) as { jobId: string; workspace: string; reason?: string }).sort((a, b) => a.workspace.localeCompare(b.workspace) || a.jobId.localeCompare(b.jobId));
    return { count: jobs.length, jobs: jobs.slice(0, MAX_LISTED) };
  }

  /**
   * Failed pushes (`push` activity with `ok: false`) per destination: each destination that
   * declares `pushActivity` (named by its label, listed even with none), then any other with one.
   */
  private async pushFailures(day: string): Promise<PushFailures[]> {
    const declared = this.deps.pushActivity ?? {};
    const out = new Map<string, PushFailures>(Object.entries(declared).map(([destination, p]) => [destination, { destination, label: p.label, count: 0, records: [] }]));
    const { from, to } = dayRange(day);
    const rows = await this.deps.store.models.Activity.find({ action: 'push', at: { $gte: from, $lt: to } }, { workspace: 1, subject: 1, detailJson: 1, at: 1 }).sort({ at: 1 }).lean();
    for (const r of rows) {
      const detail = parseDetail(r.detailJson);
      if (typeof detail?.destination !== 'string' || detail.ok !== false) continue;
      const entry = out.get(detail.destination) ?? { destination: detail.destination, label: detail.destination, count: 0, records: [] };
      out.set(detail.destination, entry);
      entry.count++;
      if (entry.records.length >= MAX_LISTED) continue;
      entry.records.push({
        workspace: r.workspace,
        subject: r.subject,
        error: typeof detail.error === 'string' ? detail.error : '',
        ...(detail.objectId !== undefined ? { objectId: String(detail.objectId) } : {}),
        at: new Date(r.at).toISOString(),
      });
    }
    return [...out.values()];
  }

  /** Spend per day and provider for the `days` days ending with `endDay` (oldest first). */
  async spendSeries(endDay: string, days: number): Promise<SpendSeries> {
    const list = previousDays(endDay, days);
    const rows = await groupSums(this.deps.store.models.Ledger, { day: { $in: list } }, { day: 'day', provider: 'provider' }, { costUsd: 'costUsd' });
    const providers = [...new Set(rows.filter((r) => r.costUsd > 0).map((r) => r.provider))].sort();
    const usd: Record<string, number[]> = Object.fromEntries(providers.map((p) => [p, list.map(() => 0)]));
    for (const r of rows) if (usd[r.provider]) usd[r.provider]![list.indexOf(r.day)] = round6(r.costUsd);
    return { days: list, providers, usd, capUsd: this.deps.config.spendCaps.dailyUsd };
  }

  async queueHealth(): Promise<QueueHealth> {
    const h = await this.deps.queue.bee.checkHealth();
    return { waiting: h.waiting, active: h.active, delayed: h.delayed, failed: h.failed, succeeded: h.succeeded };
  }

  /** Providers whose breaker refused calls since `since`, with the latest error before it opened. */
  async providerOutages(since: Date): Promise<ProviderOutage[]> {
    const { Ledger } = this.deps.store.models;
    const rows = await groupSums(Ledger, { outcome: 'circuit_open', at: { $gte: since } }, { provider: 'provider' }, { refused: 1 });
    const out: ProviderOutage[] = [];
    for (const r of rows.sort((a, b) => a.provider.localeCompare(b.provider))) {
      const last = await Ledger.findOne({ provider: r.provider, outcome: FAILED, at: { $gte: new Date(since.getTime() - 3600_000) } }, { error: 1, errorKind: 1 }).sort({ at: -1 }).lean();
      out.push({ provider: r.provider, refused: r.refused, ...(last?.error ? { lastError: last.error } : {}), ...(last?.errorKind ? { lastErrorKind: last.errorKind } : {}) });
    }
    return out;
  }

  /** `{ status, error, at }` per provider for one job: its last ledger row for each provider. */
  async providerStatus(jobId: string, workspace?: string): Promise<Record<string, ProviderStatusRecord>> {
    const rows = await this.deps.store.models.Ledger.find({ jobId, ...(workspace ? { workspace } : {}) }, { provider: 1, outcome: 1, error: 1, at: 1, httpStatus: 1 }).sort({ at: 1 }).lean();
    const out: Record<string, ProviderStatusRecord> = {};
    for (const r of rows) {
      out[r.provider] = { status: r.outcome as ProviderStatusRecord['status'], ...(r.error ? { error: r.error } : {}), ...(r.httpStatus ? { httpStatus: r.httpStatus } : {}), at: new Date(r.at).toISOString() };
    }
    return out;
  }
}
