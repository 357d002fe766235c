// The digest's spend-foresight lines (issue 20): each provider balance with the days it lasts at
// the last 7 days' spend rate, estimate vs actual for the batches finished that day, and the cost
// per deliverable email by provider. Reads only stored facts (settings, batches, records, ledger);
// sums are single-accumulator groups (FerretDB 1.24).
import type { Models } from '../store/models.js';
import type { ServiceModels } from '../store/service-models.js';
import { recordId } from '../store/models.js';
import { groupSums } from '../store/group-sums.js';
import type { DailyReport } from '../plugin/service.js';

type AllModels = Models & ServiceModels;
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;
const MAX_LISTED = 20;
const RATE_DAYS = 7;
const BALANCE_PREFIX = 'provider-balance:';

const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);
const dayAfter = (day: string, n: number) => new Date(dayStart(day).getTime() + n * 86400_000).toISOString().slice(0, 10);

/** Balances as last read (settings `provider-balance:<id>`), each with its days left at the 7-day rate ending `day`. */
export async function balancesWithDaysLeft(models: AllModels, day: string): Promise<DailyReport['balances']> {
  // A range on the string _id reads exactly the balance settings, without a regex.
  const docs = await models.Setting.find({ _id: { $gte: BALANCE_PREFIX, $lt: `${BALANCE_PREFIX}\uffff` } }).lean();
  const rows = docs
    .map((d) => {
      try {
        return JSON.parse(d.value) as { provider: string; status: string; credits?: number; usdPerCredit?: number; usd?: number; at?: string; floor?: number };
      } catch {
        return undefined;
      }
    })
    .filter((r): r is NonNullable<typeof r> => !!r && r.status === 'ok' && typeof r.credits === 'number')
    .sort((a, b) => a.provider.localeCompare(b.provider));
  if (!rows.length) return [];
  const from = dayAfter(day, -(RATE_DAYS - 1));
  const spent = await groupSums(models.Ledger, { day: { $gte: from, $lte: day }, provider: { $in: rows.map((r) => r.provider) } }, { provider: 'provider' }, { costUsd: 'costUsd' });
  const spentOf = new Map(spent.map((s) => [s.provider, s.costUsd]));
  return rows.map((r) => {
    const balanceUsd = r.usd ?? (r.usdPerCredit !== undefined ? r.credits! * r.usdPerCredit : null);
    const perDayUsd = round6((spentOf.get(r.provider) ?? 0) / RATE_DAYS);
    // Days left need the balance in USD (the ledger counts dollars) and some recent spend.
    const daysLeft = balanceUsd === null || perDayUsd <= 0 ? null : Math.floor((balanceUsd / perDayUsd) * 10) / 10;
    return {
      provider: r.provider,
      credits: r.credits!,
      usd: balanceUsd === null ? null : round6(balanceUsd),
      perDayUsd,
      daysLeft,
      at: r.at ?? '',
      low: r.floor !== undefined && r.credits! < r.floor,
    };
  });
}

/** Batches finished on `day` that kept an estimate: expected and worst case against what they cost. */
export async function batchEstimatesOf(models: AllModels, day: string): Promise<DailyReport['batchEstimates']> {
  const from = dayStart(day);
  const to = dayStart(dayAfter(day, 1));
  const docs = await models.Batch.find({ finishedAt: { $gte: from, $lt: to } }, { workspace: 1, label: 1, costUsd: 1, estimate: 1, finishedAt: 1 }).sort({ finishedAt: 1 }).lean();
  const withEstimate = docs.filter((d) => d.estimate && typeof (d.estimate as { worstUsd?: unknown }).worstUsd === 'number');
  const batches = withEstimate.slice(0, MAX_LISTED).map((d) => {
    const e = d.estimate as { expectedUsd: number; worstUsd: number };
    return { batchId: String(d._id), workspace: d.workspace, ...(d.label ? { label: d.label } : {}), expectedUsd: e.expectedUsd, worstUsd: e.worstUsd, actualUsd: round6(d.costUsd ?? 0) };
  });
  return { count: withEstimate.length, batches };
}

/**
 * Cost per deliverable email by provider: its paid calls that day over the work emails it found
 * that day whose status is `valid` at a company not known as catch-all. A provider that found
 * none shows its spend and null.
 */
export async function costPerDeliverable(models: AllModels, day: string): Promise<DailyReport['deliverableEmails']> {
  // Paid calls are the ledger rows with a charge (a free miss or a refused call is not one).
  const paid = await groupSums(models.Ledger, { day, costUsd: { $gt: 0 } }, { provider: 'provider' }, { calls: 1, costUsd: 'costUsd' });
  const people = await models.Person.find({ enrichedDay: day }, { workspace: 1, fields: 1, companyKey: 1 }).lean();
  const from = dayStart(day).getTime();
  const to = from + 86400_000;
  type F = Record<string, { value?: unknown; provider?: string; fetchedAt?: string | Date }>;
  const plain = (f: unknown): F => (f instanceof Map ? Object.fromEntries(f) : ((f ?? {}) as F));
  const found = people
    .map((p) => ({ workspace: p.workspace, companyKey: p.companyKey ?? undefined, fields: plain(p.fields) }))
    .filter((p) => {
      const email = p.fields.workEmail;
      const at = email?.fetchedAt ? new Date(email.fetchedAt).getTime() : NaN;
      return !!email?.provider && at >= from && at < to && p.fields.workEmailStatus?.value === 'valid';
    });
  const companyIds = [...new Set(found.filter((p) => p.companyKey).map((p) => recordId(p.workspace, p.companyKey!)))];
  const companies = companyIds.length ? await models.Company.find({ _id: { $in: companyIds } }, { fields: 1 }).lean() : [];
  const catchAll = new Set(companies.filter((c) => plain(c.fields).emailCatchAll?.value === true).map((c) => String(c._id)));
  const deliverable = new Map<string, number>();
  for (const p of found) {
    if (p.companyKey && catchAll.has(recordId(p.workspace, p.companyKey))) continue;
    const provider = p.fields.workEmail!.provider!;
    deliverable.set(provider, (deliverable.get(provider) ?? 0) + 1);
  }
  const names = [...new Set([...paid.filter((p) => p.costUsd > 0).map((p) => p.provider), ...deliverable.keys()])].sort();
  return names.map((provider) => {
    const spend = paid.find((p) => p.provider === provider);
    const n = deliverable.get(provider) ?? 0;
    const costUsd = round6(spend?.costUsd ?? 0);
    return { provider, paidCalls: spend?.calls ?? 0, costUsd, deliverable: n, costPerDeliverableUsd: n ? round6(costUsd / n) : null };
  });
}
