// Free provider: does a company's domain receive mail, and through which service? Read from its
// MX records with node:dns on configurable resolvers. A domain that exists without MX is a real
// answer (acceptsMail false); a domain that does not exist (NXDOMAIN) is no match.
import { z } from 'zod';
import { defineProvider, type LookupResult } from '../../../src/sdk/index.js';
import { resolveMx } from './resolve-mx.js';
import { mailProviderOf } from './mail-providers.js';

const ConfigSchema = z.object({
  /** Resolvers as "host" or "host:port" ("[v6]:port"); empty = the system's. */
  servers: z.array(z.string().min(1)).default([]),
  /** Time limit of the first try per server (c-ares doubles it on each retry). */
  queryTimeoutMs: z.number().int().positive().default(2000),
  /** Attempts per server before giving up; the engine retries the whole call on top. */
  tries: z.number().int().min(1).max(5).default(2),
  /** MX records exist: the domain receives mail (the records are the domain owner's own statement). */
  confidence: z.number().min(0).max(1).default(0.95),
  /** The domain exists without MX. RFC 5321 §5.1 still allows delivery to its A record, rare in practice. */
  noMxConfidence: z.number().min(0).max(1).default(0.9),
  /** mailProvider when the MX hosts belong to no known service ("other"). */
  otherProviderConfidence: z.number().min(0).max(1).default(0.6),
});

/** RFC 7505 "null MX": a single record "0 ." says the domain accepts no mail. */
const isNullMx = (exchange: string) => exchange === '' || exchange === '.';

export default defineProvider({
  kind: 'provider',
  id: 'dns',
  description: "Whether a company's domain receives mail, its mail provider (Google Workspace, Microsoft 365...) and MX hosts, from DNS (free).",
  configSchema: ConfigSchema,
  requiresApiKey: false,
  defaults: { costs: { mx: { usd: 0, missCharged: false } } },
  operations: [
    {
      name: 'mx',
      needs: [['domain']],
      returns: ['company.acceptsMail', 'company.mailProvider', 'company.mxHosts'],
      async lookup(input, ctx): Promise<LookupResult> {
        const domain = input.domain!;
        const cfg = ctx.config;
        const answer = await resolveMx(domain, { servers: cfg.servers, timeoutMs: cfg.queryTimeoutMs, tries: cfg.tries, signal: ctx.signal });

        if (answer.kind === 'nxdomain') return { outcome: 'no_match', reason: `${domain} does not exist in DNS (NXDOMAIN)`, raw: { domain, rcode: 'NXDOMAIN' } };
        if (answer.kind === 'no_mx') {
          return { outcome: 'matched', fields: { 'company.acceptsMail': false }, confidence: cfg.noMxConfidence, raw: { domain, mx: [] } };
        }

        const sorted = answer.records
          .map((r) => ({ exchange: r.exchange, priority: r.priority }))
          .sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
        const raw = { domain, mx: sorted };
        if (sorted.every((r) => isNullMx(r.exchange))) {
          return { outcome: 'matched', fields: { 'company.acceptsMail': false }, confidence: cfg.confidence, raw: { ...raw, nullMx: true } };
        }
        const hosts = [...new Set(sorted.filter((r) => !isNullMx(r.exchange)).map((r) => r.exchange.toLowerCase().replace(/\.$/, '')))].slice(0, 50);
        const { provider, recognized } = mailProviderOf(hosts);
        return {
          outcome: 'matched',
          fields: { 'company.acceptsMail': true, 'company.mailProvider': provider, 'company.mxHosts': hosts },
          confidence: cfg.confidence,
          fieldConfidence: { 'company.mailProvider': recognized ? cfg.confidence : cfg.otherProviderConfidence },
          raw,
        };
      },
    },
  ],
});
