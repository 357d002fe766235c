// A person or company summary from the enriched facts only. No call when the facts are too thin;
// an empty summary from the model is no match too: the summary is never padded or made up.
import { type LookupContext, type LookupInput, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { selectFacts } from './facts.js';
import { SUMMARY_JSON_SCHEMA, SUMMARY_SYSTEM, SummaryReplySchema, summaryUserMessage } from './prompts.js';
import { callStructured, type ClaudeClientOptions, type Effort } from './structured-call.js';

export interface SummaryConfig {
  model: string;
  maxTokens: number;
  effort: Effort | null;
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
  confidence: number;
  minDescriptiveFacts: number;
  maxFactChars: number;
}

/** The field schema's limit (src/engine/fields.ts). */
const MAX_SUMMARY_CHARS = 4000;

export function clientOptions(ctx: LookupContext<SummaryConfig>): ClaudeClientOptions {
  const cfg = ctx.config;
  // Without a key the SDK would go looking for credentials elsewhere (profiles on disk, env).
  if (!ctx.settings.apiKey) throw new ProviderError('auth', 'anthropic: no API key; set ANTHROPIC_API_KEY');
  return {
    apiKey: ctx.settings.apiKey,
    baseUrl: ctx.settings.baseUrl,
    model: cfg.model,
    maxTokens: cfg.maxTokens,
    effort: cfg.effort,
    timeoutMs: ctx.settings.timeoutMs,
    inputUsdPerMTok: cfg.inputUsdPerMTok,
    outputUsdPerMTok: cfg.outputUsdPerMTok,
    signal: ctx.signal,
    fetch: ctx.http.pacedFetch,
  };
}

export async function summarize(subject: 'person' | 'company', input: LookupInput, ctx: LookupContext<SummaryConfig>): Promise<LookupResult> {
  const field = subject === 'person' ? 'person.summary' : 'company.summary';
  const { facts, descriptive } = selectFacts(input.known, subject, ctx.config.maxFactChars);
  if (descriptive < ctx.config.minDescriptiveFacts) {
    return { outcome: 'no_match', reason: `too few enriched facts to summarize (${descriptive} descriptive, ${ctx.config.minDescriptiveFacts} needed); Claude was not called`, costUsd: 0, raw: { facts } };
  }

  const reply = await callStructured(clientOptions(ctx), { system: SUMMARY_SYSTEM, user: summaryUserMessage(subject, facts), jsonSchema: SUMMARY_JSON_SCHEMA, schema: SummaryReplySchema });
  const usage = reply.usage;
  if (reply.kind === 'refused') return { outcome: 'no_match', reason: 'Claude declined the request (stop_reason refusal)', raw: reply.raw, httpStatus: 200, costUsd: reply.costUsd, usage };

  const summary = reply.value.summary.trim();
  if (!summary) return { outcome: 'no_match', reason: 'the facts are too thin for a summary (Claude returned an empty one)', raw: reply.raw, httpStatus: 200, costUsd: reply.costUsd, usage };
  if (summary.length > MAX_SUMMARY_CHARS) {
    throw new ProviderError('invalid_response', `anthropic: the summary is ${summary.length} characters, over the ${MAX_SUMMARY_CHARS} allowed`, { raw: reply.raw, costUsd: reply.costUsd, usage });
  }
  return { outcome: 'matched', fields: { [field]: summary }, confidence: ctx.config.confidence, raw: reply.raw, httpStatus: 200, costUsd: reply.costUsd, usage };
}
