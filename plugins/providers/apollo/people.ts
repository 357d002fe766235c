// Apollo People Enrichment (POST /api/v1/people/match): response schema and mapping to person fields.
// A miss is HTTP 200 with `person: null` ("unmatched people are returned as null", Apollo docs).
// A 200 without a `person` key at all is neither the answer nor the miss: an error (raw kept,
// never cached), so a changed API cannot pass for "Apollo knows nobody" and be cached as such.
// Inputs go in the query string of the POST, as the docs' own request does
// (docs.apollo.io/docs/enrich-people-data: POST .../people/match?email=...&reveal_personal_emails=false).
import { z } from 'zod';
import { clean, domainOf, dropEmpty, type Fields, linkedinUrl, type LookupInput } from '../../../src/sdk/index.js';

const PhoneSchema = z
  .object({ raw_number: z.string().nullish(), sanitized_number: z.string().nullish(), type: z.string().nullish() })
  .loose();

export const PersonSchema = z
  .object({
    id: z.string().nullish(),
    first_name: z.string().nullish(),
    last_name: z.string().nullish(),
    name: z.string().nullish(),
    title: z.string().nullish(),
    seniority: z.string().nullish(),
    departments: z.array(z.string()).nullish(),
    email: z.string().nullish(),
    email_status: z.string().nullish(),
    personal_emails: z.array(z.string()).nullish(),
    linkedin_url: z.string().nullish(),
    city: z.string().nullish(),
    state: z.string().nullish(),
    country: z.string().nullish(),
    phone_numbers: z.array(PhoneSchema).nullish(),
    organization: z.object({ name: z.string().nullish(), primary_domain: z.string().nullish() }).loose().nullish(),
  })
  .loose();
export type ApolloPerson = z.infer<typeof PersonSchema>;

export const PeopleMatchResponseSchema = z.object({ person: PersonSchema.nullable() }).loose();

/** Apollo shows this placeholder instead of an address it has not unlocked for the account. */
const LOCKED_EMAIL = /^email_not_unlocked@/i;

/** Apollo's email_status vocabulary (verified, unverified, likely to engage, unavailable...) to the canonical one. */
export function canonicalEmailStatus(status: string | null | undefined): 'valid' | 'catch_all' | 'invalid' | 'unknown' {
  const s = (status ?? '').toLowerCase().replace(/[_-]/g, ' ').trim();
  if (s === 'verified') return 'valid';
  if (s === 'accept all' || s === 'catch all') return 'catch_all';
  if (s === 'invalid' || s === 'bounced') return 'invalid';
  return 'unknown';
}

/** The docs' query parameters ("the more you pass in, the likelier a match"). */
export function buildMatchParams(input: LookupInput, revealPersonalEmails: boolean): Record<string, string | undefined> {
  const body: Record<string, string | undefined> = {};
  const email = input.workEmail ?? input.personalEmail;
  if (email) body.email = email;
  if (input.linkedinUrl) body.linkedin_url = input.linkedinUrl;
  if (input.firstName) body.first_name = input.firstName;
  if (input.lastName) body.last_name = input.lastName;
  if (input.fullName && !(input.firstName && input.lastName)) body.name = input.fullName;
  if (input.domain) body.domain = input.domain;
  if (input.companyName) body.organization_name = input.companyName;
  body.reveal_personal_emails = String(revealPersonalEmails);
  // Phone reveal is asynchronous (delivered to a webhook_url), which this bot does not serve.
  body.reveal_phone_number = 'false';
  return body;
}

export interface PersonMapOptions {
  acceptEmailStatuses: string[];
}

export function mapPerson(p: ApolloPerson, opts: PersonMapOptions): Fields {
  const email = clean(p.email)?.toLowerCase();
  const statusOk = opts.acceptEmailStatuses.some((s) => s.toLowerCase() === (p.email_status ?? '').toLowerCase());
  const workEmail = email && !LOCKED_EMAIL.test(email) && statusOk ? email : undefined;
  const personal = (p.personal_emails ?? []).map((e) => clean(e)?.toLowerCase()).find((e) => e && !LOCKED_EMAIL.test(e));
  // work_hq numbers are the company's switchboard, not the person's.
  const phone = (p.phone_numbers ?? []).find((n) => n.type !== 'work_hq' && clean(n.sanitized_number ?? n.raw_number));
  return dropEmpty({
    'person.firstName': clean(p.first_name),
    'person.lastName': clean(p.last_name),
    'person.fullName': clean(p.name),
    'person.title': clean(p.title),
    'person.seniority': clean(p.seniority),
    'person.department': clean(p.departments?.[0]),
    'person.linkedinUrl': linkedinUrl(p.linkedin_url, 'person'),
    'person.city': clean(p.city),
    'person.region': clean(p.state),
    'person.country': clean(p.country),
    'person.companyName': clean(p.organization?.name),
    'person.companyDomain': domainOf(p.organization?.primary_domain),
    'person.workEmail': workEmail,
    'person.workEmailStatus': workEmail ? canonicalEmailStatus(p.email_status) : undefined,
    'person.personalEmail': personal,
    'person.phone': phone ? clean(phone.sanitized_number ?? phone.raw_number) : undefined,
  });
}
