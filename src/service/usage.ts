// A workspace's usage over a range of UTC days, from the cost ledger: per day and provider the
// calls actually made (matched, no match, error: as the digest counts them, cached answers
// apart), the hits (matched) and the spend (every row's cost, pending and lost reservations
// included, as spend caps count them). Two aggregations for the whole range, not one per day.
import type { Store } from '../store/store.js';
import { groupSums } from '../store/group-sums.js';
import type { UsageReport, UsageRow } from '../plugin/service.js';

const CALLED = new Set(['matched', 'no_match', 'error']);
const DAY_MS = 86_400_000;
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

const emptyRow = (provider: string): UsageRow => ({ provider, calls: 0, hits: 0, cached: 0, costUsd: 0 });

function add(row: UsageRow, outcome: string, calls: number, costUsd: number): void {
  if (CALLED.has(outcome)) row.calls += calls;
  if (outcome === 'matched') row.hits += calls;
  if (outcome === 'cached') row.cached += calls;
  row.costUsd = round6(row.costUsd + costUsd);
}

const byCost = (a: UsageRow, b: UsageRow) => b.costUsd - a.costUsd || a.provider.localeCompare(b.provider);

/** `from` and `to` are YYYY-MM-DD, both included. */
export async function workspaceUsage(store: Store, workspace: string, from: string, to: string): Promise<UsageReport> {
  const rows = await groupSums(store.models.Ledger, { workspace, day: { $gte: from, $lte: to } }, { day: 'day', provider: 'provider', outcome: 'outcome' }, { costUsd: 'costUsd', calls: 1 });
  const perDay = new Map<string, Map<string, UsageRow>>();
  const totals = new Map<string, UsageRow>();
  for (const r of rows) {
    const day = perDay.get(r.day) ?? new Map<string, UsageRow>();
    perDay.set(r.day, day);
    const row = day.get(r.provider) ?? emptyRow(r.provider);
    day.set(r.provider, row);
    add(row, r.outcome, r.calls, r.costUsd);
    const total = totals.get(r.provider) ?? emptyRow(r.provider);
    totals.set(r.provider, total);
    add(total, r.outcome, r.calls, r.costUsd);
  }
  const days: UsageReport['days'] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    const providers = [...(perDay.get(day)?.values() ?? [])].sort(byCost);
    days.push({ day, costUsd: round6(providers.reduce((s, p) => s + p.costUsd, 0)), providers });
  }
  const byProvider = [...totals.values()].sort(byCost);
  return { workspace, from, to, costUsd: round6(byProvider.reduce((s, p) => s + p.costUsd, 0)), byProvider, days };
}
