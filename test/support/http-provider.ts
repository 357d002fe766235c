// A provider plugin for engine tests that really calls a local fake server over HTTP: the
// fake decides the answer; the engine under test does everything else.
import { z } from 'zod';
import { defineProvider, type InputKey, type LookupResult } from '../../src/plugin/contract.js';
import type { FieldPath } from '../../src/engine/fields.js';

const Answer = z.object({
  found: z.boolean(),
  fields: z.record(z.string(), z.unknown()).optional(),
  confidence: z.number().optional(),
  costUsd: z.number().optional(),
});

export function httpProvider(opts: {
  id: string;
  operation?: string;
  needs?: InputKey[][];
  returns: FieldPath[];
  usd?: number;
  missCharged?: boolean;
  requiresApiKey?: boolean;
  ratePerSecond?: number;
}) {
  const operation = opts.operation ?? 'lookup';
  return defineProvider({
    kind: 'provider',
    id: opts.id,
    description: `test provider ${opts.id}`,
    configSchema: z.object({}).loose(),
    requiresApiKey: opts.requiresApiKey ?? false,
    defaults: { costs: { [operation]: { usd: opts.usd ?? 0.01, missCharged: opts.missCharged ?? false } }, ratePerSecond: opts.ratePerSecond },
    operations: [
      {
        name: operation,
        needs: opts.needs ?? [['domain'], ['workEmail']],
        returns: opts.returns,
        async lookup(input, ctx): Promise<LookupResult> {
          const res = await ctx.http.request({ method: 'POST', path: `/${opts.id}`, json: input, headers: { 'x-key': ctx.settings.apiKey ?? '' }, schema: Answer });
          if (res.kind === 'no_match' || !res.body.found) return { outcome: 'no_match', raw: res.raw, httpStatus: res.status, costUsd: res.kind === 'ok' ? res.body.costUsd : undefined };
          return { outcome: 'matched', fields: res.body.fields ?? {}, confidence: res.body.confidence ?? 0.9, raw: res.raw, httpStatus: res.status, costUsd: res.body.costUsd };
        },
      },
    ],
  });
}

/** A fake's answer for a company lookup: `Name of <domain>`, found. */
export const companyNameAnswer = (req: { json?: unknown }) => ({ json: { found: true, fields: { 'company.name': `Name of ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } });

/**
 * The App parts of a company waterfall with one paid provider `co` at `url` (a fake answering
 * POST /co): its plugin and the config that enables it, plus `overrides` merged at the top level.
 */
export function oneCompanyProvider(url: string, usd: number, overrides: Record<string, unknown> = {}) {
  return {
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd }) },
    overrides: { plugins: { providers: ['co'] }, providers: { co: { baseUrl: url, apiKey: 'k' } }, waterfalls: { companyProfile: ['co'] }, ...overrides },
  };
}
