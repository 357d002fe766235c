// Paid provider: company facts from the company's homepage, read by Firecrawl's scrape
// endpoint with a JSON-schema format (LLM extraction). /extract is not used: it answers
// HTTP 410 from 2026-12-10 (docs.firecrawl.dev/migrating-from-extract).
// The page fetched is always https://<normalized domain>, never a URL a user typed, and the
// domain passes the core's private-address check first: a self-hosted FIRECRAWL_BASE_URL runs
// inside our network, so an unchecked domain (resolving to 10.x or 169.254.169.254) would make
// Firecrawl an SSRF proxy.
// Billing (docs.firecrawl.dev/billing): 1 credit a page, +4 for the JSON format, +4 more when
// the (default, auto) proxy escalates to enhanced mode: up to 9. The answer's creditsUsed is
// what is recorded; without it, the worst case is.
import { z } from 'zod';
import { defineProvider, ErrorCodes, isEnrichbotError, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { COMPANY_JSON_SCHEMA, EXTRACTION_PROMPT } from './extraction-schema.js';
import { companyFieldsFrom } from './company-fields.js';

const ConfigSchema = z.object({
  /** Dollars per Firecrawl credit; used to turn a reported credit count into costUsd. */
  usdPerCredit: z.number().min(0).default(0.0025),
  /** Firecrawl's page cache: a cached copy younger than this is used (their default: 2 days). */
  maxAgeMs: z.number().int().min(0).default(172_800_000),
  /** Firecrawl's proxy mode; unset sends none and Firecrawl uses its default (auto). */
  proxy: z.enum(['basic', 'enhanced', 'auto']).optional(),
  /** Firecrawl's own time limit for the scrape; keep it under providers.firecrawl.timeoutMs. */
  scrapeTimeoutMs: z.number().int().positive().default(30_000),
  /** Credits recorded when an answer does not say (creditsUsed missing): the worst case, 1 + 4 JSON + 4 enhanced proxy. */
  worstCaseCredits: z.number().min(0).default(9),
  /** Confidence of facts an LLM read off the company's own homepage. */
  confidence: z.number().min(0).max(1).default(0.7),
});

// Documented answer shape (v2 openapi ScrapeResponse; JSON mode puts the result in data.json).
// metadata.creditsUsed is seen in live answers but not in the openapi schema: optional.
const ScrapeResponseSchema = z
  .object({
    success: z.literal(true),
    data: z
      .object({
        json: z.record(z.string(), z.unknown()).nullable().optional(),
        metadata: z
          .object({
            statusCode: z.number().int().optional(),
            sourceURL: z.string().optional(),
            creditsUsed: z.number().min(0).optional(),
            error: z.string().nullable().optional(),
          })
          .loose()
          .optional(),
        warning: z.string().nullable().optional(),
      })
      .loose(),
  })
  .loose();

// A host name only: the engine already normalized it, this keeps anything else out of the URL.
const HOSTNAME = /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A domain that does not resolve: HTTP 200 with success false (firecrawl/firecrawl PR #2402), billed 1 credit. */
function isDnsMiss(status: number, body: unknown): boolean {
  const b = body as { success?: unknown; code?: unknown } | null;
  return status === 200 && !!b && b.success === false && b.code === 'SCRAPE_DNS_RESOLUTION_ERROR';
}

export default defineProvider({
  kind: 'provider',
  id: 'firecrawl',
  description: "Company name, description, industry, size, founding year, location and LinkedIn page read from the company's homepage by Firecrawl (scrape with JSON extraction).",
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.firecrawl.dev',
    // Reserved per call: the worst case of 9 credits (page + JSON + enhanced proxy) at the
    // Standard plan's $5/2,000-credit rate; settled to the answer's creditsUsed.
    costs: { 'scrape-company': { usd: 0.0225, missCharged: true } },
    // Hobby plan: 100 /scrape requests a minute (docs.firecrawl.dev/rate-limits).
    ratePerSecond: 1.5,
  },
  operations: [
    {
      name: 'scrape-company',
      needs: [['domain']],
      returns: [
        'company.name',
        'company.description',
        'company.industry',
        'company.employeeCount',
        'company.employeeRange',
        'company.foundedYear',
        'company.city',
        'company.region',
        'company.country',
        'company.linkedinUrl',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        const domain = (input.domain ?? '').toLowerCase();
        if (!HOSTNAME.test(domain)) throw new ProviderError('client', `firecrawl: "${domain}" is not a domain name`);
        try {
          await ctx.safeFetch.checkHost(domain);
        } catch (err) {
          if (isEnrichbotError(err, ErrorCodes.URL_REFUSED)) throw new ProviderError('client', `firecrawl: ${err.message}`);
          // Not resolvable from here either: Firecrawl would bill a credit to say the same.
          if (isEnrichbotError(err, ErrorCodes.FETCH_FAILED)) return { outcome: 'no_match', reason: `${domain} does not resolve`, costUsd: 0 };
          throw err;
        }
        const res = await ctx.http.request({
          method: 'POST',
          path: '/v2/scrape',
          headers: { authorization: `Bearer ${ctx.settings.apiKey ?? ''}` },
          json: {
            url: `https://${domain}`,
            formats: [{ type: 'json', schema: COMPANY_JSON_SCHEMA, prompt: EXTRACTION_PROMPT }],
            onlyMainContent: false,
            maxAge: ctx.config.maxAgeMs,
            ...(ctx.config.proxy ? { proxy: ctx.config.proxy } : {}),
            timeout: ctx.config.scrapeTimeoutMs,
          },
          schema: ScrapeResponseSchema,
          isNoMatch: isDnsMiss,
        });

        if (res.kind === 'no_match') {
          const dns = isDnsMiss(res.status, res.raw);
          return {
            outcome: 'no_match',
            reason: dns ? `${domain} does not resolve` : `Firecrawl answered HTTP ${res.status}`,
            raw: res.raw,
            httpStatus: res.status,
            ...(dns ? { costUsd: ctx.config.usdPerCredit, usage: { credits: 1 } } : {}),
          };
        }

        const metadata = res.body.data.metadata ?? {};
        const credits = metadata.creditsUsed ?? ctx.config.worstCaseCredits;
        const billing = { costUsd: credits * ctx.config.usdPerCredit, usage: metadata.creditsUsed === undefined ? { credits, assumed: 'worst case: creditsUsed missing' } : { credits } };
        const siteStatus = metadata.statusCode;
        if (siteStatus !== undefined && siteStatus >= 400) {
          // Firecrawl bills these too: the target site itself answered an error (docs.firecrawl.dev/billing).
          return { outcome: 'no_match', reason: `https://${domain} answered HTTP ${siteStatus}`, raw: res.raw, httpStatus: res.status, ...billing };
        }
        const fields = companyFieldsFrom(res.body.data.json ?? {});
        if (Object.keys(fields).length === 0) {
          return { outcome: 'no_match', reason: `no company facts found on https://${domain}`, raw: res.raw, httpStatus: res.status, ...billing };
        }
        return { outcome: 'matched', fields, confidence: ctx.config.confidence, raw: res.raw, httpStatus: res.status, ...billing };
      },
    },
  ],
});
