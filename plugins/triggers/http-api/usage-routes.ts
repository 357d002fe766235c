// GET /v1/usage?from=&to=: what the key's workspace spent, per UTC day and provider (calls, hits,
// USD), read from the cost ledger through the service's spend report, so it matches the CLI's
// `enrichbot spend` and the digest to the cent. Every day of the range is listed, zero or not.
import type { Router } from 'express';
import { z } from 'zod';
import type { TriggerContext } from '../../../src/plugin/contract.js';
import { utcDay } from '../../../src/clock.js';
import type { HttpApiConfig } from './config.js';
import { callerKey, requireScope } from './auth.js';
import { fieldErrors, validationProblem } from './problem.js';

export const MAX_USAGE_DAYS = 92;
const DAY_MS = 86_400_000;

export const UsageQuerySchema = z
  .strictObject({
    from: z.iso.date().optional().meta({ description: 'First UTC day (YYYY-MM-DD); default: 6 days before `to`.' }),
    to: z.iso.date().optional().meta({ description: 'Last UTC day, included; default: today.' }),
  })
  .meta({ description: `At most ${MAX_USAGE_DAYS} days.` });

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

export function mountUsageRoute(router: Router, ctx: TriggerContext<HttpApiConfig>): void {
  router.get('/usage', requireScope('read'), async (req, res) => {
    const q = UsageQuerySchema.safeParse(req.query);
    if (!q.success) throw validationProblem(fieldErrors(q.error), 'The query');
    const to = q.data.to ?? utcDay(ctx.clock.now());
    const from = q.data.from ?? utcDay(new Date(Date.parse(to) - 6 * DAY_MS));
    const span = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (span < 1) throw validationProblem([{ path: 'from', message: `from (${from}) is after to (${to}): swap them` }], 'The query');
    if (span > MAX_USAGE_DAYS) throw validationProblem([{ path: 'from', message: `${span} days asked, at most ${MAX_USAGE_DAYS}: ask for a shorter range` }], 'The query');
    const { workspace } = callerKey(res);
    const days = [];
    const totals = new Map<string, { provider: string; calls: number; hits: number; costUsd: number }>();
    for (let i = 0; i < span; i++) {
      const day = utcDay(new Date(Date.parse(from) + i * DAY_MS));
      const report = await ctx.service.spend(day, workspace);
      const providers = report.byProvider.map((p) => ({ provider: p.provider, calls: p.calls, hits: p.matched, costUsd: p.costUsd }));
      for (const p of providers) {
        const t = totals.get(p.provider) ?? { provider: p.provider, calls: 0, hits: 0, costUsd: 0 };
        totals.set(p.provider, { provider: p.provider, calls: t.calls + p.calls, hits: t.hits + p.hits, costUsd: round(t.costUsd + p.costUsd) });
      }
      days.push({ day, costUsd: report.totalUsd, providers });
    }
    const byProvider = [...totals.values()].sort((a, b) => b.costUsd - a.costUsd || a.provider.localeCompare(b.provider));
    res.json({ workspace, from, to, costUsd: round(byProvider.reduce((s, p) => s + p.costUsd, 0)), byProvider, days });
  });
}
