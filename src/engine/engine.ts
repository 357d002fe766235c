// The enrichment engine: one request in, merged records and an account of every provider out.
// identity -> fresh record? -> field-group waterfalls (in configured order, each group's answers
// feeding the next group's input) -> merge with provenance -> records saved -> JobResult.
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { LookupInput } from '../plugin/contract.js';
import { recordId, type Models, type RecordDoc } from '../store/models.js';
import { nextUtcMidnight, utcDay, type Clock } from '../clock.js';
import { FIELD_GROUPS, type FieldGroup, type Subject } from './fields.js';
import { identityOfInput, normalizeDomain, registrableDomain, type Identity } from './identity.js';
import { runWaterfall, type Contribution } from './waterfall.js';
import { joinCandidates, verifyCandidates } from './lookalikes.js';
import { bestCandidates, planMerge, MANUAL_PROVIDER } from './merge.js';
import { normalizeStoredFields } from './normalize/index.js';
import { dueAfter, planFromRecord } from './freshness.js';
import { catchAllFacts, catchAllSkip, emailAtCompany, knowsDomain, probeDomain, renewAgedFact, type DomainLeases } from './catch-all.js';
import type { Lease } from '../plugin/service.js';
import { mentionScreen, onlyEvidenced } from './mention-screen.js';
import { groupCommit } from '../store/group-commit.js';
import type { CallServices, ProviderRuntime } from './provider-call.js';
import type { EnrichRequest, JobChange, JobResult, ProviderOutcome, RecordView, ReplyTo, StoredField } from './types.js';
import { detectJobChange, fieldsMovedBy } from './job-change.js';

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

type Fields = Record<string, StoredField>;

/** What one run writes to one record. */
interface SaveRecord {
  workspace: string;
  key: string;
  identity: Identity;
  writes: Fields;
  enrichedAt?: Date;
  /** The record's due groups after this run (only for the job's own record). */
  dueGroups?: string[];
  jobId: string;
  companyKey?: string;
  /** A job change this run found, appended to the record's list (once per job). */
  jobChange?: { change: JobChange; before: unknown };
  /** The trigger and address that asked, remembered per trigger (job-change cards go there). */
  askedBy?: ReplyTo;
}

/** A stored record's fields as plain StoredFields (ISO dates), canonical on read. */
export function toPlainFields(doc: { fields?: unknown } | null): Fields {
  if (!doc?.fields) return {};
  const raw = doc.fields as unknown;
  const f = raw instanceof Map ? Object.fromEntries(raw) : (raw as Record<string, unknown>);
  const out: Fields = {};
  for (const [k, v] of Object.entries(f)) {
    const sv = v as Omit<StoredField, 'fetchedAt'> & { fetchedAt?: unknown };
    out[k] = { ...sv, fetchedAt: sv.fetchedAt instanceof Date ? sv.fetchedAt.toISOString() : String(sv.fetchedAt) };
  }
  // Records stored before canonical values existed read as canonical (issue 11).
  return normalizeStoredFields(out).fields;
}

/** Groups a request runs for its subject, in configured order (the estimate plans with the same). */
export function groupsToRun(config: Pick<Config, 'waterfalls'>, identity: Identity, request: Pick<EnrichRequest, 'groups'>): FieldGroup[] {
  const configured = Object.keys(config.waterfalls).filter((g): g is FieldGroup => g in FIELD_GROUPS);
  const wanted = request.groups ? configured.filter((g) => request.groups!.includes(g)) : configured.filter((g) => !('onRequest' in FIELD_GROUPS[g]));
  return wanted.filter((g) => FIELD_GROUPS[g].subject === identity.subject || (identity.subject === 'person' && FIELD_GROUPS[g].subject === 'company'));
}

const val = (f: Fields, k: string) => f[k]?.value as string | undefined;

export class Engine {
  constructor(private readonly deps: EngineDeps) {}

  private get models(): Models {
    return this.deps.store.models;
  }

  /** Groups to run for a subject, in configured order. */
  groupsFor(identity: Identity, request: EnrichRequest): FieldGroup[] {
    return groupsToRun(this.deps.config, identity, request);
  }

  private seedFields(identity: Identity, now: Date): { person: Fields; company: Fields } {
    const at = now.toISOString();
    const mk = (value: unknown): StoredField => ({ value, provider: 'input', fetchedAt: at, confidence: 1 });
    const person: Fields = {};
    const company: Fields = {};
    for (const [k, v] of Object.entries(identity.person ?? {})) if (v) person[k] = mk(v);
    if (identity.company?.domain) {
      company.domain = mk(identity.company.domain);
      if (identity.subject === 'person') person.companyDomain = mk(identity.company.domain);
    }
    if (identity.company?.name) {
      company.name = mk(identity.company.name);
      if (identity.subject === 'person') person.companyName = mk(identity.company.name);
    }
    if (identity.company?.linkedinUrl) company.linkedinUrl = mk(identity.company.linkedinUrl);
    return { person, company };
  }

  private buildInput(person: Fields, company: Fields): LookupInput {
    const domain = val(company, 'domain') ?? val(person, 'companyDomain');
    const input: LookupInput = {
      workEmail: val(person, 'workEmail'),
      personalEmail: val(person, 'personalEmail'),
      firstName: val(person, 'firstName'),
      lastName: val(person, 'lastName'),
      fullName: val(person, 'fullName') ?? ([val(person, 'firstName'), val(person, 'lastName')].filter(Boolean).join(' ') || undefined),
      title: val(person, 'title'),
      linkedinUrl: val(person, 'linkedinUrl'),
      domain: domain ? registrableDomain(domain) : undefined,
      companyName: val(company, 'name') ?? val(person, 'companyName'),
      companyLinkedinUrl: val(company, 'linkedinUrl'),
      ticker: val(company, 'ticker'),
      secCik: val(company, 'secCik'),
    };
    return input;
  }

  private knownValues(person: Fields, company: Fields, subject: Subject): LookupInput['known'] {
    const known: Record<string, unknown> = {};
    const add = (prefix: Subject, f: Fields) => {
      for (const [k, v] of Object.entries(f)) if (!k.endsWith('summary') && !k.endsWith('Summary')) known[`${prefix}.${k}`] = v.value;
      // A summary is written only from facts that passed: person mentions without evidence stay out.
      if (prefix === 'person' && 'person.webMentions' in known) known['person.webMentions'] = onlyEvidenced(known['person.webMentions']);
    };
    if (subject === 'person') add('person', person);
    add('company', company);
    return known as LookupInput['known'];
  }

  async run(request: EnrichRequest, opts: RunOptions): Promise<JobResult> {
    const { config, clock } = this.deps;
    const identity = identityOfInput(request.input);
    const now = clock.now();
    const { Person, Company } = this.models;
    const workspace = request.workspace;
    const seeds = this.seedFields(identity, now);

    const companyKey = identity.company?.domain ? `company:${identity.company.domain}` : identity.subject === 'company' ? identity.key : undefined;
    const personDoc = identity.subject === 'person' ? await Person.findOne({ _id: recordId(workspace, identity.key) }).lean() : null;
    const companyDoc = companyKey ? await Company.findOne({ _id: recordId(workspace, companyKey) }).lean() : null;
    let person = { ...seeds.person, ...toPlainFields(personDoc) };
    let company = { ...seeds.company, ...toPlainFields(companyDoc) };

    const mainDoc = identity.subject === 'person' ? personDoc : companyDoc;
    const plan = planFromRecord(mainDoc, this.groupsFor(identity, request), request, now, config.engine.recordFreshnessDays);
    if (plan.fromRecord) return this.result(opts.jobId, request, identity, 'done', person, company, [], { fromRecord: true, companyKey });

    const outcomes: ProviderOutcome[] = [];
    const personContribs: Contribution[] = [];
    const companyContribs: Contribution[] = [];
    let pausedBy: { scope: string; capUsd: number } | undefined;
    let budgetStop: { maxUsd: number; spentUsd: number } | undefined;
    let cancelled = false;
    const signal = opts.signal ?? new AbortController().signal;
    const answered = new Map();
    // Groups this run saw through, and those of them a provider could not answer (still due).
    const finished = new Set<FieldGroup>();
    const failed = new Set<FieldGroup>();
    // A catch-all fact another job filed while this one waited for it (catch-all.ts).
    let learnt: StoredField | undefined;
    const runTag = `${opts.jobId}#${opts.run ?? 0}.${opts.attempt ?? 0}`;
    // One job's budget lasts its run (a paused run resumes with what it spent); a batch shares one.
    const budget = request.maxCostUsd === undefined ? undefined : { key: request.budgetKey ?? `job:${opts.jobId}#${opts.run ?? 0}`, maxUsd: request.maxCostUsd };
    // Whom each group's calls are about, stable from run to run whatever the input grows into:
    // the job's own identity, and for company groups of a person, their company as given.
    const subjectKeys = {
      person: identity.subject === 'person' ? identity.key : undefined,
      company: identity.subject === 'company' ? identity.key : identity.company?.domain ? `company:${identity.company.domain}` : identity.company?.name ? `company:name:${identity.company.name.toLowerCase()}` : undefined,
    };

    for (const group of plan.groups) {
      const subject = FIELD_GROUPS[group].subject;
      const order = config.waterfalls[group] ?? [];
      if (pausedBy || cancelled || budgetStop) {
        const reason = pausedBy ? 'job paused by the spend cap' : budgetStop ? "the request's budget is reached" : 'request cancelled';
        for (const provider of order) outcomes.push({ group, provider, outcome: 'not_run', reason, costUsd: 0 });
        continue;
      }
      const input = this.buildInput(person, company);
      if (subject === 'company' && !input.domain && !input.companyName && !input.companyLinkedinUrl) continue;
      // Nothing to find: every field that would stop this group is already known (given by the
      // user, or stored and not being refreshed). No provider is asked, nothing is spent.
      const fields = subject === 'person' ? person : company;
      const known = (FIELD_GROUPS[group].stopFields as readonly string[]).map((f) => fields[f.slice(subject.length + 1)]);
      if (known.every((f) => f && (f.provider === 'input' || !request.refresh))) {
        const names = (FIELD_GROUPS[group].stopFields as readonly string[]).join(', ');
        for (const provider of order) {
          const p = this.deps.providers.get(provider);
          outcomes.push(p?.enabled ? { group, provider, outcome: 'not_run', reason: `${names} already known`, costUsd: 0 } : { group, provider, outcome: 'skipped', reason: p?.disabledReason ?? 'not enabled', costUsd: 0 });
        }
        finished.add(group);
        continue;
      }
      const probe = 'verifies' in FIELD_GROUPS[group] ? await this.catchAllProbe(workspace, companyKey, seeds.company, person, company, signal) : {};
      if (probe.learnt) learnt = probe.learnt;
      if (probe.skip) {
        for (const provider of order) outcomes.push({ group, provider, outcome: 'skipped', reason: probe.skip, costUsd: 0 });
        finished.add(group);
        continue;
      }
      if (group.endsWith('Summary') || group === 'lookalikes') input.known = this.knownValues(person, company, subject);
      let run: Awaited<ReturnType<typeof runWaterfall>>;
      try {
        run = await runWaterfall(
          { group, order, providers: this.deps.providers, input, workspace, jobId: opts.jobId, runTag, identityKey: subjectKeys[subject], budget, minConfidence: config.engine.minConfidence, signal, shouldStop: opts.shouldStop, answered, screen: mentionScreen(input) },
          this.deps.services,
        );
        run.contributions.push(...catchAllFacts(run.contributions, input.domain, input.workEmail));
        // What the probe learnt is filed before its lease is let go: the jobs waiting on it read it.
        if (probe.lease && companyKey && company.emailCatchAll?.provider !== MANUAL_PROVIDER) await this.fileDomainFact(workspace, companyKey, identity, run.contributions, opts.jobId);
      } finally {
        await probe.lease?.release().catch((err) => this.deps.logger.warn({ err }, 'could not release a catch-all probe lease; it expires on its own'));
      }
      outcomes.push(...run.outcomes);
      if (!run.cancelled) finished.add(group);
      if (run.due) failed.add(group);
      if (group === 'lookalikes' && !run.capReached && !run.cancelled && !run.budgetReached) {
        const joined = joinCandidates(run.contributions, input.domain, config.engine.lookalikes.max);
        outcomes.push(...(await verifyCandidates(joined, config.engine.lookalikes, this.deps.providers, { workspace, jobId: opts.jobId, runTag, signal }, this.deps.services)));
        run.contributions = joined.length
          ? [{ provider: 'lookalikes', operation: 'join-and-verify', fetchedAt: now, result: { outcome: 'matched', fields: { 'company.lookalikes': joined }, confidence: 1 } }]
          : [];
      }
      if (run.capReached) pausedBy = run.capReached;
      if (run.budgetReached) budgetStop = run.budgetReached;
      if (run.cancelled) cancelled = true;
      // Answers feed the next group's input at once (a found LinkedIn URL helps the email finders).
      for (const c of run.contributions) {
        (subject === 'person' ? personContribs : companyContribs).push(c);
        const pBest = bestCandidates([c], 'person').candidates;
        const cBest = bestCandidates([c], 'company').candidates;
        person = { ...person, ...planMerge(person, pBest, 'person', {}) };
        company = { ...company, ...planMerge(company, cBest, 'company', {}) };
      }
    }

    // A person found by LinkedIn URL or name may reveal their company's domain: file the
    // company facts under that company's record.
    const discovered = val(person, 'companyDomain');
    let finalKey = companyKey;
    let finalCompanyDoc = companyDoc;
    if (!finalKey && discovered) {
      try {
        finalKey = `company:${registrableDomain(normalizeDomain(discovered))}`;
        finalCompanyDoc = await Company.findOne({ _id: recordId(workspace, finalKey) }).lean();
      } catch {
        finalKey = undefined;
      }
    }

    // Final merge against what is stored, under the configured per-field policies.
    const all = [...personContribs, ...companyContribs];
    const policies = config.engine.mergePolicy;
    const storedPerson = { ...seeds.person, ...toPlainFields(personDoc) };
    const storedCompany = { ...seeds.company, ...toPlainFields(finalCompanyDoc) };
    if (learnt && finalKey === companyKey && !storedCompany.emailCatchAll) storedCompany.emailCatchAll = learnt;
    const hints = { country: val(storedPerson, 'country') ?? val(storedCompany, 'country'), sicCode: val(storedCompany, 'sicCode') };
    const pc = bestCandidates(all, 'person', hints);
    const cc = bestCandidates(all, 'company', { ...hints, country: val(storedCompany, 'country') ?? hints.country });
    for (const r of [...pc.rejected, ...cc.rejected]) this.deps.logger.warn({ jobId: opts.jobId, ...r }, 'provider value dropped: it does not fit the canonical field');
    const personWrites = { ...this.newSeeds(seeds.person, personDoc), ...planMerge(storedPerson, pc.candidates, 'person', policies) };
    const jobChange = this.jobChange(personDoc, all, opts.jobId, opts.run ?? 0);
    // The person moved: their company and title now read as the sources say (the old values stay in the event).
    for (const f of jobChange ? fieldsMovedBy(jobChange) : []) {
      const cand = pc.candidates.get(f);
      if (cand && jobChange!.sources.includes(cand.provider) && storedPerson[f]?.provider !== MANUAL_PROVIDER) {
        const { field: _f, ...stored } = cand;
        personWrites[f] = stored;
      }
    }
    const companyWrites = { ...this.newSeeds(seeds.company, finalCompanyDoc), ...planMerge(storedCompany, cc.candidates, 'company', policies) };
    renewAgedFact(storedCompany, companyWrites, cc.candidates, now, config.engine.catchAllFreshnessDays);

    const asked = ['matched', 'no_match', 'error', 'timeout', 'cached'];
    const ranAny = outcomes.some((o) => asked.includes(o.outcome));
    const allErrored = ranAny && outcomes.filter((o) => asked.includes(o.outcome)).every((o) => o.outcome === 'error' || o.outcome === 'timeout');
    const complete = !pausedBy && !cancelled && !budgetStop;
    // A run of a fresh record's due groups leaves its age alone: the other groups were not asked.
    const enrichedAt = complete && !allErrored && !plan.partial ? now : undefined;
    const dueGroups = dueAfter(mainDoc?.dueGroups, finished, failed);

    if (identity.subject === 'person') {
      await this.save(Person, {
        workspace, key: identity.key, identity, writes: personWrites, enrichedAt, dueGroups, jobId: opts.jobId, companyKey: finalKey,
        jobChange: jobChange ? { change: jobChange, before: personDoc?.jobChanges } : undefined, askedBy: request.replyTo,
      });
    }
    if (finalKey && (identity.subject === 'company' || Object.keys(companyWrites).length)) {
      const own = identity.subject === 'company';
      await this.save(Company, { workspace, key: finalKey, identity, writes: companyWrites, enrichedAt: own ? enrichedAt : undefined, dueGroups: own ? dueGroups : undefined, jobId: opts.jobId });
    }
    const finalPerson = identity.subject === 'person' ? { ...storedPerson, ...personWrites } : {};
    const finalCompany = { ...storedCompany, ...companyWrites };
    const status = pausedBy ? 'paused' : cancelled ? 'cancelled' : allErrored ? 'failed' : 'done';
    return this.result(opts.jobId, request, identity, status, finalPerson, finalCompany, outcomes, {
      companyKey: finalKey,
      jobChange,
      resumeAt: pausedBy ? nextUtcMidnight(now).toISOString() : undefined,
      budgetReached: budgetStop,
      error: allErrored ? 'Every provider that ran failed; see the outcomes for each reason.' : pausedBy ? `Paused: ${outcomes.find((o) => o.outcome === 'cap_reached')?.reason}. It resumes after 00:00 UTC.` : budgetStop ? `Stopped before a call that would pass the request's budget of $${budgetStop.maxUsd.toFixed(2)} ($${budgetStop.spentUsd.toFixed(4)} spent); ask again with a higher maxCostUsd for the rest.` : undefined,
    });
  }

  /** A fresh catch-all fact skips verification; an unknown domain's first verification holds its lease. */
  private async catchAllProbe(workspace: string, companyKey: string | undefined, seeds: Fields, person: Fields, company: Fields, signal: AbortSignal): Promise<{ skip?: string; lease?: Lease; learnt?: StoredField }> {
    const { config, clock, leases } = this.deps;
    const now = clock.now();
    const days = config.engine.catchAllFreshnessDays;
    const skip = catchAllSkip(person, company, now, days);
    if (skip || !leases || !companyKey || !emailAtCompany(person, company) || knowsDomain(company, now, days)) return { skip };
    const reread = async () => ({ ...seeds, ...toPlainFields(await this.models.Company.findOne({ _id: recordId(workspace, companyKey) }).lean()) });
    return probeDomain({ leases, key: `catch-all:${workspace}|${companyKey}`, person, reread, now, days, signal, maxWaitMs: 60_000 });
  }

  private async fileDomainFact(workspace: string, companyKey: string, identity: Identity, contributions: Contribution[], jobId: string): Promise<void> {
    const fact = bestCandidates(contributions, 'company').candidates.get('emailCatchAll');
    if (!fact) return;
    const { field: _f, ...stored } = fact;
    await this.save(this.models.Company, { workspace, key: companyKey, identity, writes: { emailCatchAll: stored }, jobId });
  }

  /** Only against an earlier enrichment: a first run has nothing to compare with. */
  private jobChange(personDoc: RecordDoc | null, contributions: Contribution[], jobId: string, run: number): JobChange | undefined {
    if (!personDoc?.enrichedAt) return undefined;
    // A retry of a run that already saved its change (the worker died after the save) reports
    // it again, so it is still delivered; the record holds it once.
    const saved = Array.isArray(personDoc.jobChanges) ? (personDoc.jobChanges as JobChange[]).find((c) => c.jobId === jobId && (c.run ?? 0) === run) : undefined;
    if (saved) return saved;
    const s = this.deps.config.engine.jobChanges;
    const settings = { enabled: s.enabled, minConfidence: s.minConfidence ?? this.deps.config.engine.minConfidence, minSources: s.minSources };
    const found = detectJobChange(toPlainFields(personDoc), contributions, settings, this.deps.clock.now(), jobId);
    return found ? { ...found, run } : undefined;
  }

  private newSeeds(seeds: Fields, doc: RecordDoc | null): Fields {
    const existing = toPlainFields(doc);
    return Object.fromEntries(Object.entries(seeds).filter(([k]) => !existing[k]));
  }

  private async save(model: Models['Person'], rec: SaveRecord) {
    const { workspace, key, identity, writes, enrichedAt, dueGroups, jobId, companyKey } = rec;
    const set: Record<string, unknown> = { lastJobId: jobId };
    for (const [k, v] of Object.entries(writes)) set[`fields.${k}`] = { ...v, fetchedAt: new Date(v.fetchedAt) };
    if (enrichedAt) {
      set.enrichedAt = enrichedAt;
      set.enrichedDay = utcDay(enrichedAt);
    }
    if (dueGroups) set.dueGroups = dueGroups;
    if (companyKey) set.companyKey = companyKey;
    // Only where to post: reply URLs and anything token-like stay with the job, not the record.
    if (rec.askedBy) set[`askedBy.${rec.askedBy.trigger}`] = Object.fromEntries(Object.entries(rec.askedBy.address).filter(([k]) => !/url$|token|secret/i.test(k)));
    if (rec.jobChange) {
      // Once per job: a retried run does not append the same change again.
      const { change } = rec.jobChange;
      const before = (Array.isArray(rec.jobChange.before) ? (rec.jobChange.before as JobChange[]) : []).filter((c) => c.jobId !== change.jobId || (c.run ?? 0) !== (change.run ?? 0));
      const list = [...before, rec.jobChange.change].slice(-20);
      set.jobChanges = list;
      set.jobChangeDays = [...new Set(list.map((c) => c.at.slice(0, 10)))];
    }
    // A company filed while enriching a person is named by its own key, never by the person's
    // input (their email would otherwise live on in the company record after they are forgotten).
    const own = key === identity.key;
    const display = own ? identity.display : key.replace(/^company:(linkedin:|name:)?/, '');
    const kind = own ? identity.kind : key.startsWith('company:linkedin:') ? 'linkedin-company' : key.startsWith('company:name:') ? 'company-name' : 'domain';
    // Group-committed with other jobs' saves: one command per burst of finishing jobs.
    await groupCommit(model).write({ updateOne: { filter: { _id: recordId(workspace, key) }, update: { $set: set, $setOnInsert: { workspace, key, kind, display } }, upsert: true } });
  }

  private result(
    jobId: string,
    request: EnrichRequest,
    identity: Identity,
    status: JobResult['status'],
    person: Fields,
    company: Fields,
    outcomes: ProviderOutcome[],
    extra: { fromRecord?: boolean; companyKey?: string; resumeAt?: string; error?: string; budgetReached?: JobResult['budgetReached']; jobChange?: JobChange },
  ): JobResult {
    const view = (key: string, fields: Fields): RecordView => ({ key, fields });
    return {
      jobId,
      workspace: request.workspace,
      status,
      display: identity.display,
      person: identity.subject === 'person' ? view(identity.key, person) : undefined,
      company: extra.companyKey && Object.keys(company).length ? view(extra.companyKey, company) : undefined,
      outcomes,
      costUsd: Math.round(outcomes.reduce((s, o) => s + o.costUsd, 0) * 1e6) / 1e6,
      fromRecord: extra.fromRecord,
      resumeAt: extra.resumeAt,
      budgetReached: extra.budgetReached,
      error: extra.error,
      ...(extra.jobChange ? { jobChange: extra.jobChange } : {}),
    };
  }
}
