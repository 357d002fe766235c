// Companies similar to a given one, suggested by Claude from the company's enriched facts, for the
// lookalike feature to verify (the model may name a domain that does not exist or is not theirs).
// Not an operation: it returns unverified candidates, never stored as facts as they are.
import { selectFacts, type Facts } from './facts.js';
import { LOOKALIKES_JSON_SCHEMA, LOOKALIKES_SYSTEM, LookalikesReplySchema, lookalikesUserMessage } from './prompts.js';
import { callStructured, type ClaudeClientOptions, type Usage } from './structured-call.js';

export interface LookalikeSuggestion {
  domain: string;
  name: string;
  reason: string;
}

export interface LookalikeSuggestions {
  suggestions: LookalikeSuggestion[];
  /** Token use and its cost, for the caller's ledger and spend cap (0 when Claude was not called). */
  usage: Usage;
  costUsd: number;
  raw?: unknown;
  /** Why the list is empty, when it is. */
  reason?: string;
}

export interface LookalikeOptions extends ClaudeClientOptions {
  /** At most this many suggestions (default 5). */
  count?: number;
  maxFactChars?: number;
}

const HOSTNAME = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** "https://www.Example.com/about" -> "example.com"; undefined when it is not a host name. */
export function normalizeDomain(value: string): string | undefined {
  const host = value
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/[/?#].*$/, '')
    .replace(/:\d+$/, '')
    .replace(/\.$/, '')
    .replace(/^www\./, '');
  return HOSTNAME.test(host) ? host : undefined;
}

export async function suggestLookalikes(options: LookalikeOptions, company: Facts): Promise<LookalikeSuggestions> {
  const count = options.count ?? 5;
  const { facts, descriptive } = selectFacts(company, 'company', options.maxFactChars ?? 1500);
  if (descriptive === 0) return { suggestions: [], usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, reason: 'too few facts to tell what the company does; Claude was not called' };

  const reply = await callStructured(options, { system: LOOKALIKES_SYSTEM, user: lookalikesUserMessage(facts, count), jsonSchema: LOOKALIKES_JSON_SCHEMA, schema: LookalikesReplySchema });
  if (reply.kind === 'refused') return { suggestions: [], usage: reply.usage, costUsd: reply.costUsd, raw: reply.raw, reason: 'Claude declined the request (stop_reason refusal)' };

  const own = typeof company['company.domain'] === 'string' ? normalizeDomain(company['company.domain']) : undefined;
  const seen = new Set<string>(own ? [own] : []);
  const suggestions: LookalikeSuggestion[] = [];
  for (const c of reply.value.companies) {
    const domain = normalizeDomain(c.domain);
    const reason = c.reason.trim();
    if (!domain || seen.has(domain) || !reason) continue;
    seen.add(domain);
    suggestions.push({ domain, name: c.name.trim() || domain, reason });
    if (suggestions.length >= count) break;
  }
  return { suggestions, usage: reply.usage, costUsd: reply.costUsd, raw: reply.raw, ...(suggestions.length ? {} : { reason: 'Claude suggested no usable company' }) };
}
