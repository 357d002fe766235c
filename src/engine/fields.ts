// Canonical fields: every provider maps its answer into these names, and every stored value
// is checked against its schema before it is merged.
//
// Canonical values (issue 11, src/engine/normalize/): seniority and department are fixed sets,
// industry is one of HubSpot's `industry` options, countries are ISO 3166-1 alpha-2, phones
// E.164, size and revenue fixed buckets, email status one of five words. Providers may send their
// own words: merge.ts normalizes every contributed value before this schema check, and the
// provider's original text is kept on the stored field as `raw` (StoredField in types.ts) when
// it differs from the canonical value, e.g. industry "COMPUTER_SOFTWARE" with raw
// "SERVICES-PREPACKAGED SOFTWARE".
import { z } from 'zod';
import { DEPARTMENTS, EMAIL_STATUSES, EMPLOYEE_RANGES, HUBSPOT_INDUSTRIES, REVENUE_RANGES, SENIORITIES } from './normalize/index.js';

export const EmailStatusSchema = z.enum(EMAIL_STATUSES);
const country = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code');
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number (+ and 7 to 15 digits)');
const text = z.string().trim().min(1).max(2000);
const url = z.string().url().max(500);
const year = z.number().int().min(1600).max(2200);

export const PERSON_FIELDS = {
  'person.firstName': text,
  'person.lastName': text,
  'person.fullName': text,
  'person.title': text,
  'person.seniority': z.enum(SENIORITIES),
  'person.department': z.enum(DEPARTMENTS),
  'person.workEmail': z.string().email().max(320),
  'person.workEmailStatus': EmailStatusSchema,
  'person.personalEmail': z.string().email().max(320),
  'person.phone': e164,
  'person.linkedinUrl': url,
  'person.city': text,
  'person.region': text,
  'person.country': country,
  'person.companyName': text,
  'person.companyDomain': z.string().min(3).max(253),
  // evidence: what on the page shows it is this person (identity-evidence.ts).
  'person.webMentions': z.array(z.object({ title: z.string(), url, publishedDate: z.string().optional(), evidence: z.string().max(200).optional() })).max(50),
  'person.summary': z.string().min(1).max(4000),
} as const;

export const COMPANY_FIELDS = {
  'company.name': text,
  'company.domain': z.string().min(3).max(253),
  'company.description': z.string().trim().min(1).max(4000),
  'company.industry': z.enum(HUBSPOT_INDUSTRIES),
  'company.employeeCount': z.number().int().min(0),
  'company.employeeRange': z.enum(EMPLOYEE_RANGES),
  'company.revenueRange': z.enum(REVENUE_RANGES),
  'company.foundedYear': year,
  'company.city': text,
  'company.region': text,
  'company.country': country,
  'company.linkedinUrl': url,
  'company.socialProfiles': z.record(z.string(), url),
  'company.contactEmails': z.array(z.string().email()).max(50),
  'company.phone': e164,
  'company.technologies': z.array(z.string().min(1).max(100)).max(500),
  'company.ticker': z.string().min(1).max(10),
  'company.secCik': z.string().regex(/^\d{10}$/),
  'company.sicCode': z.string().max(10),
  'company.address': text,
  'company.recentFilings': z.array(z.object({ form: z.string(), filedAt: z.string(), accession: z.string(), url: z.string().optional() })).max(50),
  'company.insiderFilingCount90d': z.number().int().min(0),
  'company.acceptsMail': z.boolean(),
  /** The mail server accepts any address (catch-all): no verifier can tell a real mailbox there. */
  'company.emailCatchAll': z.boolean(),
  'company.mailProvider': text,
  'company.mxHosts': z.array(z.string()).max(50),
  'company.webMentions': z.array(z.object({ title: z.string(), url, publishedDate: z.string().optional() })).max(50),
  'company.lookalikes': z.array(z.object({ domain: z.string(), name: z.string().optional(), reason: z.string(), verified: z.boolean(), sources: z.array(z.string()) })).max(20),
  'company.summary': z.string().min(1).max(4000),
} as const;

export const FIELD_SCHEMAS: Record<string, z.ZodType> = { ...PERSON_FIELDS, ...COMPANY_FIELDS };
export type PersonField = keyof typeof PERSON_FIELDS;
export type CompanyField = keyof typeof COMPANY_FIELDS;
export type FieldPath = PersonField | CompanyField;
export type Subject = 'person' | 'company';

export function subjectOf(field: string): Subject {
  return field.startsWith('person.') ? 'person' : 'company';
}

export function isFieldPath(field: string): field is FieldPath {
  return Object.hasOwn(FIELD_SCHEMAS, field);
}

/**
 * Field groups: one waterfall each. `stopFields` are what a result must contain to stop the
 * waterfall (at or above the confidence threshold); other fields it brings are kept as extras.
 */
export const FIELD_GROUPS = {
  personProfile: { subject: 'person', stopFields: ['person.title', 'person.linkedinUrl', 'person.fullName'] },
  workEmail: { subject: 'person', stopFields: ['person.workEmail'] },
  // Verifies the work email already known: only operations that take it as input, skipped at
  // a known catch-all domain (catch-all.ts). Runs only when configured under waterfalls.
  emailVerification: { subject: 'person', stopFields: ['person.workEmailStatus'], verifies: 'workEmail' },
  personalEmail: { subject: 'person', stopFields: ['person.personalEmail'] },
  phone: { subject: 'person', stopFields: ['person.phone'] },
  personMentions: { subject: 'person', stopFields: ['person.webMentions'] },
  companyProfile: { subject: 'company', stopFields: ['company.name', 'company.description', 'company.industry', 'company.employeeCount'] },
  mailServer: { subject: 'company', stopFields: ['company.acceptsMail'] },
  publicCompany: { subject: 'company', stopFields: ['company.secCik'] },
  companyMentions: { subject: 'company', stopFields: ['company.webMentions'] },
  // Every source is asked (no stop), candidates are joined and verified; only on request.
  lookalikes: { subject: 'company', stopFields: ['company.lookalikes'], collect: true, onRequest: true },
  companySummary: { subject: 'company', stopFields: ['company.summary'] },
  personSummary: { subject: 'person', stopFields: ['person.summary'] },
} as const satisfies Record<string, { subject: Subject; stopFields: readonly FieldPath[]; collect?: boolean; onRequest?: boolean; verifies?: 'workEmail' }>;
export type FieldGroup = keyof typeof FIELD_GROUPS;
export const FIELD_GROUP_NAMES = Object.keys(FIELD_GROUPS) as FieldGroup[];

/**
 * Whether an operation can serve a group: it returns one of the group's key fields, and for a
 * verification group it checks the value it is given (it needs it in every input set).
 */
export function servesGroup(op: { needs: readonly (readonly string[])[]; returns: readonly string[] }, group: FieldGroup): boolean {
  const def: { stopFields: readonly string[]; verifies?: string } = FIELD_GROUPS[group];
  if (!op.returns.some((f) => def.stopFields.includes(f))) return false;
  return !def.verifies || op.needs.every((set) => set.includes(def.verifies!));
}
