// The enrichment engine: one request in, merged records and an account of every provider out.
// identity -> fresh record? -> field-group waterfalls (in configured order, each group's answers
// feeding the next group's input) -> merge with provenance -> records saved -> JobResult.
// Engine.run is that list of phases; each phase is a method below, sharing one RunState.
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { LookupInput } from '../plugin/contract.js';
import type { Lease } from '../plugin/service.js';
import { recordId, type Models, type RecordDoc } from '../store/models.js';
import { nextUtcMidnight, type Clock } from '../clock.js';
import { FIELD_GROUPS, type FieldGroup, type Subject } from './fields.js';
import { identityOfInput, normalizeDomain, registrableDomain, type Identity } from './identity.js';
import { runWaterfall, type Contribution, type WaterfallRun } from './waterfall.js';
import { joinCandidates, verifyCandidates } from './lookalikes.js';
import { bestCandidates, planMerge, MANUAL_PROVIDER } from './merge.js';
import { dueAfter, planFromRecord, type RecordPlan } from './freshness.js';
import { catchAllFacts, catchAllSkip, emailAtCompany, knowsDomain, probeDomain, renewAgedFact, type DomainLeases } from './catch-all.js';
import { mentionScreen } from './mention-screen.js';
import { detectJobChange, fieldsMovedBy } from './job-change.js';
import { knownValues, lookupInput, newSeeds, seedFields, toPlainFields, val, type Fields } from './run-fields.js';
import { saveRecord } from './record-write.js';
import type { BudgetRef } from './request-budget.js';
import type { CallResult, CallServices, ProviderRuntime } from './provider-call.js';
import type { EnrichRequest, JobChange, JobResult, ProviderOutcome, RecordView, StoredField } from './types.js';

export { toPlainFields } from './run-fields.js';

export interface EngineDeps {
  config: Config;
  store: Store;
  logger: Logger;
  clock: Clock;
  providers: Map<string, ProviderRuntime>;
  services: CallServices;
  /** Redis leases: the first verification at an unknown domain goes alone (catch-all.ts). */
  leases?: DomainLeases;
}

export interface RunOptions {
  jobId: string;
  /** The job's run and this attempt at it (the runner's claim): they key the ledger's pending rows. */
  run?: number;
  attempt?: number;
  signal?: AbortSignal;
  shouldStop?: () => Promise<boolean>;
}

/** Groups a request runs for its subject, in configured order (the estimate plans with the same). */
export function groupsToRun(config: Pick<Config, 'waterfalls'>, identity: Identity, request: Pick<EnrichRequest, 'groups'>): FieldGroup[] {
  const configured = Object.keys(config.waterfalls).filter((g): g is FieldGroup => g in FIELD_GROUPS);
  const wanted = request.groups ? configured.filter((g) => request.groups!.includes(g)) : configured.filter((g) => !('onRequest' in FIELD_GROUPS[g]));
  return wanted.filter((g) => FIELD_GROUPS[g].subject === identity.subject || (identity.subject === 'person' && FIELD_GROUPS[g].subject === 'company'));
}

/** One run, as its phases share it: what was asked, what is stored, and what the groups found. */
interface RunState {
  request: EnrichRequest;
  opts: RunOptions;
  identity: Identity;
  workspace: string;
  now: Date;
  signal: AbortSignal;
  /** This execution of the job, "<jobId>#<run>.<attempt>" (the ledger's idempotency keys). */
  runTag: string;
  /** The request's maxCostUsd and the counter it spends against. */
  budget?: BudgetRef;
  /** Whom each group's calls are about (see subjectKeys). */
  subjectKeys: Record<Subject, string | undefined>;
  seeds: { person: Fields; company: Fields };
  /** The company record the request names, if it names one. */
  companyKey?: string;
  personDoc: RecordDoc | null;
  companyDoc: RecordDoc | null;
  plan: RecordPlan;
  /** What the run knows so far: given, stored, and each answer merged in as it comes. */
  person: Fields;
  company: Fields;
  outcomes: ProviderOutcome[];
  /** Answers by the subject of the group that gave them. */
  personContribs: Contribution[];
  companyContribs: Contribution[];
  /** What stops the groups still to run: the spend cap (the job pauses), the budget, a cancel. */
  pausedBy?: { scope: string; capUsd: number };
  budgetStop?: { maxUsd: number; spentUsd: number };
  cancelled: boolean;
  /** Answers already given in this run, by provider and operation (see WaterfallRequest.answered). */
  answered: Map<string, CallResult>;
  /** Groups this run saw through, and those of them a provider could not answer (still due). */
  finished: Set<FieldGroup>;
  failed: Set<FieldGroup>;
  /** A catch-all fact another job filed while this one waited for it (catch-all.ts). */
  learnt?: StoredField;
}

/** What the final merge writes, and to which company record. */
interface RunWrites {
  /** The company the request names, or the one a person's answers revealed. */
  companyKey?: string;
  storedPerson: Fields;
  storedCompany: Fields;
  person: Fields;
  company: Fields;
  jobChange?: JobChange;
}

/** How the run ended. */
interface RunEnd {
  status: JobResult['status'];
  /** Every provider that was asked failed. */
  allErrored: boolean;
  /** The record's new age: only a complete run of all its groups renews it. */
  enrichedAt?: Date;
  dueGroups: string[];
}

/** A catch-all probe's verdict (catch-all.ts probeDomain). */
type Probe = { skip?: string; lease?: Lease; learnt?: StoredField };

export class Engine {
  constructor(private readonly deps: EngineDeps) {}

  private get models(): Models {
    return this.deps.store.models;
  }

  /** Groups to run for a subject, in configured order. */
  groupsFor(identity: Identity, request: EnrichRequest): FieldGroup[] {
    return groupsToRun(this.deps.config, identity, request);
  }

  async run(request: EnrichRequest, opts: RunOptions): Promise<JobResult> {
    const run = await this.openRun(request, opts);
    if (run.plan.fromRecord) return jobResult({ run, status: 'done', person: run.person, company: run.company, companyKey: run.companyKey, fromRecord: true });
    for (const group of run.plan.groups) await this.runGroup(run, group);
    const writes = this.mergeWithStored(run, await this.companyToFile(run));
    const end = runEnd(run);
    await this.saveRecords(run, writes, end);
    return jobResult({
      run,
      status: end.status,
      person: run.identity.subject === 'person' ? { ...writes.storedPerson, ...writes.person } : {},
      company: { ...writes.storedCompany, ...writes.company },
      companyKey: writes.companyKey,
      jobChange: writes.jobChange,
      resumeAt: run.pausedBy ? nextUtcMidnight(run.now).toISOString() : undefined,
      budgetReached: run.budgetStop,
      error: endMessage(run, end.allErrored),
    });
  }

  /** The request's identity, its stored records and the plan: which groups run, if any. */
  private async openRun(request: EnrichRequest, opts: RunOptions): Promise<RunState> {
    const { Person, Company } = this.models;
    const identity = identityOfInput(request.input);
    const now = this.deps.clock.now();
    const workspace = request.workspace;
    const seeds = seedFields(identity, now);
    const companyKey = identity.company?.domain ? `company:${identity.company.domain}` : identity.subject === 'company' ? identity.key : undefined;
    const personDoc = identity.subject === 'person' ? await Person.findOne({ _id: recordId(workspace, identity.key) }).lean() : null;
    const companyDoc = companyKey ? await Company.findOne({ _id: recordId(workspace, companyKey) }).lean() : null;
    const mainDoc = identity.subject === 'person' ? personDoc : companyDoc;
    const runNo = opts.run ?? 0;
    return {
      request, opts, identity, workspace, now, seeds, companyKey, personDoc, companyDoc,
      plan: planFromRecord(mainDoc, this.groupsFor(identity, request), request, now, this.deps.config.engine.recordFreshnessDays),
      person: { ...seeds.person, ...toPlainFields(personDoc) },
      company: { ...seeds.company, ...toPlainFields(companyDoc) },
      signal: opts.signal ?? new AbortController().signal,
      runTag: `${opts.jobId}#${runNo}.${opts.attempt ?? 0}`,
      // One job's budget lasts its run (a paused run resumes with what it spent); a batch shares one.
      budget: request.maxCostUsd === undefined ? undefined : { key: request.budgetKey ?? `job:${opts.jobId}#${runNo}`, maxUsd: request.maxCostUsd },
      subjectKeys: subjectKeys(identity),
      outcomes: [], personContribs: [], companyContribs: [], cancelled: false,
      answered: new Map(), finished: new Set(), failed: new Set(),
    };
  }

  /** One field group: not run once the run is stopped, skipped when known, else its waterfall. */
  private async runGroup(run: RunState, group: FieldGroup): Promise<void> {
    const subject = FIELD_GROUPS[group].subject;
    const order = this.deps.config.waterfalls[group] ?? [];
    const stopped = stopReason(run);
    if (stopped) {
      for (const provider of order) run.outcomes.push({ group, provider, outcome: 'not_run', reason: stopped, costUsd: 0 });
      return;
    }
    const input = lookupInput(run.person, run.company);
    if (subject === 'company' && !input.domain && !input.companyName && !input.companyLinkedinUrl) return;
    if (this.skippedAsKnown(run, group, order)) return;
    const probe: Probe = 'verifies' in FIELD_GROUPS[group] ? await this.catchAllProbe(run) : {};
    if (probe.learnt) run.learnt = probe.learnt;
    if (probe.skip) {
      for (const provider of order) run.outcomes.push({ group, provider, outcome: 'skipped', reason: probe.skip, costUsd: 0 });
      run.finished.add(group);
      return;
    }
    if (group.endsWith('Summary') || group === 'lookalikes') input.known = knownValues(run.person, run.company, subject);
    const result = await this.waterfall(run, { group, order, input, probe });
    run.outcomes.push(...result.outcomes);
    if (!result.cancelled) run.finished.add(group);
    if (result.due) run.failed.add(group);
    if (group === 'lookalikes' && !result.capReached && !result.cancelled && !result.budgetReached) await this.joinLookalikes(run, result, input.domain);
    if (result.capReached) run.pausedBy = result.capReached;
    if (result.budgetReached) run.budgetStop = result.budgetReached;
    if (result.cancelled) run.cancelled = true;
    feedAnswers(run, subject, result.contributions);
  }

  /**
   * Nothing to find: every field that would stop this group is already known (given by the
   * user, or stored and not being refreshed). No provider is asked, nothing is spent.
   * Returns whether the group was passed over so.
   */
  private skippedAsKnown(run: RunState, group: FieldGroup, order: string[]): boolean {
    const subject = FIELD_GROUPS[group].subject;
    const fields = subject === 'person' ? run.person : run.company;
    const stopFields = FIELD_GROUPS[group].stopFields as readonly string[];
    const known = stopFields.map((f) => fields[f.slice(subject.length + 1)]);
    if (!known.every((f) => f && (f.provider === 'input' || !run.request.refresh))) return false;
    const names = stopFields.join(', ');
    for (const provider of order) {
      const p = this.deps.providers.get(provider);
      run.outcomes.push(p?.enabled ? { group, provider, outcome: 'not_run', reason: `${names} already known`, costUsd: 0 } : { group, provider, outcome: 'skipped', reason: p?.disabledReason ?? 'not enabled', costUsd: 0 });
    }
    run.finished.add(group);
    return true;
  }

  /** The group's waterfall; what a catch-all probe learnt is filed before its lease is let go. */
  private async waterfall(run: RunState, step: { group: FieldGroup; order: string[]; input: LookupInput; probe: Probe }): Promise<WaterfallRun> {
    const { group, order, input, probe } = step;
    const { config, providers, services } = this.deps;
    try {
      const result = await runWaterfall(
        {
          group, order, providers, input, workspace: run.workspace, jobId: run.opts.jobId, runTag: run.runTag, identityKey: run.subjectKeys[FIELD_GROUPS[group].subject],
          budget: run.budget, minConfidence: config.engine.minConfidence, signal: run.signal, shouldStop: run.opts.shouldStop, answered: run.answered, screen: mentionScreen(input),
        },
        services,
      );
      result.contributions.push(...catchAllFacts(result.contributions, input.domain, input.workEmail));
      // The jobs waiting on the probe's lease read what it learnt once it is let go.
      if (probe.lease && run.companyKey && run.company.emailCatchAll?.provider !== MANUAL_PROVIDER) await this.fileDomainFact(run, result.contributions);
      return result;
    } finally {
      await probe.lease?.release().catch((err) => this.deps.logger.warn({ err }, 'could not release a catch-all probe lease; it expires on its own'));
    }
  }

  /** Lookalike candidates joined across providers and verified: they replace the group's answers. */
  private async joinLookalikes(run: RunState, result: WaterfallRun, ownDomain: string | undefined): Promise<void> {
    const { config, providers, services } = this.deps;
    const joined = joinCandidates(result.contributions, ownDomain, config.engine.lookalikes.max);
    run.outcomes.push(...(await verifyCandidates(joined, config.engine.lookalikes, providers, { workspace: run.workspace, jobId: run.opts.jobId, runTag: run.runTag, signal: run.signal }, services)));
    result.contributions = joined.length
      ? [{ provider: 'lookalikes', operation: 'join-and-verify', fetchedAt: run.now, result: { outcome: 'matched', fields: { 'company.lookalikes': joined }, confidence: 1 } }]
      : [];
  }

  /** A fresh catch-all fact skips verification; an unknown domain's first verification holds its lease. */
  private async catchAllProbe(run: RunState): Promise<Probe> {
    const { config, clock, leases } = this.deps;
    const { workspace, companyKey, person, company } = run;
    const now = clock.now();
    const days = config.engine.catchAllFreshnessDays;
    const skip = catchAllSkip(person, company, now, days);
    if (skip || !leases || !companyKey || !emailAtCompany(person, company) || knowsDomain(company, now, days)) return { skip };
    const reread = async () => ({ ...run.seeds.company, ...toPlainFields(await this.models.Company.findOne({ _id: recordId(workspace, companyKey) }).lean()) });
    return probeDomain({ leases, key: `catch-all:${workspace}|${companyKey}`, person, reread, now, days, signal: run.signal, maxWaitMs: 60_000 });
  }

  private async fileDomainFact(run: RunState, contributions: Contribution[]): Promise<void> {
    const fact = bestCandidates(contributions, 'company').candidates.get('emailCatchAll');
    if (!fact) return;
    const { field: _f, ...stored } = fact;
    await saveRecord(this.models.Company, { workspace: run.workspace, key: run.companyKey!, identity: run.identity, writes: { emailCatchAll: stored }, jobId: run.opts.jobId });
  }

  /**
   * Where the company facts are filed: the company the request names, or the one a person's
   * answers revealed (a person found by LinkedIn URL or name, with their company's domain).
   */
  private async companyToFile(run: RunState): Promise<{ key?: string; doc: RecordDoc | null }> {
    const discovered = val(run.person, 'companyDomain');
    if (run.companyKey || !discovered) return { key: run.companyKey, doc: run.companyDoc };
    try {
      const key = `company:${registrableDomain(normalizeDomain(discovered))}`;
      return { key, doc: await this.models.Company.findOne({ _id: recordId(run.workspace, key) }).lean() };
    } catch {
      return { key: undefined, doc: run.companyDoc };
    }
  }

  /** The final merge against what is stored, under the configured per-field policies. */
  private mergeWithStored(run: RunState, filed: { key?: string; doc: RecordDoc | null }): RunWrites {
    const { config, logger } = this.deps;
    const all = [...run.personContribs, ...run.companyContribs];
    const policies = config.engine.mergePolicy;
    const storedPerson = { ...run.seeds.person, ...toPlainFields(run.personDoc) };
    const storedCompany = { ...run.seeds.company, ...toPlainFields(filed.doc) };
    if (run.learnt && filed.key === run.companyKey && !storedCompany.emailCatchAll) storedCompany.emailCatchAll = run.learnt;
    const hints = { country: val(storedPerson, 'country') ?? val(storedCompany, 'country'), sicCode: val(storedCompany, 'sicCode') };
    const pc = bestCandidates(all, 'person', hints);
    const cc = bestCandidates(all, 'company', { ...hints, country: val(storedCompany, 'country') ?? hints.country });
    for (const r of [...pc.rejected, ...cc.rejected]) logger.warn({ jobId: run.opts.jobId, ...r }, 'provider value dropped: it does not fit the canonical field');
    const person = { ...newSeeds(run.seeds.person, run.personDoc), ...planMerge(storedPerson, pc.candidates, 'person', policies) };
    const jobChange = this.jobChange(run, all);
    // The person moved: their company and title now read as the sources say (the old values stay in the event).
    for (const f of jobChange ? fieldsMovedBy(jobChange) : []) {
      const cand = pc.candidates.get(f);
      if (cand && jobChange!.sources.includes(cand.provider) && storedPerson[f]?.provider !== MANUAL_PROVIDER) {
        const { field: _f, ...stored } = cand;
        person[f] = stored;
      }
    }
    const company = { ...newSeeds(run.seeds.company, filed.doc), ...planMerge(storedCompany, cc.candidates, 'company', policies) };
    renewAgedFact(storedCompany, company, cc.candidates, run.now, config.engine.catchAllFreshnessDays);
    return { companyKey: filed.key, storedPerson, storedCompany, person, company, jobChange };
  }

  /** Only against an earlier enrichment: a first run has nothing to compare with. */
  private jobChange(run: RunState, contributions: Contribution[]): JobChange | undefined {
    const { personDoc } = run;
    const { jobId } = run.opts;
    const runNo = run.opts.run ?? 0;
    if (!personDoc?.enrichedAt) return undefined;
    // A retry of a run that already saved its change (the worker died after the save) reports
    // it again, so it is still delivered; the record holds it once.
    const saved = Array.isArray(personDoc.jobChanges) ? (personDoc.jobChanges as JobChange[]).find((c) => c.jobId === jobId && (c.run ?? 0) === runNo) : undefined;
    if (saved) return saved;
    const s = this.deps.config.engine.jobChanges;
    const settings = { enabled: s.enabled, minConfidence: s.minConfidence ?? this.deps.config.engine.minConfidence, minSources: s.minSources };
    const found = detectJobChange(toPlainFields(personDoc), contributions, settings, this.deps.clock.now(), jobId);
    return found ? { ...found, run: runNo } : undefined;
  }

  /** The job's own record, and the company record its facts are filed under. */
  private async saveRecords(run: RunState, writes: RunWrites, end: RunEnd): Promise<void> {
    const { identity, workspace } = run;
    const { jobId } = run.opts;
    if (identity.subject === 'person') {
      await saveRecord(this.models.Person, {
        workspace, key: identity.key, identity, writes: writes.person, enrichedAt: end.enrichedAt, dueGroups: end.dueGroups, jobId, companyKey: writes.companyKey,
        jobChange: writes.jobChange ? { change: writes.jobChange, before: run.personDoc?.jobChanges } : undefined, askedBy: run.request.replyTo,
      });
    }
    if (writes.companyKey && (identity.subject === 'company' || Object.keys(writes.company).length)) {
      const own = identity.subject === 'company';
      await saveRecord(this.models.Company, { workspace, key: writes.companyKey, identity, writes: writes.company, enrichedAt: own ? end.enrichedAt : undefined, dueGroups: own ? end.dueGroups : undefined, jobId });
    }
  }
}

/**
 * Whom each group's calls are about, stable from run to run whatever the input grows into:
 * the job's own identity, and for company groups of a person, their company as given.
 */
function subjectKeys(identity: Identity): Record<Subject, string | undefined> {
  return {
    person: identity.subject === 'person' ? identity.key : undefined,
    company: identity.subject === 'company' ? identity.key : identity.company?.domain ? `company:${identity.company.domain}` : identity.company?.name ? `company:name:${identity.company.name.toLowerCase()}` : undefined,
  };
}

/** Why the groups still to run are not run, once something stopped the run. */
function stopReason(run: RunState): string | undefined {
  if (run.pausedBy) return 'job paused by the spend cap';
  if (run.budgetStop) return "the request's budget is reached";
  return run.cancelled ? 'request cancelled' : undefined;
}

/** Answers feed the next group's input at once (a found LinkedIn URL helps the email finders). */
function feedAnswers(run: RunState, subject: Subject, contributions: Contribution[]): void {
  for (const c of contributions) {
    (subject === 'person' ? run.personContribs : run.companyContribs).push(c);
    const pBest = bestCandidates([c], 'person').candidates;
    const cBest = bestCandidates([c], 'company').candidates;
    run.person = { ...run.person, ...planMerge(run.person, pBest, 'person', {}) };
    run.company = { ...run.company, ...planMerge(run.company, cBest, 'company', {}) };
  }
}

function runEnd(run: RunState): RunEnd {
  const asked = ['matched', 'no_match', 'error', 'timeout', 'cached'];
  const ranAny = run.outcomes.some((o) => asked.includes(o.outcome));
  const allErrored = ranAny && run.outcomes.filter((o) => asked.includes(o.outcome)).every((o) => o.outcome === 'error' || o.outcome === 'timeout');
  const complete = !run.pausedBy && !run.cancelled && !run.budgetStop;
  // A run of a fresh record's due groups leaves its age alone: the other groups were not asked.
  const partial = !run.plan.fromRecord && run.plan.partial;
  const mainDoc = run.identity.subject === 'person' ? run.personDoc : run.companyDoc;
  return {
    status: run.pausedBy ? 'paused' : run.cancelled ? 'cancelled' : allErrored ? 'failed' : 'done',
    allErrored,
    enrichedAt: complete && !allErrored && !partial ? run.now : undefined,
    dueGroups: dueAfter(mainDoc?.dueGroups, run.finished, run.failed),
  };
}

/** What the requester is told when the run did not end cleanly. */
function endMessage(run: RunState, allErrored: boolean): string | undefined {
  if (allErrored) return 'Every provider that ran failed; see the outcomes for each reason.';
  if (run.pausedBy) return `Paused: ${run.outcomes.find((o) => o.outcome === 'cap_reached')?.reason}. It resumes after 00:00 UTC.`;
  if (run.budgetStop) {
    const { maxUsd, spentUsd } = run.budgetStop;
    return `Stopped before a call that would pass the request's budget of $${maxUsd.toFixed(2)} ($${spentUsd.toFixed(4)} spent); ask again with a higher maxCostUsd for the rest.`;
  }
  return undefined;
}

interface ResultOptions {
  run: RunState;
  status: JobResult['status'];
  /** The records as they read after the run. */
  person: Fields;
  company: Fields;
  companyKey?: string;
  fromRecord?: boolean;
  resumeAt?: string;
  error?: string;
  budgetReached?: JobResult['budgetReached'];
  jobChange?: JobChange;
}

function jobResult(o: ResultOptions): JobResult {
  const { identity, request, outcomes } = o.run;
  const view = (key: string, fields: Fields): RecordView => ({ key, fields });
  return {
    jobId: o.run.opts.jobId,
    workspace: request.workspace,
    status: o.status,
    display: identity.display,
    person: identity.subject === 'person' ? view(identity.key, o.person) : undefined,
    company: o.companyKey && Object.keys(o.company).length ? view(o.companyKey, o.company) : undefined,
    outcomes,
    costUsd: Math.round(outcomes.reduce((sum, outcome) => sum + outcome.costUsd, 0) * 1e6) / 1e6,
    fromRecord: o.fromRecord,
    resumeAt: o.resumeAt,
    budgetReached: o.budgetReached,
    error: o.error,
    ...(o.jobChange ? { jobChange: o.jobChange } : {}),
  };
}
