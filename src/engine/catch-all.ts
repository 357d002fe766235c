// Catch-all (accept-all) domains, learnt once (issue 20 item 3). A catch-all mail server accepts
// every address, so a verifier cannot tell a real mailbox from a made-up one there: paying to
// verify each address at such a domain buys nothing. When a provider reports it (an explicit
// company.emailCatchAll, or a work-email status of catch_all for an address at the company's
// domain), the fact is filed on the company record with its provenance; while it is younger than
// engine.catchAllFreshnessDays, work-email verification at that domain is skipped at no cost.
import type { Contribution } from './waterfall.js';
import type { StoredField } from './types.js';
import { normalizeEmailStatus } from './normalize/index.js';
import { registrableDomain } from './identity.js';
import { MANUAL_PROVIDER, type Candidate } from './merge.js';
import type { Lease } from '../plugin/service.js';

type Fields = Record<string, StoredField>;

export const CATCH_ALL_REASON = 'catch-all domain';
/** What results and cards show for an address at a catch-all domain, instead of "valid". */
export const CATCH_ALL_TEXT = 'catch-all: deliverability unknown';

const domainOf = (email: unknown) => {
  if (typeof email !== 'string' || !email.includes('@')) return undefined;
  try {
    return registrableDomain(email.slice(email.lastIndexOf('@') + 1).toLowerCase());
  } catch {
    return undefined;
  }
};

const isYoung = (f: StoredField, now: Date, days: number) => now.getTime() - new Date(f.fetchedAt).getTime() < days * 86400_000;

/** True when the person's work email is at the company's own domain (the one its facts are about). */
export function emailAtCompany(person: Fields, company: Fields): boolean {
  const domain = company.domain?.value;
  const emailDomain = domainOf(person.workEmail?.value);
  return !!emailDomain && typeof domain === 'string' && emailDomain === registrableDomain(domain);
}

/** The reason to skip verifying the person's work email, when its domain is a known, still fresh, catch-all. */
export function catchAllSkip(person: Fields, company: Fields, now: Date, days: number): string | undefined {
  const fact = company.emailCatchAll;
  if (fact?.value !== true || !isYoung(fact, now, days)) return undefined;
  return emailAtCompany(person, company) ? CATCH_ALL_REASON : undefined;
}

/**
 * A contribution's catch-all report as a company fact of its own (same provider, call and time):
 * a work-email status of catch_all says so of the address's domain, when that is the company's.
 */
export function catchAllFacts(contributions: Contribution[], companyDomain: string | undefined, emailAsked: string | undefined): Contribution[] {
  const out: Contribution[] = [];
  for (const c of contributions) {
    const fields = c.result.fields as Record<string, unknown>;
    if (typeof fields['company.emailCatchAll'] === 'boolean') continue; // the provider said it outright
    const status = fields['person.workEmailStatus'];
    const n = typeof status === 'string' ? normalizeEmailStatus(status) : undefined;
    if (!n?.ok || n.value !== 'catch_all' || !companyDomain) continue;
    if (domainOf(fields['person.workEmail'] ?? emailAsked) !== registrableDomain(companyDomain)) continue;
    out.push({ ...c, operation: `${c.operation}+catch-all`, result: { outcome: 'matched', fields: { 'company.emailCatchAll': true }, confidence: c.result.confidence } });
  }
  return out;
}

/** A catch-all fact that has aged out is replaced by a newer report (the default merge only fills empty fields). */
export function renewAgedFact(stored: Fields, writes: Fields, candidates: Map<string, Candidate>, now: Date, days: number): void {
  const old = stored.emailCatchAll;
  const cand = candidates.get('emailCatchAll');
  if (!cand || !old || writes.emailCatchAll || isYoung(old, now, days) || old.provider === MANUAL_PROVIDER) return;
  const { field: _f, ...fresh } = cand;
  writes.emailCatchAll = fresh;
}

/** What the engine needs of src/platform/lease.ts. */
export interface DomainLeases {
  acquire(key: string, ttlMs: number): Promise<Lease | null>;
}

/** A fact about the domain that still stands (catch-all or not): no need to learn it again. */
export const knowsDomain = (company: Fields, now: Date, days: number) => {
  const f = company.emailCatchAll;
  return !!f && typeof f.value === 'boolean' && isYoung(f, now, days);
};

/**
 * The first verification at a domain whose catch-all status is unknown goes alone: the others
 * wait for its lease, then read what it learnt (a catch-all domain is then skipped by all of them,
 * in whatever process they run). Waiting ends with the job's signal or after `maxWaitMs`; the
 * call then goes ahead, so a stuck holder can cost a call, never a job.
 */
export async function probeDomain(opts: {
  leases: DomainLeases;
  key: string;
  person: Fields;
  reread: () => Promise<Fields>;
  now: Date;
  days: number;
  signal: AbortSignal;
  maxWaitMs: number;
}): Promise<{ skip?: string; lease?: Lease; learnt?: StoredField }> {
  const deadline = Date.now() + opts.maxWaitMs;
  for (;;) {
    const lease = await opts.leases.acquire(opts.key, 30_000);
    if (lease) {
      const company = await opts.reread();
      const skip = catchAllSkip(opts.person, company, opts.now, opts.days);
      if (!skip && !knowsDomain(company, opts.now, opts.days)) return { lease };
      await lease.release();
      // The fact another job filed meanwhile, for this job's result.
      return { skip, learnt: company.emailCatchAll };
    }
    if (opts.signal.aborted || Date.now() >= deadline) return {};
    await new Promise((r) => setTimeout(r, 25));
  }
}
