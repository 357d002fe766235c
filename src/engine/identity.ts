// Turns what a user typed (or a CSV row, or a webhook) into one normalized identity with a
// stable key. The key names records, caches and job ids, so "Jane@Acme.com " and
// "jane+crm@acme.com" are the same person and are never paid for twice.
import { createRequire } from 'node:module';
import { domainToASCII } from 'node:url';
import net from 'node:net';
import { parse as parseDomain } from 'tldts';
import { z } from 'zod';
import { EnrichbotError, ErrorCodes } from '../errors.js';

const require = createRequire(import.meta.url);
// A maintained list (free-email-domains) of free and disposable mail domains.
const FREE_MAIL = new Set<string>(require('free-email-domains') as string[]);

export function isFreeMailDomain(domain: string): boolean {
  return FREE_MAIL.has(domain.toLowerCase());
}

export type IdentityKind = 'email' | 'domain' | 'linkedin-person' | 'linkedin-company' | 'name-at-company' | 'company-name';

export interface PersonSeed {
  workEmail?: string;
  personalEmail?: string;
  firstName?: string;
  lastName?: string;
  fullName?: string;
  linkedinUrl?: string;
}
export interface CompanySeed {
  domain?: string;
  name?: string;
  linkedinUrl?: string;
}

export interface Identity {
  kind: IdentityKind;
  subject: 'person' | 'company';
  /** Stable within a workspace: records, caches and job ids derive from it. */
  key: string;
  person?: PersonSeed;
  company?: CompanySeed;
  /** What the user gave, normalized, for messages. */
  display: string;
}

const invalid = (message: string) => new EnrichbotError(ErrorCodes.INPUT_INVALID, message);

/** Lowercased and trimmed; the plus-tag is kept as typed. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  const at = email.lastIndexOf('@');
  if (at < 1 || at === email.length - 1 || /\s/.test(email)) {
    throw invalid(`"${raw.trim()}" is not an email address: expected name@company.com.`);
  }
  const domain = normalizeDomain(email.slice(at + 1));
  const local = email.slice(0, at);
  if (!/^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local)) {
    throw invalid(`"${raw.trim()}" is not an email address: its name part has characters an address cannot have.`);
  }
  return `${local}@${domain}`;
}

/** The form used to match: plus-tag dropped (jane+crm@acme.com matches jane@acme.com). */
export function emailMatchKey(email: string): string {
  const [local, domain] = [email.slice(0, email.lastIndexOf('@')), email.slice(email.lastIndexOf('@') + 1)];
  return `${local.split('+')[0]}@${domain}`;
}

/** Strips scheme, www., path and port; IDN to punycode; refuses IPs and bare suffixes. */
export function normalizeDomain(raw: string): string {
  let host = raw.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  host = host.split(/[/?#]/)[0];
  host = host.replace(/^[^@]*@/, '');
  if (host.startsWith('[')) throw invalid(`"${raw.trim()}" is an IP address, not a company domain: give a domain such as acme.com.`);
  host = host.replace(/:\d+$/, '').replace(/\.$/, '');
  const ascii = domainToASCII(host);
  if (!ascii) throw invalid(`"${raw.trim()}" is not a domain: give one such as acme.com.`);
  const parsed = parseDomain(ascii);
  if (parsed.isIp) throw invalid(`"${raw.trim()}" is an IP address, not a company domain: give a domain such as acme.com.`);
  if (!parsed.domain || !parsed.publicSuffix || !parsed.isIcann) {
    throw invalid(`"${raw.trim()}" is not a registrable domain (a bare suffix or unknown TLD): give one such as acme.com.`);
  }
  const hostname = (parsed.hostname ?? ascii).replace(/^www\./, '');
  return hostname;
}

/** The registrable part: app.acme.co.uk -> acme.co.uk. A company is known by this. */
export function registrableDomain(domain: string): string {
  return parseDomain(domain).domain ?? domain;
}

const LINKEDIN = /^(?:https?:\/\/)?(?:[a-z]{2,3}\.|www\.)?linkedin\.com\/(in|pub|company|school)\/([^/?#\s]+)/i;

export function normalizeLinkedinUrl(raw: string): { kind: 'person' | 'company'; url: string; slug: string } {
  const m = LINKEDIN.exec(raw.trim());
  if (!m) throw invalid(`"${raw.trim()}" is not a LinkedIn profile URL: expected linkedin.com/in/<name> or linkedin.com/company/<name>.`);
  let slug: string;
  try {
    slug = decodeURIComponent(m[2]).toLowerCase();
  } catch {
    slug = m[2].toLowerCase();
  }
  const kind = m[1].toLowerCase() === 'company' || m[1].toLowerCase() === 'school' ? 'company' : 'person';
  const path = kind === 'person' ? 'in' : 'company';
  return { kind, slug, url: `https://www.linkedin.com/${path}/${encodeURIComponent(slug)}` };
}

// Control characters (C0, DEL, C1) and the invisible bidi and zero-width marks that make
// "Acme" and "Ac<RLO>me" look alike but key differently (or reorder text in a Slack message).
const INVISIBLE = /[\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/g;

/** NFKC (full-width ａｃｍｅ．ｃｏｍ -> acme.com), invisible characters removed, whitespace collapsed. */
export function sanitizeInput(s: string): string {
  return s.normalize('NFKC').replace(INVISIBLE, (c) => (/[\t\n\r\u0085]/.test(c) ? ' ' : ''));
}

const collapse = (s: string) => sanitizeInput(s).trim().replace(/\s+/g, ' ');

/** Generic suffixes no company is called by itself ("com" is a typo or a probe, not a name). */
const BARE_SUFFIXES = new Set(['com', 'net', 'org', 'edu', 'gov', 'mil', 'int', 'info', 'biz', 'io', 'co', 'ai', 'app', 'dev', 'xyz', 'me', 'tv', 'cc']);

/** Why `name` cannot be a company name, or undefined when it can. */
function companyNameProblem(name: string): string | undefined {
  const t = name.toLowerCase();
  if (t.includes('@')) return `"${name}" looks like an incomplete email address, not a company name: give name@company.com, a domain or the company's name.`;
  const scheme = /^([a-z][a-z0-9+.-]*):\S/.exec(t);
  if (scheme) return `"${name}" is a ${scheme[1]}: address, not a company: give a company name or its website's domain.`;
  const bare = t.replace(/^\[|\]$/g, '');
  if (net.isIP(bare) || /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)(\.(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)){0,3}$/.test(bare)) {
    return `"${name}" is (or reads as) an IP address, not a company: give a company name or domain.`;
  }
  if (t === 'localhost' || /\.(localhost|local|internal|localdomain)$/.test(t)) return `"${name}" is a local host name, not a company: give a company name or domain.`;
  const suffix = t.replace(/^\./, '');
  if (BARE_SUFFIXES.has(suffix) || (suffix.includes('.') && !/\s/.test(suffix) && parseDomain(suffix).publicSuffix === suffix)) {
    return `"${name}" is a bare domain suffix, not a company: give a domain such as acme.com or the company's name.`;
  }
  return undefined;
}

function companyName(name: string): string {
  const problem = companyNameProblem(name);
  if (problem) throw invalid(problem);
  return name;
}

function splitName(full: string): { firstName?: string; lastName?: string; fullName: string } {
  const fullName = collapse(full);
  const parts = fullName.split(' ');
  if (parts.length === 1) return { fullName, firstName: parts[0] };
  return { fullName, firstName: parts[0], lastName: parts.slice(1).join(' ') };
}

function companyFromText(text: string): CompanySeed {
  const t = collapse(text);
  if (/^[^\s]+\.[a-z]{2,}$/i.test(t) || /^https?:\/\//i.test(t)) {
    try {
      return { domain: registrableDomain(normalizeDomain(t)) };
    } catch {
      /* not a domain: treat as a name */
    }
  }
  return { name: companyName(t) };
}

function companyKey(c: CompanySeed): string {
  if (c.domain) return `company:${c.domain}`;
  if (c.linkedinUrl) return `company:linkedin:${c.linkedinUrl.split('/').pop()}`;
  return `company:name:${(c.name ?? '').toLowerCase()}`;
}

/** Parses one line of user input: email, domain, LinkedIn URL, "First Last @ company", company name. */
export function parseIdentity(rawInput: string): Identity {
  const input = collapse(rawInput ?? '');
  if (!input) throw invalid('Nothing to enrich: give an email, a domain, a LinkedIn URL, "First Last @ company" or a company name.');
  if (input.length > 500) throw invalid('That input is longer than 500 characters: give one email, domain, LinkedIn URL or name.');
  if (/linkedin\.com\//i.test(input)) return linkedinIdentity(input);
  const nameAt = /^(.+?)\s+@\s+(.+)$/.exec(input);
  if (nameAt) return nameAtCompanyIdentity(input, { who: nameAt[1], where: nameAt[2] });
  if (/^[^\s@]+@[^\s@]+$/.test(input)) return emailIdentity(input);
  if (/^(https?:\/\/)?[^\s/]+\.[^\s/]+(\/.*)?$/i.test(input) && !/\s/.test(input)) return domainIdentity(input);
  if (/[\p{L}\p{N}]/u.test(input)) {
    const company = { name: companyName(input) };
    return { kind: 'company-name', subject: 'company', key: companyKey(company), company, display: input };
  }
  throw invalid(`"${input}" is not something enrichbot can look up: give an email, a domain, a LinkedIn URL, "First Last @ company" or a company name.`);
}

function linkedinIdentity(input: string): Identity {
  const li = normalizeLinkedinUrl(input);
  if (li.kind === 'person') {
    return { kind: 'linkedin-person', subject: 'person', key: `person:linkedin:${li.slug}`, person: { linkedinUrl: li.url }, display: li.url };
  }
  const company = { linkedinUrl: li.url };
  return { kind: 'linkedin-company', subject: 'company', key: companyKey(company), company, display: li.url };
}

/** "First Last @ company": the name needs a last name; the company is a domain or a name. */
function nameAtCompanyIdentity(input: string, parts: { who: string; where: string }): Identity {
  const name = splitName(parts.who);
  if (!name.lastName) throw invalid(`"${input}": give both first and last name before the @, e.g. "Jane Doe @ acme.com".`);
  const company = companyFromText(parts.where);
  const who = `${name.fullName.toLowerCase()}@${company.domain ?? (company.name ?? '').toLowerCase()}`;
  return {
    kind: 'name-at-company',
    subject: 'person',
    key: `person:name:${who}`,
    person: name,
    company,
    display: `${name.fullName} @ ${company.domain ?? company.name}`,
  };
}

/** A work email names its company by its domain; a free-mail address is a personal email with no company. */
function emailIdentity(input: string): Identity {
  const email = normalizeEmail(input);
  const domain = email.slice(email.lastIndexOf('@') + 1);
  const personal = isFreeMailDomain(domain);
  return {
    kind: 'email',
    subject: 'person',
    key: `person:email:${emailMatchKey(email)}`,
    person: personal ? { personalEmail: email } : { workEmail: email },
    company: personal ? undefined : { domain: registrableDomain(domain) },
    display: email,
  };
}

function domainIdentity(input: string): Identity {
  const domain = registrableDomain(normalizeDomain(input));
  if (isFreeMailDomain(domain)) {
    throw invalid(`${domain} is a free mail provider, not a company: give a company domain or a person's email.`);
  }
  return { kind: 'domain', subject: 'company', key: companyKey({ domain }), company: { domain }, display: domain };
}

/** Structured input (API bodies, CSV rows, webhooks). At least one usable identifier. */
export const StructuredInputSchema = z
  .object({
    email: z.string().max(320).optional(),
    domain: z.string().max(253).optional(),
    linkedinUrl: z.string().max(500).optional(),
    firstName: z.string().max(100).optional(),
    lastName: z.string().max(100).optional(),
    companyName: z.string().max(200).optional(),
    companyDomain: z.string().max(253).optional(),
  })
  .strict();
export type StructuredInput = z.infer<typeof StructuredInputSchema>;

export function identityFromFields(input: StructuredInput): Identity {
  if (input.email) {
    const id = parseIdentity(input.email);
    return withExtras(id, input);
  }
  if (input.linkedinUrl) return withExtras(parseIdentity(input.linkedinUrl), input);
  if (input.firstName && input.lastName && (input.companyDomain || input.companyName || input.domain)) {
    return parseIdentity(`${input.firstName} ${input.lastName} @ ${input.companyDomain ?? input.domain ?? input.companyName}`);
  }
  if (input.domain || input.companyDomain) return withExtras(parseIdentity((input.domain ?? input.companyDomain)!), input);
  if (input.companyName) return parseIdentity(input.companyName);
  throw invalid('Nothing usable to enrich: give an email, a LinkedIn URL, first and last name with a company, a domain or a company name.');
}

function withExtras(id: Identity, input: StructuredInput): Identity {
  if (id.subject !== 'person') return id;
  const person = { ...id.person };
  if (input.firstName) person.firstName = collapse(input.firstName);
  if (input.lastName) person.lastName = collapse(input.lastName);
  if (person.firstName && person.lastName && !person.fullName) person.fullName = `${person.firstName} ${person.lastName}`;
  const company = { ...id.company };
  if (!company.domain && input.companyDomain) company.domain = registrableDomain(normalizeDomain(input.companyDomain));
  if (!company.name && input.companyName) company.name = companyName(collapse(input.companyName));
  return { ...id, person, company: Object.keys(company).length ? company : undefined };
}

/** A request's input (free text or fields) as an identity, or INPUT_INVALID saying what to give. */
export function identityOfInput(input: string | StructuredInput): Identity {
  return typeof input === 'string' ? parseIdentity(input) : identityFromFields(input);
}
