// Identity evidence for web mentions of a person (issue 21): a page that names "Jane Doe" is
// often about another Jane Doe. A mention is kept only when the page itself (title, URL, text)
// carries the person's company domain, their LinkedIn URL, or their full name together with
// their company's name; the rest are rejected with a reason the outcome shows.
import { parse as parseDomain } from 'tldts';

/** What is known about the person the mentions should be about. */
export interface PersonEvidence {
  fullName?: string;
  companyName?: string;
  /** The company's registrable domain ("acme.com"). */
  domain?: string;
  linkedinUrl?: string;
}

/** A mention as a provider gives it: `text` (an excerpt of the page) is read here, never stored. */
export interface MentionIn {
  title?: string;
  url: string;
  publishedDate?: string;
  text?: string;
}

export interface KeptMention {
  title: string;
  url: string;
  publishedDate?: string;
  /** Which evidence matched, one short phrase ("company domain acme.com"). */
  evidence: string;
}

export interface Screened {
  kept: KeptMention[];
  rejected: { url: string; reason: string }[];
}

/** Only this much of a page is read: linear, bounded work per mention. */
const MAX_TEXT = 5000;
/** Hosts that say nothing about an employer when a page names them. */
const GENERIC_HOSTS = new Set(['linkedin.com', 'twitter.com', 'x.com', 'facebook.com', 'github.com', 'medium.com', 'youtube.com', 'instagram.com', 'google.com', 'wikipedia.org', 'crunchbase.com']);
const LEGAL_SUFFIX = /[\s,]+(inc|llc|ltd|limited|gmbh|ag|sa|sas|bv|plc|corp|corporation|co|company|srl|oy|ab)\.?$/i;

const squash = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The phrase as whole words (case and spacing ignored). */
function hasPhrase(hay: string, phrase: string): boolean {
  const p = squash(phrase);
  if (!p) return false;
  return new RegExp(`(?<![\\p{L}\\p{N}])${escapeRe(p).replace(/ /g, '\\s+')}(?![\\p{L}\\p{N}])`, 'u').test(hay);
}

/** "acme.com" as a host or address in text, not inside "notacme.com" or "acme.com.au". */
function hasDomain(hay: string, domain: string): boolean {
  return new RegExp(`(?<![a-z0-9-])${escapeRe(domain.toLowerCase())}(?![a-z0-9-]|\\.[a-z0-9])`).test(hay);
}

function linkedinSlug(url: string | undefined): string | undefined {
  const m = url ? /linkedin\.com\/in\/([^/?#\s]+)/i.exec(url) : null;
  return m ? decodeURIComponent(m[1]).toLowerCase() : undefined;
}

/** "Acme Inc." -> "Acme": the name as pages usually write it. */
export function companyCore(name: string): string {
  let core = name.trim();
  for (let i = 0; i < 2; i++) core = core.replace(LEGAL_SUFFIX, '').trim();
  return core || name.trim();
}

function registrable(host: string): string | undefined {
  const p = parseDomain(host);
  return p.domain && p.isIcann && !p.isIp ? p.domain : undefined;
}

/** The first company-looking domain on the page that is not the person's own. */
function otherDomain(text: string, own: string | undefined): string | undefined {
  for (const m of text.matchAll(/(?<![a-z0-9-])(?:[a-z0-9-]{1,63}\.){1,4}[a-z]{2,24}(?![a-z0-9-])/g)) {
    const d = registrable(m[0]);
    if (d && d !== own && !GENERIC_HOSTS.has(d)) return d;
  }
  return undefined;
}

function evidenceOf(m: MentionIn, who: PersonEvidence, hay: string, host: string | undefined): string | undefined {
  const slug = linkedinSlug(who.linkedinUrl);
  if (slug && hay.includes(`linkedin.com/in/${slug}`)) return `LinkedIn URL linkedin.com/in/${slug}`;
  const domain = who.domain?.toLowerCase();
  if (domain && ((host && (host === domain || host.endsWith(`.${domain}`))) || hasDomain(hay, domain))) return `company domain ${domain}`;
  if (who.fullName && who.companyName && hasPhrase(hay, who.fullName) && hasPhrase(hay, companyCore(who.companyName))) return `name + company "${companyCore(who.companyName)}"`;
  return undefined;
}

function rejection(m: MentionIn, who: PersonEvidence, hay: string, host: string | undefined): string {
  const named = who.fullName ? hasPhrase(hay, who.fullName) : false;
  if (!named) return 'name not on the page';
  const slug = linkedinSlug(m.url);
  if (slug && linkedinSlug(who.linkedinUrl)) return `same name, other LinkedIn profile: linkedin.com/in/${slug}`;
  // The page's own address is left out: a news site's host is not an employer.
  const other = otherDomain(squash(`${m.title ?? ''} ${(m.text ?? '').slice(0, MAX_TEXT)}`), who.domain?.toLowerCase());
  if (other) return `same name, other company: ${other}`;
  const company = who.domain ?? (who.companyName ? companyCore(who.companyName) : undefined);
  return `same name, nothing ties it to ${company ?? 'the company'}${host ? ` (page on ${host})` : ''}`;
}

export function screenMentions(mentions: MentionIn[], who: PersonEvidence): Screened {
  const out: Screened = { kept: [], rejected: [] };
  for (const m of mentions) {
    let host: string | undefined;
    try {
      host = new URL(m.url).hostname.toLowerCase().replace(/^www\./, '');
    } catch {
      host = undefined;
    }
    const hay = squash(`${m.title ?? ''} ${m.url} ${(m.text ?? '').slice(0, MAX_TEXT)}`);
    const evidence = evidenceOf(m, who, hay, host);
    if (evidence) {
      out.kept.push({ title: m.title || host || m.url, url: m.url, ...(m.publishedDate ? { publishedDate: m.publishedDate } : {}), evidence });
    } else {
      out.rejected.push({ url: m.url, reason: rejection(m, who, hay, host) });
    }
  }
  return out;
}

/** One line for an outcome: "2 rejected: same name, other company: beta.io; name not on the page". */
export function describeRejected(rejected: Screened['rejected']): string {
  const reasons = [...new Set(rejected.map((r) => r.reason))];
  return `${rejected.length} rejected: ${reasons.join('; ')}`;
}
