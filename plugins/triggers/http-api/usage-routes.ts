// GET /v1/usage?from=&to=: what the key's workspace spent, per UTC day and provider (calls, hits,
// cached answers, USD), read from the cost ledger by the service (src/service/usage.ts), counted
// as the digest counts them. Every day of the range is listed, zero or not.
import type { Router } from 'express';
import { z } from 'zod';
import type { TriggerContext } from '../../../src/sdk/index.js';
import { utcDay } from '../../../src/sdk/index.js';
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

export function mountUsageRoute(router: Router, ctx: TriggerContext<HttpApiConfig>): void {
  router.get('/usage', requireScope('read'), async (req, res) => {
    const q = UsageQuerySchema.safeParse(req.query);
    if (!q.success) throw validationProblem(fieldErrors(q.error), 'The query');
    const to = q.data.to ?? utcDay(ctx.clock.now());
    const from = q.data.from ?? utcDay(new Date(Date.parse(to) - 6 * DAY_MS));
    const span = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (span < 1) throw validationProblem([{ path: 'from', message: `from (${from}) is after to (${to}): swap them` }], 'The query');
    if (span > MAX_USAGE_DAYS) throw validationProblem([{ path: 'from', message: `${span} days asked, at most ${MAX_USAGE_DAYS}: ask for a shorter range` }], 'The query');
    res.json(await ctx.service.usage(callerKey(res).workspace, from, to));
  });
}
