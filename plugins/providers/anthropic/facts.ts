// Which enriched facts go to Claude, and whether there are enough of them to be worth a call.
// Only values from `input.known` are sent; contact details are left out (a summary needs none,
// and sending fewer personal data to a third party is better), long values are shortened.
import type { FieldPath } from '../../../src/sdk/index.js';

export type Facts = Partial<Record<FieldPath, unknown>>;

/** Never sent: contact channels and mail plumbing say nothing a summary should repeat. */
const NOT_SENT = new Set<string>([
  'person.workEmail',
  'person.workEmailStatus',
  'person.personalEmail',
  'person.phone',
  'company.contactEmails',
  'company.phone',
  'company.mxHosts',
  // Suggested by a model, not facts about the company itself.
  'company.lookalikes',
]);

/** Sent, but on their own too thin for a summary (a name, a domain, a mail provider). */
const IDENTIFYING = new Set<string>([
  'person.fullName',
  'person.firstName',
  'person.lastName',
  'person.linkedinUrl',
  'person.companyName',
  'person.companyDomain',
  'company.name',
  'company.domain',
  'company.linkedinUrl',
  'company.socialProfiles',
  'company.acceptsMail',
  'company.mailProvider',
  'company.secCik',
]);

const MAX_ARRAY_ITEMS = 10;

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

function shorten(value: unknown, maxChars: number): unknown {
  if (typeof value === 'string') return value.length > maxChars ? `${value.slice(0, maxChars)}…` : value;
  if (Array.isArray(value)) return value.slice(0, MAX_ARRAY_ITEMS).map((v) => shorten(v, maxChars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v, maxChars)]));
  return value;
}

export interface SelectedFacts {
  /** Sorted by field name, so the same facts make the same request. */
  facts: Record<string, unknown>;
  /** How many of them describe the subject beyond identifying it. */
  descriptive: number;
}

/** The facts to send for a subject: `person` summaries also get the company's facts. */
export function selectFacts(known: Facts | undefined, subject: 'person' | 'company', maxChars: number): SelectedFacts {
  const prefixes = subject === 'person' ? ['person.', 'company.'] : ['company.'];
  const facts: Record<string, unknown> = {};
  let descriptive = 0;
  for (const key of Object.keys(known ?? {}).sort()) {
    const value = (known as Record<string, unknown>)[key];
    if (!prefixes.some((p) => key.startsWith(p)) || NOT_SENT.has(key) || /summary$/i.test(key) || isEmpty(value)) continue;
    facts[key] = shorten(value, maxChars);
    if (!IDENTIFYING.has(key)) descriptive++;
  }
  return { facts, descriptive };
}
