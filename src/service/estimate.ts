// What a batch would cost, before it runs and without a paid call: rows that are duplicates or
// whose record is fresh cost nothing, provider answers still in the cache cost nothing, and for
// the rest each field group's waterfall is priced from the configured prices, `missCharged` and
// each provider's hit rate in this workspace's ledger (last 30 days). Expected cost walks the
// waterfall: a provider is reached with the chance that every one before it missed. Worst case
// pays every provider that could run, at its configured price. Reads are a few scans per
// workspace (records, cached answers, ledger sums), never one query per row.
import type { Config } from '../config/schema.js';
import type { Models } from '../store/models.js';
import { cacheId, recordId } from '../store/models.js';
import type { ServiceModels } from '../store/service-models.js';
import type { Clock } from '../clock.js';
import { utcDay } from '../clock.js';
import { groupSums } from '../store/group-sums.js';
import { EnrichRequestSchema } from '../engine/types.js';
import { identityOfInput, type Identity, type StructuredInput } from '../engine/identity.js';
import { FIELD_GROUPS, type FieldGroup, type Subject } from '../engine/fields.js';
import { groupsToRun } from '../engine/engine.js';
import { planFromRecord } from '../engine/freshness.js';
import { operationFor } from '../engine/waterfall.js';
import { inputKeys } from '../engine/call-identity.js';
import { jobIdFor } from '../queue/enrich-queue.js';
import type { ProviderRuntime } from '../engine/provider-call.js';
import type { SpendCap } from '../engine/spend-cap.js';
import type { InputKey, LookupInput, LookupResult } from '../plugin/contract.js';
import type { BatchEstimate, CapShare, GroupEstimate, ProviderRate } from '../plugin/batch-estimate.js';

export type { BatchEstimate };

/**
 * With no history a provider is taken to answer half the time: Laplace's rule, (hits + 1) /
 * (calls + 2), which moves toward the observed rate as calls accumulate.
 */
export const HIT_RATE_PRIOR = 0.5;
const HISTORY_DAYS = 30;

export interface EstimateDeps {
  config: Config;
  models: Models;
  providers: Map<string, ProviderRuntime>;
  spendCap: SpendCap;
  clock: Clock;
}

export interface EstimateOptions {
  workspace: string;
  refresh?: boolean;
  groups?: FieldGroup[];
}

/** Which lookup input a known field provides (as stored on a record, or returned by a provider). */
const INPUT_OF: Record<string, InputKey> = {
  'person.workEmail': 'workEmail',
  'person.personalEmail': 'personalEmail',
  'person.firstName': 'firstName',
  'person.lastName': 'lastName',
  'person.fullName': 'fullName',
  'person.title': 'title',
  'person.linkedinUrl': 'linkedinUrl',
  'person.companyDomain': 'domain',
  'person.companyName': 'companyName',
  'company.domain': 'domain',
  'company.name': 'companyName',
  'company.linkedinUrl': 'companyLinkedinUrl',
  'company.ticker': 'ticker',
  'company.secCik': 'secCik',
};

type Fields = Record<string, { value?: unknown; provider?: string }>;
interface RecordSlim {
  enrichedAt?: Date | null;
  dueGroups?: string[] | null;
  fields: Fields;
}
interface CacheSlim {
  outcome: string;
  result?: LookupResult;
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
const plainFields = (f: unknown): Fields => (f instanceof Map ? Object.fromEntries(f) : ((f ?? {}) as Fields));

/** What the pricing of one batch reads and gathers as it walks the rows. */
interface Pricing {
  config: Config;
  providers: Map<string, ProviderRuntime>;
  options: EstimateOptions;
  now: Date;
  people: Map<string, RecordSlim>;
  companies: Map<string, RecordSlim>;
  cache: Map<string, CacheSlim>;
  rates: Map<string, { hitRate: number; calls: number }>;
  groups: Map<FieldGroup, GroupEstimate>;
  seenJobs: Set<string>;
  /** A company's groups run once per batch: later rows about it find the first one's answers cached. */
  seenCompanyGroups: Set<string>;
  usedRates: Map<string, ProviderRate>;
}

/** One row to enrich: what is known about it, and what a provider could be given. */
interface Row {
  identity: Identity;
  refresh: boolean;
  given: Map<string, unknown>;
  person: Fields;
  company: Fields;
  /** Inputs a provider might have by the time it runs: what is given or stored, and what earlier groups may return. */
  available: Set<string>;
  lookup: LookupInput;
  subjectKeys: Record<Subject, string | undefined>;
}

export async function estimateBatch(deps: EstimateDeps, items: (string | StructuredInput)[], options: EstimateOptions): Promise<BatchEstimate> {
  const pricing = await startPricing(deps, options);
  const est: BatchEstimate = {
    workspace: options.workspace, rows: items.length, rejected: 0, duplicates: 0, fresh: 0, toRun: 0, groups: [], expectedUsd: 0, worstUsd: 0, providers: [],
    workspaceCap: emptyShare(), globalCap: emptyShare(),
  };
  for (const item of items) priceRow(pricing, est, item);
  const groups = [...pricing.groups.values()];
  est.groups = groups.map((g) => ({ ...g, expectedUsd: round(g.expectedUsd), worstUsd: round(g.worstUsd) }));
  est.expectedUsd = round(groups.reduce((s, g) => s + g.expectedUsd, 0));
  est.worstUsd = round(groups.reduce((s, g) => s + g.worstUsd, 0));
  est.providers = [...pricing.usedRates.values()].sort((a, b) => a.provider.localeCompare(b.provider));
  const caps = deps.spendCap.capFor(options.workspace);
  const [wsSpent, globalSpent] = await Promise.all([deps.spendCap.spentToday(options.workspace), deps.spendCap.spentToday()]);
  est.workspaceCap = share(caps.workspace, wsSpent, est);
  est.globalCap = share(caps.global, globalSpent, est);
  return est;
}

/** The workspace read once: records, cached answers and hit rates. */
async function startPricing(deps: EstimateDeps, options: EstimateOptions): Promise<Pricing> {
  const { config, models, providers, clock } = deps;
  const now = clock.now();
  const [people, companies, cache, rates] = await Promise.all([
    loadRecords(models.Person, options.workspace),
    loadRecords(models.Company, options.workspace),
    loadCache(models, options.workspace, now),
    hitRates(models, options.workspace, now),
  ]);
  return { config, providers, options, now, people, companies, cache, rates, groups: new Map(), seenJobs: new Set(), seenCompanyGroups: new Set(), usedRates: new Map() };
}

/** One row: rejected, a duplicate, fresh, or priced group by group. */
function priceRow(pricing: Pricing, est: BatchEstimate, item: string | StructuredInput): void {
  const { config, options, now } = pricing;
  const { workspace } = options;
  const parsed = EnrichRequestSchema.safeParse({ workspace, input: item, refresh: options.refresh ?? false, groups: options.groups });
  let identity: Identity;
  try {
    if (!parsed.success) throw new Error('invalid');
    identity = identityOfInput(parsed.data.input);
  } catch {
    est.rejected++;
    return;
  }
  const request = parsed.data;
  const jobId = jobIdFor(request, identity);
  if (pricing.seenJobs.has(jobId)) {
    est.duplicates++;
    return;
  }
  pricing.seenJobs.add(jobId);
  const companyKey = identity.company?.domain ? `company:${identity.company.domain}` : identity.subject === 'company' ? identity.key : undefined;
  const main = identity.subject === 'person' ? pricing.people.get(recordId(workspace, identity.key)) : companyKey ? pricing.companies.get(recordId(workspace, companyKey)) : undefined;
  const plan = planFromRecord(main ?? null, groupsToRun(config, identity, request), request, now, config.engine.recordFreshnessDays);
  if (plan.fromRecord) {
    est.fresh++;
    return;
  }
  est.toRun++;
  const row = rowOf(identity, request.refresh, main, companyKey ? pricing.companies.get(recordId(workspace, companyKey)) : undefined);
  for (const group of plan.groups) priceGroup(pricing, row, group);
}

function rowOf(identity: Identity, refresh: boolean, main: RecordSlim | undefined, companyRecord: RecordSlim | undefined): Row {
  const person: Fields = identity.subject === 'person' ? { ...(main?.fields ?? {}) } : {};
  const company: Fields = { ...(companyRecord?.fields ?? {}) };
  const given = seedKnown(identity);
  const available = new Set<string>([...given.keys(), ...[...Object.keys(person).map((k) => `person.${k}`), ...Object.keys(company).map((k) => `company.${k}`)]].map((f) => INPUT_OF[f]).filter(Boolean));
  const lookup: LookupInput = Object.fromEntries([...given].filter(([f]) => INPUT_OF[f]).map(([f, v]) => [INPUT_OF[f], v]));
  const subjectKeys: Record<Subject, string | undefined> = {
    person: identity.subject === 'person' ? identity.key : undefined,
    company: identity.subject === 'company' ? identity.key : identity.company?.domain ? `company:${identity.company.domain}` : identity.company?.name ? `company:name:${identity.company.name.toLowerCase()}` : undefined,
  };
  return { identity, refresh, given, person, company, available, lookup, subjectKeys };
}

/** One field group of one row: skipped when known or already run for its company, else its waterfall walked. */
function priceGroup(pricing: Pricing, row: Row, group: FieldGroup): void {
  const { identity, given, available, subjectKeys } = row;
  const def = FIELD_GROUPS[group];
  const subject = def.subject;
  if (subject === 'company' && !available.has('domain') && !available.has('companyName') && !available.has('companyLinkedinUrl')) return;
  const fields = subject === 'person' ? row.person : row.company;
  const stopFields = def.stopFields as readonly string[];
  const known = stopFields.every((f) => given.has(f) || (fields[f.slice(subject.length + 1)] && !row.refresh));
  if (known) return;
  if (subject === 'company' && identity.subject === 'person') {
    const once = `${group}|${subjectKeys.company ?? identity.key}`;
    if (pricing.seenCompanyGroups.has(once)) return;
    pricing.seenCompanyGroups.add(once);
  }
  const g = pricing.groups.get(group) ?? { group, rows: 0, cachedAnswers: 0, paidCalls: 0, expectedUsd: 0, worstUsd: 0 };
  pricing.groups.set(group, g);
  g.rows++;
  walkWaterfall(pricing, row, group, g);
}

/**
 * The group's providers in order: a cached answer is free (and may stop the walk), a paid call
 * adds its price to the worst case and, reached with the chance every one before missed, to the
 * expected cost.
 */
function walkWaterfall(pricing: Pricing, row: Row, group: FieldGroup, g: GroupEstimate): void {
  const { config, providers, cache, options } = pricing;
  const def = FIELD_GROUPS[group];
  const subject = def.subject;
  const stopFields = def.stopFields as readonly string[];
  const keys = [...new Set([row.subjectKeys[subject], ...inputKeys(row.lookup, subject)].filter((k): k is string => !!k))];
  let reach = 1;
  for (const id of config.waterfalls[group] ?? []) {
    const provider = providers.get(id);
    if (!provider?.enabled) continue;
    const op = operationFor(provider, group).find((o) => o.needs.some((set) => set.every((k) => row.available.has(k))));
    if (!op) continue;
    for (const f of op.returns) if (INPUT_OF[f]) row.available.add(INPUT_OF[f]);
    const cached = keys.map((k) => cache.get(cacheId(options.workspace, id, op.name, k))).find(Boolean);
    if (cached) {
      g.cachedAnswers++;
      if (!('collect' in def) && stops(cached.result, stopFields, config.engine.minConfidence)) reach = 0;
      continue;
    }
    const price = provider.cost(op.name);
    if (price.usd <= 0) continue;
    const rate = pricing.rates.get(`${id}|${op.name}`) ?? { hitRate: HIT_RATE_PRIOR, calls: 0 };
    pricing.usedRates.set(id, { provider: id, hitRate: rate.hitRate, calls: rate.calls });
    g.paidCalls++;
    g.worstUsd += price.usd;
    g.expectedUsd += reach * (rate.hitRate * price.usd + (1 - rate.hitRate) * (price.missCharged ? price.usd : 0));
    if (!('collect' in def)) reach *= 1 - rate.hitRate;
  }
}

function emptyShare(): CapShare {
  return { capUsd: null, spentTodayUsd: 0, expectedShare: null, worstShare: null };
}

function share(capUsd: number | null, spent: number, est: BatchEstimate): CapShare {
  if (capUsd === null) return { capUsd, spentTodayUsd: spent, expectedShare: null, worstShare: null };
  const of = (usd: number) => (capUsd > 0 ? usd / capUsd : usd > 0 ? Infinity : 0);
  return { capUsd, spentTodayUsd: spent, expectedShare: of(est.expectedUsd), worstShare: of(est.worstUsd) };
}

/** Field paths the user's input gives (they count as known, refresh or not). */
function seedKnown(identity: Identity): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(identity.person ?? {})) if (v) out.set(`person.${k}`, v);
  if (identity.company?.domain) out.set('company.domain', identity.company.domain);
  if (identity.company?.name) out.set('company.name', identity.company.name);
  if (identity.company?.linkedinUrl) out.set('company.linkedinUrl', identity.company.linkedinUrl);
  return out;
}

function stops(result: LookupResult | undefined, stopFields: readonly string[], minConfidence: number): boolean {
  if (result?.outcome !== 'matched' || result.confidence < minConfidence) return false;
  const f = result.fields as Record<string, unknown>;
  return stopFields.some((k) => f[k] !== undefined && f[k] !== null && f[k] !== '');
}

async function loadRecords(model: Models['Person'], workspace: string): Promise<Map<string, RecordSlim>> {
  const docs = await model.find({ workspace }, { enrichedAt: 1, dueGroups: 1, fields: 1 }).lean();
  return new Map(docs.map((d) => [String(d._id), { enrichedAt: d.enrichedAt as Date | null, dueGroups: d.dueGroups as string[] | null, fields: plainFields(d.fields) }]));
}

async function loadCache(models: Models, workspace: string, now: Date): Promise<Map<string, CacheSlim>> {
  const docs = await models.Cache.find({ workspace, expireAt: { $gt: now } }, { outcome: 1, resultJson: 1 }).lean();
  return new Map(docs.map((d) => [String(d._id), { outcome: d.outcome, result: d.outcome === 'matched' ? (JSON.parse(d.resultJson) as LookupResult) : undefined }]));
}

async function hitRates(models: Models, workspace: string, now: Date): Promise<Map<string, { hitRate: number; calls: number }>> {
  const since = utcDay(new Date(now.getTime() - HISTORY_DAYS * 86400_000));
  const rows = await groupSums(models.Ledger, { workspace, day: { $gte: since }, outcome: { $in: ['matched', 'no_match'] } }, { provider: 'provider', operation: 'operation', outcome: 'outcome' }, { calls: 1 });
  const tally = new Map<string, { hits: number; calls: number }>();
  for (const r of rows) {
    const t = tally.get(`${r.provider}|${r.operation}`) ?? { hits: 0, calls: 0 };
    t.calls += r.calls;
    if (r.outcome === 'matched') t.hits += r.calls;
    tally.set(`${r.provider}|${r.operation}`, t);
  }
  return new Map([...tally].map(([k, t]) => [k, { hitRate: (t.hits + 1) / (t.calls + 2), calls: t.calls }]));
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const pct = (n: number | null) => (n === null ? 'no cap' : n === Infinity ? 'cap is $0' : `${Math.round(n * 100)} %`);

/** The estimate as text: one line per field group and a total, with the caps' shares. */
export function formatEstimate(est: BatchEstimate): string {
  const lines = [`Estimate for ${est.rows} rows (no provider was asked):`];
  lines.push(`  free: ${est.duplicates} duplicates, ${est.fresh} fresh records${est.rejected ? `, ${est.rejected} rejected` : ''}; ${est.toRun} rows to enrich`);
  for (const g of est.groups) {
    lines.push(`  ${g.group.padEnd(16)} ${String(g.rows).padStart(6)} rows  ${String(g.cachedAnswers).padStart(6)} cached answers  expected ${usd(g.expectedUsd).padStart(9)}  at most ${usd(g.worstUsd).padStart(9)}`);
  }
  lines.push(`  total: expected ${usd(est.expectedUsd)}, at most ${usd(est.worstUsd)}`);
  const capLine = (name: string, c: CapShare) =>
    c.capUsd === null ? `  ${name}: no daily cap` : `  ${name} daily cap ${usd(c.capUsd)} (${usd(c.spentTodayUsd)} spent today): expected ${pct(c.expectedShare)}, at most ${pct(c.worstShare)} of it`;
  lines.push(capLine(`workspace ${est.workspace}`, est.workspaceCap), capLine('global', est.globalCap));
  if (est.providers.length) {
    lines.push(`  hit rates: ${est.providers.map((p) => `${p.provider} ${Math.round(p.hitRate * 100)} %${p.calls ? ` (${p.calls} calls)` : ' (no history: prior)'}`).join(', ')}`);
  }
  return lines.join('\n');
}

/**
 * Keeps the estimate on the batch record with one `$set` of its own field: the batch's actual
 * cost (`costUsd`) sits beside it, so the summary and the digest can compare them.
 */
export async function keepEstimate(models: Models & ServiceModels, batchId: string, est: BatchEstimate): Promise<void> {
  const estimate = { expectedUsd: est.expectedUsd, worstUsd: est.worstUsd, rows: est.rows, duplicates: est.duplicates, fresh: est.fresh, groups: est.groups };
  await models.Batch.updateOne({ _id: batchId }, { $set: { estimate } });
}
