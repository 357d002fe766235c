// Lookalike companies from Exa /findSimilar: pages Exa rates similar to the company's
// homepage, reduced to one unverified candidate per registrable domain.
import { parse as parseDomain } from 'tldts';
import type { ExaResult } from './exa-api.js';
import { usableUrl } from './exa-api.js';

export interface Lookalike {
  domain: string;
  name?: string;
  reason: string;
  verified: false;
  sources: string[];
}

/**
 * The title segment that names the site: "Online payments - Checkout.com" on checkout.com ->
 * "Checkout.com". A title with no segment containing the domain's label gives no name.
 */
function nameFromTitle(title: string | null | undefined, domain: string): string | undefined {
  const label = (parseDomain(domain).domainWithoutSuffix ?? '').replace(/[^a-z0-9]/g, '');
  if (!title || !label) return undefined;
  const segments = title.split(/\s+[|–—·:-]\s+/).map((s) => s.replace(/\s+/g, ' ').trim());
  return segments.find((s) => s.length <= 80 && s.toLowerCase().replace(/[^a-z0-9]/g, '').includes(label));
}

function registrable(hostname: string): string | undefined {
  const parsed = parseDomain(hostname);
  return parsed.domain && parsed.isIcann && !parsed.isIp ? parsed.domain : undefined;
}

export function toLookalikes(results: ExaResult[], sourceDomain: string, max = 20): Lookalike[] {
  const own = registrable(sourceDomain) ?? sourceDomain;
  const seen = new Set<string>([own]);
  const out: Lookalike[] = [];
  for (const r of results) {
    const url = usableUrl(r.url);
    const domain = url ? registrable(url.hostname) : undefined;
    if (!domain || seen.has(domain)) continue;
    seen.add(domain);
    const score = typeof r.score === 'number' ? ` (similarity ${r.score.toFixed(2)})` : '';
    const name = nameFromTitle(r.title, domain);
    out.push({
      domain,
      ...(name ? { name } : {}),
      reason: `Exa rates ${r.url} similar to the homepage of ${sourceDomain}${score}`,
      verified: false,
      sources: ['exa'],
    });
    if (out.length >= max) break;
  }
  return out;
}
