// Turns one ContactOut profile into canonical person fields. Values that would not pass the
// canonical schemas (a bad URL, an empty string) are left out rather than guessed at.
import { clean, domainOf, linkedinUrl, type FieldPath, type Fields } from '../../../src/sdk/index.js';
import type { ContactOutProfile } from './schema.js';

function first(v: string | (string | null)[] | null | undefined): string | undefined {
  if (Array.isArray(v)) return v.map(clean).find(Boolean);
  return clean(v);
}

const looksLikeEmail = (v: string | undefined) => (v && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? v.toLowerCase() : undefined);

/** "Verified" / "Unverified" (the docs' only two values) to the canonical status. */
export function workEmailStatus(p: ContactOutProfile, email: string): 'valid' | 'unknown' | undefined {
  const raw = typeof p.work_email_status === 'object' && p.work_email_status ? p.work_email_status[email] : (p.work_email_status ?? p.workEmailStatus);
  const s = clean(raw)?.toLowerCase();
  if (s === 'verified') return 'valid';
  if (s === 'unverified') return 'unknown';
  return undefined;
}

/** The current job title: a current experience entry, else the headline when it reads "<title> at <company>". */
function title(p: ContactOutProfile): string | undefined {
  const current = p.experience?.find((e) => e.is_current === true && clean(e.title));
  if (current) return clean(current.title);
  const headline = clean(p.headline);
  const company = clean(p.company?.name);
  if (headline && company && headline.toLowerCase().endsWith(` at ${company.toLowerCase()}`)) {
    return headline.slice(0, headline.length - company.length - 4).trim() || undefined;
  }
  return undefined;
}

function splitName(full: string | undefined): { first?: string; last?: string } {
  if (!full) return {};
  const parts = full.split(/\s+/);
  return parts.length < 2 ? { first: parts[0] } : { first: parts[0], last: parts.slice(1).join(' ') };
}

export interface MappedProfile {
  fields: Fields;
  /** Work email ContactOut itself marked "Unverified" (kept out of `fields` unless configured). */
  unverifiedWorkEmail?: string;
}

export function mapProfile(p: ContactOutProfile, opts: { acceptUnverifiedWorkEmail: boolean }): MappedProfile {
  const fullName = clean(p.full_name ?? p.fullName);
  const { first: firstName, last: lastName } = splitName(fullName);
  // The camelCase variant documents `email` as the personal address; the snake_case example
  // puts every address in `email`, so there it is only used through personal_email.
  const personalEmail = looksLikeEmail(first(p.personal_email) ?? (typeof p.email === 'string' ? clean(p.email) : undefined));
  const workEmail = looksLikeEmail(first(p.work_email) ?? first(p.workEmail));
  const status = workEmail ? workEmailStatus(p, workEmail) : undefined;
  const dropWork = status === 'unknown' && !opts.acceptUnverifiedWorkEmail;

  const fields: Fields = {
    'person.fullName': fullName,
    'person.firstName': firstName,
    'person.lastName': lastName,
    'person.title': title(p),
    'person.seniority': clean(p.seniority),
    'person.department': clean(p.job_function ?? p.jobFunction),
    'person.linkedinUrl': linkedinUrl(clean(p.url) ?? clean(p.linkedinUrl), 'person'),
    'person.country': clean(p.country),
    'person.companyName': clean(p.company?.name),
    'person.companyDomain': domainOf(clean(p.company?.domain) ?? clean(p.company?.email_domain)),
    'person.personalEmail': personalEmail !== workEmail ? personalEmail : undefined,
    'person.workEmail': dropWork ? undefined : workEmail,
    'person.workEmailStatus': dropWork ? undefined : status,
    'person.phone': first(p.phone),
  };
  for (const k of Object.keys(fields) as FieldPath[]) if (fields[k] === undefined) delete fields[k];
  return { fields, unverifiedWorkEmail: dropWork ? workEmail : undefined };
}
