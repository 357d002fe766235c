// Which SEC registrant an input means: by CIK, by ticker, by company name (normalized compare
// with the tickers file's titles), or weakly by the domain's label ("apple" of apple.com).
// A name that fits more than one registrant matches none.
import { parse as parseDomain } from 'tldts';
import type { LookupInput } from '../../../src/sdk/index.js';
import { normalizeCompanyName } from './company-names.js';
import { normalizeTicker, padCik, type TickerEntry, type TickerIndex } from './tickers.js';

export type MatchedBy = 'cik' | 'ticker' | 'name' | 'domain';

export interface CompanyMatch {
  cik: string;
  ticker?: string;
  matchedBy: MatchedBy;
}

export type MatchAttempt = { match: CompanyMatch } | { match?: undefined; reason: string };

/** One registrant, or none when the entries belong to several CIKs. */
function single(entries: TickerEntry[] | undefined): TickerEntry | 'ambiguous' | undefined {
  if (!entries?.length) return undefined;
  return new Set(entries.map((e) => e.cik)).size === 1 ? entries[0] : 'ambiguous';
}

export function matchByCik(input: LookupInput): CompanyMatch | undefined {
  const digits = input.secCik?.replace(/\D/g, '');
  return digits && digits.length <= 10 && Number(digits) > 0 ? { cik: padCik(digits), matchedBy: 'cik' } : undefined;
}

export function matchInIndex(input: LookupInput, index: TickerIndex): MatchAttempt {
  const reasons: string[] = [];
  if (input.ticker) {
    const hit = index.byTicker.get(normalizeTicker(input.ticker));
    if (hit) return { match: { cik: hit.cik, ticker: hit.ticker, matchedBy: 'ticker' } };
    reasons.push(`no SEC registrant has the ticker ${input.ticker}`);
  }
  if (input.companyName) {
    const hit = single(index.byName.get(normalizeCompanyName(input.companyName)));
    if (hit && hit !== 'ambiguous') return { match: { cik: hit.cik, ticker: hit.ticker, matchedBy: 'name' } };
    reasons.push(hit === 'ambiguous' ? `"${input.companyName}" fits several SEC registrants` : `no SEC registrant is named "${input.companyName}"`);
  }
  if (input.domain) {
    const label = (parseDomain(input.domain).domainWithoutSuffix ?? '').replace(/[^a-z0-9]/gi, '').toLowerCase();
    const hit = label.length >= 3 ? single(index.byCompactName.get(label)) : undefined;
    if (hit && hit !== 'ambiguous') return { match: { cik: hit.cik, ticker: hit.ticker, matchedBy: 'domain' } };
    reasons.push(`no SEC registrant's name matches ${input.domain}`);
  }
  return { reason: reasons.join('; ') || 'nothing to match on' };
}
