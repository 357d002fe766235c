// Paid provider (Claude, Messages API): short sales-ready summaries of a person or company, written
// only from the facts the other providers found (`input.known`), with structured JSON output.
// Cost is the real token cost of each call. suggestLookalikes is exported for the lookalike feature.
import { z } from 'zod';
import { defineProvider, type ProviderOperation } from '../../../src/sdk/index.js';
import { summarize, clientOptions } from './summarize.js';
import { suggestLookalikes } from './lookalikes.js';
import { DEFAULT_BASE_URL, DEFAULT_INPUT_USD_PER_MTOK, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_OUTPUT_USD_PER_MTOK } from './structured-call.js';

export { suggestLookalikes, type LookalikeSuggestion, type LookalikeSuggestions, type LookalikeOptions } from './lookalikes.js';
export type { ClaudeClientOptions } from './structured-call.js';

const ConfigSchema = z.object({
  /** Any Messages API model with structured outputs; prices below must match it. */
  model: z.string().min(1).default(DEFAULT_MODEL),
  /** Dollars per million input / output tokens, for the cost of each call. */
  inputUsdPerMTok: z.number().min(0).default(DEFAULT_INPUT_USD_PER_MTOK),
  outputUsdPerMTok: z.number().min(0).default(DEFAULT_OUTPUT_USD_PER_MTOK),
  maxTokens: z.number().int().positive().default(DEFAULT_MAX_TOKENS),
  /** output_config.effort: low keeps Haiku 5.5's adaptive thinking short; null sends none. */
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullable().default('low'),
  /** Confidence of a summary written from facts already at or above the engine's threshold. */
  confidence: z.number().min(0).max(1).default(0.8),
  /** Facts beyond names, domains and links needed before Claude is called at all. */
  minDescriptiveFacts: z.number().int().min(0).default(1),
  /** Longer text values are shortened to this many characters before they are sent. */
  maxFactChars: z.number().int().positive().default(1500),
  /** How many lookalike companies to ask for. */
  lookalikeCount: z.number().int().min(1).max(10).default(6),
});
type Config = z.infer<typeof ConfigSchema>;

// wantsKnown: the engine passes `known` (field path -> value) only to operations that ask for it.
const personSummary: ProviderOperation<Config> & { wantsKnown: true } = {
  name: 'person-summary',
  needs: [['fullName'], ['workEmail'], ['linkedinUrl']],
  returns: ['person.summary'],
  wantsKnown: true,
  lookup: (input, ctx) => summarize('person', input, ctx),
};

const companySummary: ProviderOperation<Config> & { wantsKnown: true } = {
  name: 'company-summary',
  needs: [['domain'], ['companyName']],
  returns: ['company.summary'],
  wantsKnown: true,
  lookup: (input, ctx) => summarize('company', input, ctx),
};

// Candidates only: the engine verifies each domain with a company provider before showing it,
// and marks the ones it cannot confirm as unverified.
const lookalikes: ProviderOperation<Config> & { wantsKnown: true } = {
  name: 'lookalikes',
  needs: [['domain'], ['companyName']],
  returns: ['company.lookalikes'],
  wantsKnown: true,
  async lookup(input, ctx) {
    const r = await suggestLookalikes({ ...clientOptions(ctx), count: ctx.config.lookalikeCount, maxFactChars: ctx.config.maxFactChars }, input.known ?? {});
    if (!r.suggestions.length) return { outcome: 'no_match', reason: r.reason, costUsd: r.costUsd, usage: r.usage, raw: r.raw };
    return {
      outcome: 'matched',
      fields: { 'company.lookalikes': r.suggestions.map((c) => ({ domain: c.domain, name: c.name, reason: c.reason, verified: false, sources: ['anthropic'] })) },
      confidence: 0.5,
      costUsd: r.costUsd,
      usage: r.usage,
      raw: r.raw,
      httpStatus: 200,
    };
  },
};

export default defineProvider({
  kind: 'provider',
  id: 'anthropic',
  description: 'Short sales-ready summaries of a person or company written by Claude from the enriched facts only (paid, per token).',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: DEFAULT_BASE_URL,
    // Spend-cap reservation per call; the ledger gets the real token cost (costUsd) instead.
    // ~1,500 input + ~600 output tokens at Haiku 5.5 prices is about $0.0005.
    costs: {
      'person-summary': { usd: 0.001, missCharged: true },
      'company-summary': { usd: 0.001, missCharged: true },
      lookalikes: { usd: 0.002, missCharged: true },
    },
  },
  operations: [personSummary, companySummary, lookalikes],
});
