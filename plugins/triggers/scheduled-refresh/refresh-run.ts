// One run of the scheduled re-enrichment: per opted-in workspace, its records older than
// `olderThanDays`, oldest first, enriched again one at a time while the workspace's own daily
// budget allows. A job starts only if what it is expected to cost (the dearest job of this run so
// far) still fits. Nothing is paid twice within a provider's freshness window: the engine answers
// those calls from its cache at $0; the spend caps still apply on top.
import type { EnrichService, Logger } from '../../../src/sdk/index.js';
import type { Redis } from 'ioredis';

export interface WorkspacePlan {
  dailyBudgetUsd: number;
  maxRecords: number;
}

export interface RefreshRunDeps {
  service: EnrichService;
  /** The plugin's own prefixed Redis: the day's spend per workspace. */
  redis: Redis;
  logger: Logger;
  trigger: string;
  olderThanDays: number;
  workspaces: Record<string, WorkspacePlan>;
  waitMs: number;
}

export interface WorkspaceRun {
  workspace: string;
  refreshed: string[];
  spentUsd: number;
  /** Why it stopped before the list ended: "budget", "paused" (a spend cap), "error". */
  stopped?: string;
}

const DAY_MS = 86_400_000;
const spentKey = (workspace: string, day: string) => `spent:${workspace}:${day}`;
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

export async function runScheduledRefresh(deps: RefreshRunDeps, now: Date): Promise<WorkspaceRun[]> {
  const day = now.toISOString().slice(0, 10);
  const runs: WorkspaceRun[] = [];
  for (const [workspace, plan] of Object.entries(deps.workspaces)) {
    // The day's spend and dearest job so far, kept across runs of the same day (a restart, a rerun).
    const kept = JSON.parse((await deps.redis.get(spentKey(workspace, day))) ?? '{"spent":0,"dearest":0}') as { spent: number; dearest: number };
    const run: WorkspaceRun = { workspace, refreshed: [], spentUsd: kept.spent };
    runs.push(run);
    const due = await deps.service.ageingRecords(workspace, new Date(now.getTime() - deps.olderThanDays * DAY_MS), plan.maxRecords);
    let dearest = kept.dearest;
    for (const rec of due) {
      if (run.spentUsd + dearest > plan.dailyBudgetUsd || run.spentUsd >= plan.dailyBudgetUsd) {
        run.stopped = 'budget';
        break;
      }
      try {
        // refresh: known fields are asked again; answers within a provider's freshness window come from its cache at $0.
        const asked = await deps.service.submit({ workspace, input: rec.subject, refresh: true, actor: deps.trigger }, { trigger: deps.trigger, address: {} });
        const result = await deps.service.waitFor(asked.jobId, deps.waitMs);
        run.spentUsd = round6(run.spentUsd + result.costUsd);
        dearest = Math.max(dearest, result.costUsd);
        await deps.redis.set(spentKey(workspace, day), JSON.stringify({ spent: run.spentUsd, dearest }), 'EX', 3 * 86_400);
        run.refreshed.push(rec.subject);
        if (result.status === 'paused') {
          run.stopped = 'paused';
          break;
        }
      } catch (err) {
        deps.logger.warn({ err, workspace, subject: rec.subject }, 'scheduled re-enrichment stopped for this workspace today');
        run.stopped = 'error';
        break;
      }
    }
    deps.logger.info({ workspace, refreshed: run.refreshed.length, spentUsd: run.spentUsd, stopped: run.stopped }, 'scheduled re-enrichment done');
  }
  return runs;
}
