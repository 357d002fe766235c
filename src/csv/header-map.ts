// Which CSV columns hold what we can enrich from. Exports from CRMs, Sales Navigator tools and
// spreadsheets name the same column many ways ("E-mail", "Email Address", "Work Email",
// "Vorname"); names are compared after lowercasing and dropping accents, spaces and punctuation.
import { StructuredInputSchema, type StructuredInput } from '../engine/identity.js';
import type { CsvColumnMap } from '../plugin/service.js';

type Field = keyof CsvColumnMap;

/** Exact names (normalized), best first. English, with common German, French and Spanish. */
const ALIASES: Record<Field, string[]> = {
  email: [
    'email', 'emailaddress', 'workemail', 'businessemail', 'professionalemail', 'companyemail', 'emailwork',
    'workemailaddress', 'contactemail', 'primaryemail', 'mail', 'mailaddress', 'emailadresse', 'courriel',
    'adresseemail', 'correo', 'correoelectronico', 'personalemail', 'emails',
  ],
  linkedinUrl: [
    'linkedin', 'linkedinurl', 'linkedinprofile', 'linkedinprofileurl', 'personlinkedinurl', 'linkedinlink',
    'linkedinpage', 'profileurl', 'liprofile', 'liurl', 'contactlinkedinurl',
  ],
  domain: [
    'domain', 'companydomain', 'website', 'companywebsite', 'websiteurl', 'companyurl', 'web', 'homepage', 'site',
    'domainname', 'organizationdomain', 'organisationdomain', 'accountdomain', 'companysite', 'webseite', 'siteweb',
    'sitioweb', 'url',
  ],
  firstName: ['firstname', 'first', 'givenname', 'forename', 'fname', 'vorname', 'prenom', 'nombre'],
  lastName: ['lastname', 'last', 'surname', 'familyname', 'lname', 'nachname', 'nom', 'nomdefamille', 'apellido', 'apellidos'],
  fullName: ['fullname', 'name', 'contactname', 'personname', 'contact', 'leadname', 'nomcomplet', 'nombrecompleto'],
  companyName: [
    'company', 'companyname', 'organization', 'organisation', 'organizationname', 'organisationname', 'org',
    'account', 'accountname', 'employer', 'currentcompany', 'business', 'businessname', 'firma', 'unternehmen',
    'firmenname', 'entreprise', 'societe', 'empresa',
  ],
};

/** Looser matches when no exact name is found: the normalized name contains one of these. */
const CONTAINS: Record<Field, { has: string[]; not?: string[] }> = {
  email: { has: ['email', 'mail'], not: ['status', 'valid', 'verif', 'domain', 'bounce', 'opt', 'sent', 'count'] },
  linkedinUrl: { has: ['linkedin'], not: ['company', 'organization', 'organisation', 'id'] },
  domain: { has: ['domain', 'website'], not: ['email', 'mail'] },
  firstName: { has: ['firstname', 'givenname'] },
  lastName: { has: ['lastname', 'surname', 'familyname'] },
  fullName: { has: ['fullname'] },
  companyName: { has: ['companyname', 'organizationname', 'organisationname', 'accountname'] },
};

/** Order of assignment: a column is given to the first field that claims it. */
const FIELD_ORDER: Field[] = ['email', 'linkedinUrl', 'domain', 'firstName', 'lastName', 'fullName', 'companyName'];

export function normalizeHeader(name: string): string {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The accepted names, for the message that refuses a file with no recognisable column. */
export const ACCEPTED_HEADERS =
  'email ("Email", "E-mail", "Email Address", "Work Email"), domain ("Domain", "Company Domain", "Website"), ' +
  'LinkedIn ("LinkedIn", "LinkedIn URL", "LinkedIn Profile"), names ("First Name", "Last Name", "Full Name", "Name") ' +
  'and company ("Company", "Company Name", "Organization")';

export function detectColumns(headers: string[]): CsvColumnMap {
  const normalized = headers.map(normalizeHeader);
  const taken = new Set<number>();
  const map: CsvColumnMap = {};
  const claim = (field: Field, i: number) => {
    map[field] = headers[i];
    taken.add(i);
  };
  for (const field of FIELD_ORDER) {
    for (const alias of ALIASES[field]) {
      const i = normalized.findIndex((n, j) => n === alias && !taken.has(j));
      if (i >= 0) {
        claim(field, i);
        break;
      }
    }
  }
  for (const field of FIELD_ORDER) {
    if (map[field]) continue;
    const rule = CONTAINS[field];
    const i = normalized.findIndex((n, j) => !taken.has(j) && rule.has.some((h) => n.includes(h)) && !(rule.not ?? []).some((x) => n.includes(x)));
    if (i >= 0) claim(field, i);
  }
  return map;
}

const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const HONORIFICS = /^(mr|mrs|ms|miss|mx|dr|prof|herr|frau|m|mme|sr|sra)\.?$/i;

/** "Jane Doe" -> Jane / Doe; "Doe, Jane" -> Jane / Doe; "Dr. Jean-Claude Van Damme" -> Jean-Claude / Van Damme. */
export function splitFullName(full: string): { firstName?: string; lastName?: string } {
  const text = full.trim().replace(/\s+/g, ' ');
  if (!text) return {};
  const comma = text.indexOf(',');
  if (comma > 0) {
    const last = text.slice(0, comma).trim();
    const first = text.slice(comma + 1).trim();
    return { firstName: first || undefined, lastName: last || undefined };
  }
  const words = text.split(' ');
  while (words.length > 2 && HONORIFICS.test(words[0])) words.shift();
  if (words.length === 1) return { firstName: words[0] };
  return { firstName: words[0], lastName: words.slice(1).join(' ') };
}

/** One row's input, or why there is none. `line` is the file line the row starts on. */
export function rowInput(map: CsvColumnMap, cells: Record<string, string>, line: number): { input: StructuredInput | null; problem?: string } {
  const cell = (field: Field) => {
    const header = map[field];
    const value = header === undefined ? '' : (cells[header] ?? '').trim();
    return value === '' ? undefined : value;
  };
  const input: StructuredInput = {};
  const notes: string[] = [];
  const email = cell('email');
  if (email && EMAIL_SHAPE.test(email)) input.email = email;
  else if (email) notes.push(`"${clip(email)}" in ${map.email} is not an email address`);
  let domain = cell('domain');
  let linkedin = cell('linkedinUrl');
  // A generic "URL" or "Website" column sometimes holds the person's LinkedIn profile.
  if (domain && !linkedin && /(^|\/\/|\.)linkedin\.com\//i.test(domain)) [linkedin, domain] = [domain, undefined];
  if (domain) input.domain = domain;
  if (linkedin && /linkedin\./i.test(linkedin)) input.linkedinUrl = linkedin;
  else if (linkedin) notes.push(`"${clip(linkedin)}" in ${map.linkedinUrl} is not a LinkedIn URL`);
  let first = cell('firstName');
  let last = cell('lastName');
  const full = cell('fullName');
  if (full && !first && !last) ({ firstName: first, lastName: last } = splitFullName(full));
  if (first) input.firstName = first;
  if (last) input.lastName = last;
  const company = cell('companyName');
  if (company) input.companyName = company;

  const hasName = Boolean(first || last);
  const usable = input.email || input.linkedinUrl || input.domain || (first && last && company) || (company && !hasName);
  if (!usable) {
    const why = hasName && company
      ? 'a first and a last name are both needed with the company'
      : 'no email, domain, LinkedIn URL or first and last name with a company';
    return { input: null, problem: `line ${line}: ${[why, ...notes].join('; ')}` };
  }
  const parsed = StructuredInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { input: null, problem: `line ${line}: ${String(issue?.path[0] ?? 'a value')} is too long (${issue?.message ?? 'invalid'})` };
  }
  return { input: parsed.data };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
