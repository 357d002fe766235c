// Exa's answer shape for /search and /findSimilar, and the one call both operations make.
// Shape from exa-js src/index.ts (SearchResponse, SearchResult, CostDollars); every answer
// carries costDollars.total, the dollars actually billed, also when results is empty.
import { z } from 'zod';
import type { LookupContext } from '../../../src/sdk/index.js';

const ResultSchema = z
  .object({
    id: z.string().optional(),
    url: z.string(),
    title: z.string().nullable().optional(),
    publishedDate: z.string().nullable().optional(),
    author: z.string().nullable().optional(),
    score: z.number().nullable().optional(),
    /** Page text, when the request asked for contents.text. */
    text: z.string().nullable().optional(),
  })
  .loose();

export const ExaResponseSchema = z
  .object({
    requestId: z.string().optional(),
    results: z.array(ResultSchema),
    costDollars: z.object({ total: z.number().min(0) }).loose().optional(),
  })
  .loose();

export type ExaResult = z.infer<typeof ResultSchema>;
export type ExaResponse = z.infer<typeof ExaResponseSchema>;

export type ExaCall =
  | { kind: 'ok'; status: number; body: ExaResponse; raw: unknown; costUsd?: number }
  | { kind: 'no_match'; status: number; raw: unknown };

export async function callExa(ctx: LookupContext, path: '/search' | '/findSimilar', json: Record<string, unknown>): Promise<ExaCall> {
  const res = await ctx.http.request({
    method: 'POST',
    path,
    headers: { 'x-api-key': ctx.settings.apiKey ?? '' },
    json,
    schema: ExaResponseSchema,
  });
  if (res.kind === 'no_match') return { kind: 'no_match', status: res.status, raw: res.raw };
  return { kind: 'ok', status: res.status, body: res.body, raw: res.raw, costUsd: res.body.costDollars?.total };
}

/** An http(s) URL that fits the canonical field (max 500 characters), or undefined. */
export function usableUrl(raw: string): URL | undefined {
  if (raw.length > 500) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}
