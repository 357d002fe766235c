// One POST to LeadMagic (header X-API-Key), the billing it reports (every answer carries
// `credits_consumed`, 0 for a miss, turned into the call's actual cost), and the checks every
// operation applies to what goes out (no empty keys) and comes back (a real address).
import type { z } from 'zod';
import type { LookupContext, LookupResult, ProviderResponse } from '../../../src/sdk/index.js';

export function postLeadMagic<S extends z.ZodType>(ctx: LookupContext<unknown>, path: string, json: Record<string, unknown>, schema: S): Promise<ProviderResponse<z.infer<S>>> {
  return ctx.http.request({ method: 'POST', path, headers: { 'X-API-Key': ctx.settings.apiKey ?? '' }, json, schema });
}

/** credits_consumed x the plan's price per credit; nothing when the answer does not say. */
export function billing(creditsConsumed: number | null | undefined, usdPerCredit: number): Pick<LookupResult, 'costUsd' | 'usage'> {
  if (typeof creditsConsumed !== 'number') return {};
  return { costUsd: Math.round(creditsConsumed * usdPerCredit * 1e6) / 1e6, usage: { credits: creditsConsumed } };
}

/** Drops undefined entries so the request body only carries what we know. */
export function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}
