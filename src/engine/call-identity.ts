// Which identities a provider call is about, as cache keys. A cached answer is filed under the
// identity the job asked about and under every identifier the input carried or the answer
// confirmed (an email, a LinkedIn URL, a domain), so a repeat about the same person or company
// finds it however much richer its input has become.
import type { LookupInput, LookupResult } from '../plugin/contract.js';
import { emailMatchKey, normalizeDomain, normalizeEmail, normalizeLinkedinUrl, registrableDomain } from './identity.js';

export type Subject = 'person' | 'company';

const attempt = (fn: () => string): string | undefined => {
  try {
    return fn();
  } catch {
    return undefined; // a value that is not a valid identifier names nobody
  }
};

export const emailKey = (email: unknown) => (typeof email === 'string' ? attempt(() => `person:email:${emailMatchKey(normalizeEmail(email))}`) : undefined);
export const personLinkedinKey = (url: unknown) =>
  typeof url === 'string'
    ? attempt(() => {
        const li = normalizeLinkedinUrl(url);
        if (li.kind !== 'person') throw new Error('not a person');
        return `person:linkedin:${li.slug}`;
      })
    : undefined;
export const domainKey = (domain: unknown) => (typeof domain === 'string' ? attempt(() => `company:${registrableDomain(normalizeDomain(domain))}`) : undefined);
export const companyLinkedinKey = (url: unknown) =>
  typeof url === 'string'
    ? attempt(() => {
        const li = normalizeLinkedinUrl(url);
        if (li.kind !== 'company') throw new Error('not a company');
        return `company:linkedin:${li.url.split('/').pop()}`;
      })
    : undefined;

const compact = (keys: (string | undefined)[]) => [...new Set(keys.filter((k): k is string => !!k))];

/** The identifiers of the call's subject that its input carries. */
export function inputKeys(input: LookupInput, subject: Subject): string[] {
  return subject === 'person'
    ? compact([emailKey(input.workEmail), emailKey(input.personalEmail), personLinkedinKey(input.linkedinUrl)])
    : compact([domainKey(input.domain), companyLinkedinKey(input.companyLinkedinUrl)]);
}

/** The identifiers of the call's subject that a matched answer confirmed. A miss confirms nothing. */
export function confirmedKeys(result: LookupResult, subject: Subject): string[] {
  if (result.outcome !== 'matched') return [];
  const f = result.fields as Record<string, unknown>;
  return subject === 'person'
    ? compact([emailKey(f['person.workEmail']), emailKey(f['person.personalEmail']), personLinkedinKey(f['person.linkedinUrl'])])
    : compact([domainKey(f['company.domain']), companyLinkedinKey(f['company.linkedinUrl'])]);
}
