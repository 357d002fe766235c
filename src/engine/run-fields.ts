// The fields one engine run reads and writes, as plain StoredFields: the seeds a request gives,
// a stored record's fields, and the lookup input every provider call is built from.
import type { LookupInput } from '../plugin/contract.js';
import type { RecordDoc } from '../store/models.js';
import type { Subject } from './fields.js';
import { registrableDomain, type Identity } from './identity.js';
import { onlyEvidenced } from './mention-screen.js';
import { normalizeStoredFields } from './normalize/index.js';
import type { StoredField } from './types.js';

export type Fields = Record<string, StoredField>;

export const val = (f: Fields, k: string) => f[k]?.value as string | undefined;

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

/** What the request itself gives, as fields from the provider `input`. */
export function seedFields(identity: Identity, now: Date): { person: Fields; company: Fields } {
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

/** The seeds a stored record does not hold yet (a stored value is never overwritten by a seed). */
export function newSeeds(seeds: Fields, doc: RecordDoc | null): Fields {
  const existing = toPlainFields(doc);
  return Object.fromEntries(Object.entries(seeds).filter(([k]) => !existing[k]));
}

/** The lookup input of the next provider call, from what the run knows of the person and company. */
export function lookupInput(person: Fields, company: Fields): LookupInput {
  const domain = val(company, 'domain') ?? val(person, 'companyDomain');
  return {
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
}

/** Every known value by canonical name, for the groups that write from them (summaries, lookalikes). */
export function knownValues(person: Fields, company: Fields, subject: Subject): LookupInput['known'] {
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
