// Paid provider: web mentions of a person or a company (POST /search) and lookalike
// companies (POST /findSimilar) from Exa. Exa bills every call, also one that finds nothing,
// and states the bill in costDollars.total: that figure is returned as costUsd either way.
import { z } from 'zod';
import { defineProvider, type FieldPath, type LookupContext, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { callExa, type ExaCall } from './exa-api.js';
import { companyMentionsRequest, personMentionsRequest, toWebMentions } from './mentions.js';
import { toLookalikes } from './lookalikes.js';

const ConfigSchema = z.object({
  /** auto ($7/1k) is Exa's default; lite ($4/1k) is cheaper but rejects includeText. */
  searchType: z.enum(['auto', 'lite', 'neural', 'fast', 'instant']).default('auto'),
  numResults: z.number().int().min(1).max(50).default(10),
  /** Send includeText so every page must contain the person's or company's name. */
  requireNameInText: z.boolean().default(true),
  /** Page text asked for with person mentions, where the engine looks for identity evidence; 0 asks for none (then only titles and URLs are checked). */
  pageTextChars: z.number().int().min(0).max(5000).default(1500),
  similarNumResults: z.number().int().min(1).max(50).default(10),
  /** Exa category for /findSimilar results; null sends none. */
  similarCategory: z.enum(['company', 'news', 'personal site', 'financial report']).nullable().default('company'),
  /** Search results are about the right person or company most of the time, not always. */
  mentionsConfidence: z.number().min(0).max(1).default(0.7),
  /** Lookalikes are unverified candidates. */
  lookalikesConfidence: z.number().min(0).max(1).default(0.6),
});
type Config = z.infer<typeof ConfigSchema>;

const HOSTNAME = /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** The common ending of every operation: matched when there is something, charged either way. */
function finish(call: ExaCall, field: FieldPath, values: unknown[], confidence: number, empty: string): LookupResult {
  if (call.kind === 'no_match') return { outcome: 'no_match', reason: `Exa answered HTTP ${call.status}`, raw: call.raw, httpStatus: call.status };
  const cost = call.costUsd === undefined ? {} : { costUsd: call.costUsd };
  if (values.length === 0) return { outcome: 'no_match', reason: empty, raw: call.raw, httpStatus: call.status, ...cost };
  return { outcome: 'matched', fields: { [field]: values }, confidence, raw: call.raw, httpStatus: call.status, ...cost };
}

const searchSettings = (c: Config) => ({ searchType: c.searchType, numResults: c.numResults, requireNameInText: c.requireNameInText, pageTextChars: c.pageTextChars });

export default defineProvider({
  kind: 'provider',
  id: 'exa',
  description: 'Web mentions of a person or company, and lookalike companies, from the Exa search API.',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.exa.ai',
    // exa.ai/docs/reference/pricing: search $7 per 1,000 requests (up to 10 results). Empty answers are billed.
    costs: {
      'person-mentions': { usd: 0.007, missCharged: true },
      'company-mentions': { usd: 0.007, missCharged: true },
      'find-similar': { usd: 0.007, missCharged: true },
    },
    // exa.ai/docs/reference/rate-limits: /search 10 QPS; kept below it.
    ratePerSecond: 8,
  },
  operations: [
    {
      name: 'person-mentions',
      needs: [
        ['fullName', 'companyName'],
        ['fullName', 'domain'],
      ],
      returns: ['person.webMentions'],
      async lookup(input, ctx: LookupContext<Config>): Promise<LookupResult> {
        const call = await callExa(ctx, '/search', personMentionsRequest(input, searchSettings(ctx.config)));
        const mentions = call.kind === 'ok' ? toWebMentions(call.body.results) : [];
        return finish(call, 'person.webMentions', mentions, ctx.config.mentionsConfidence, `no pages mention ${input.fullName}`);
      },
    },
    {
      name: 'company-mentions',
      needs: [['companyName'], ['domain']],
      returns: ['company.webMentions'],
      async lookup(input, ctx: LookupContext<Config>): Promise<LookupResult> {
        const call = await callExa(ctx, '/search', companyMentionsRequest(input, searchSettings(ctx.config)));
        const mentions = call.kind === 'ok' ? toWebMentions(call.body.results) : [];
        return finish(call, 'company.webMentions', mentions, ctx.config.mentionsConfidence, `no pages mention ${input.companyName ?? input.domain}`);
      },
    },
    {
      // /findSimilar is deprecated in exa-js with "no direct replacement for URL-based
      // similarity" in /search, and still served; revisit when Exa publishes one.
      name: 'find-similar',
      needs: [['domain']],
      returns: ['company.lookalikes'],
      async lookup(input, ctx: LookupContext<Config>): Promise<LookupResult> {
        const domain = (input.domain ?? '').toLowerCase();
        if (!HOSTNAME.test(domain)) throw new ProviderError('client', `exa: "${domain}" is not a domain name`);
        const call = await callExa(ctx, '/findSimilar', {
          url: `https://${domain}`,
          numResults: ctx.config.similarNumResults,
          excludeSourceDomain: true,
          ...(ctx.config.similarCategory ? { category: ctx.config.similarCategory } : {}),
        });
        const lookalikes = call.kind === 'ok' ? toLookalikes(call.body.results, domain) : [];
        return finish(call, 'company.lookalikes', lookalikes, ctx.config.lookalikesConfidence, `Exa found no pages similar to ${domain}`);
      },
    },
  ],
});
