// Web mentions of a person or a company: the Exa /search request for each, and the results
// turned into the canonical webMentions list ({ title, url, publishedDate? }).
import type { ExaResult } from './exa-api.js';
import { usableUrl } from './exa-api.js';

export interface SearchSettings {
  searchType: string;
  numResults: number;
  requireNameInText: boolean;
  /** Characters of page text asked for with person mentions (0: none): the engine looks in it for identity evidence. */
  pageTextChars: number;
}

export interface WebMention {
  title: string;
  url: string;
  publishedDate?: string;
  /** An excerpt of the page, read by the engine's identity check and not stored. */
  text?: string;
}

const quoted = (s: string) => `"${s.replace(/"/g, '').trim()}"`;

/**
 * includeText: pages must contain the name. Exa takes one string of up to five words, and the
 * lite search type rejects the parameter with a 400 (exa.ai/changelog).
 */
function includeText(name: string | undefined, s: SearchSettings): { includeText?: string[] } {
  if (!name || !s.requireNameInText || s.searchType === 'lite') return {};
  const clean = name.replace(/"/g, '').trim();
  return clean && clean.split(/\s+/).length <= 5 ? { includeText: [clean] } : {};
}

export function personMentionsRequest(input: { fullName?: string; companyName?: string; domain?: string }, s: SearchSettings): Record<string, unknown> {
  const fullName = input.fullName ?? '';
  const where = input.companyName ? quoted(input.companyName) : (input.domain ?? '');
  return {
    query: `${quoted(fullName)} ${where}`.trim(),
    type: s.searchType,
    numResults: s.numResults,
    ...includeText(fullName, s),
    // Text for 10 results is included in the search price (exa.ai/docs/changelog/pricing-update).
    ...(s.pageTextChars > 0 ? { contents: { text: { maxCharacters: s.pageTextChars } } } : {}),
  };
}

/** Third-party pages about the company: its own site is left out when the domain is known. */
export function companyMentionsRequest(input: { companyName?: string; domain?: string }, s: SearchSettings): Record<string, unknown> {
  return {
    query: input.companyName ? quoted(input.companyName) : (input.domain ?? ''),
    type: s.searchType,
    numResults: s.numResults,
    ...includeText(input.companyName, s),
    ...(input.domain ? { excludeDomains: [input.domain] } : {}),
  };
}

/** Exa dates are ISO timestamps ("2023-11-16T01:36:32.547Z"); the day is kept. */
function day(raw: string | null | undefined): string | undefined {
  const m = raw ? /^(\d{4}-\d{2}-\d{2})/.exec(raw) : null;
  return m ? m[1] : undefined;
}

const MAX_TEXT_CHARS = 5000;

export function toWebMentions(results: ExaResult[], max = 50): WebMention[] {
  const seen = new Set<string>();
  const out: WebMention[] = [];
  for (const r of results) {
    const url = usableUrl(r.url);
    if (!url || seen.has(url.href)) continue;
    seen.add(url.href);
    const title = r.title?.replace(/\s+/g, ' ').trim() || url.hostname;
    const publishedDate = day(r.publishedDate);
    const text = r.text ? r.text.slice(0, MAX_TEXT_CHARS) : undefined;
    out.push({ title, url: r.url, ...(publishedDate ? { publishedDate } : {}), ...(text ? { text } : {}) });
    if (out.length >= max) break;
  }
  return out;
}
