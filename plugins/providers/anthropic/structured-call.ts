// One Messages API call whose reply is constrained to a JSON schema (structured outputs,
// `output_config.format`), then checked again with zod, with token usage and its dollar cost.
// Docs: https://platform.claude.com/docs/en/build-with-claude/structured-outputs
import Anthropic from '@anthropic-ai/sdk';
import type { z } from 'zod';
import { ProviderError } from '../../../src/sdk/index.js';
import { toProviderError } from './sdk-errors.js';

export const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** The current Haiku (platform.claude.com/docs/en/models/haiku-5-5/overview, "Latest", Oct 2026). */
export const DEFAULT_MODEL = 'claude-haiku-5-5';
/** Claude Haiku 5.5 list prices for prompts up to 100K tokens (ours are a few hundred). */
export const DEFAULT_INPUT_USD_PER_MTOK = 0.1;
export const DEFAULT_OUTPUT_USD_PER_MTOK = 0.5;
export const DEFAULT_MAX_TOKENS = 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;

export type Effort = 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/** What a caller needs to reach Claude; everything but the key has a default. */
export interface ClaudeClientOptions {
  apiKey: string;
  baseUrl?: string;
  model?: string;
  /** Thinking tokens count toward it on models that think (Haiku 5.5 thinks adaptively). */
  maxTokens?: number;
  /** output_config.effort; null leaves it out (models without the effort parameter). */
  effort?: Effort | null;
  timeoutMs?: number;
  inputUsdPerMTok?: number;
  outputUsdPerMTok?: number;
  signal?: AbortSignal;
  /** The engine's paced fetch (ctx.http.pacedFetch): the SDK's requests wait for a rate-limit grant. */
  fetch?: typeof fetch;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export type StructuredReply<T> =
  | { kind: 'ok'; value: T; usage: Usage; costUsd: number; raw: unknown }
  /** stop_reason "refusal": the model's safety classifiers declined; nothing usable came back. */
  | { kind: 'refused'; usage: Usage; costUsd: number; raw: unknown };

export function costOf(usage: Usage, opts: Pick<ClaudeClientOptions, 'inputUsdPerMTok' | 'outputUsdPerMTok'>): number {
  const input = opts.inputUsdPerMTok ?? DEFAULT_INPUT_USD_PER_MTOK;
  const output = opts.outputUsdPerMTok ?? DEFAULT_OUTPUT_USD_PER_MTOK;
  return (usage.inputTokens * input + usage.outputTokens * output) / 1_000_000;
}

export function createClaudeClient(opts: ClaudeClientOptions): Anthropic {
  // Without a key the SDK would look for credentials elsewhere (ANTHROPIC_PROFILE, config files).
  if (!opts.apiKey) throw new ProviderError('auth', 'anthropic: no API key; set ANTHROPIC_API_KEY');
  return new Anthropic({
    apiKey: opts.apiKey,
    baseURL: opts.baseUrl ?? DEFAULT_BASE_URL,
    // The engine owns retries (with backoff, Retry-After and the circuit breaker).
    maxRetries: 0,
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    logLevel: 'off',
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}

export interface StructuredRequest<S extends z.ZodType> {
  system: string;
  user: string;
  /** JSON Schema sent as output_config.format.schema (objects need additionalProperties: false). */
  jsonSchema: Record<string, unknown>;
  /** The same shape in zod: the reply is validated again before it is used. */
  schema: S;
}

export async function callStructured<S extends z.ZodType>(opts: ClaudeClientOptions, req: StructuredRequest<S>): Promise<StructuredReply<z.infer<S>>> {
  const client = createClaudeClient(opts);
  let message: Anthropic.Message;
  try {
    message = await client.messages.create(
      {
        model: opts.model ?? DEFAULT_MODEL,
        max_tokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS,
        system: req.system,
        messages: [{ role: 'user', content: req.user }],
        output_config: {
          format: { type: 'json_schema', schema: req.jsonSchema },
          ...(opts.effort ? { effort: opts.effort } : {}),
        },
      },
      { signal: opts.signal },
    );
  } catch (err) {
    throw toProviderError(err, opts.signal);
  }

  const raw = message as unknown;
  const usage: Usage = { inputTokens: message.usage?.input_tokens ?? 0, outputTokens: message.usage?.output_tokens ?? 0 };
  const costUsd = costOf(usage, opts);
  if (message.stop_reason === 'refusal') return { kind: 'refused', usage, costUsd, raw };

  // Replies can open with thinking blocks: take the text blocks, not the first block.
  const text = (message.content ?? [])
    .filter((b): b is Anthropic.TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('');
  if (message.stop_reason === 'max_tokens') {
    throw new ProviderError('invalid_response', `anthropic: the reply was cut off at max_tokens (${opts.maxTokens ?? DEFAULT_MAX_TOKENS}); raise providers.anthropic.maxTokens`, { raw, costUsd, usage });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProviderError('invalid_response', `anthropic: the reply is not JSON (${(err as Error).message})`, { raw, cause: err, costUsd, usage });
  }
  const parsed = req.schema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError('invalid_response', `anthropic: the reply does not match the requested schema (${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')})`, { raw, costUsd, usage });
  }
  return { kind: 'ok', value: parsed.data, usage, costUsd, raw };
}
