// What `enrichbot hubspot ...` (cli.ts) and the tests do with this trigger's context from a
// started App: set up properties, list conflicts, backfill, flush the write queue.
import type { TriggerContext } from '../../../src/sdk/index.js';
import type { HubspotConfig } from './config.js';
import { hubspotFor } from './state.js';
import { flushWrites } from './write-queue.js';
import { backfill, type BackfillOptions } from './backfill.js';
import { listConflicts } from './write-back.js';
import { ensureProperties } from './properties.js';
import { definitions, refreshDefinitions } from './property-definitions.js';

type Ctx = TriggerContext<HubspotConfig> | TriggerContext;
export const hubspotConflicts = (ctx: Ctx, limit?: number) => listConflicts(hubspotFor(ctx), limit);
export const hubspotBackfill = (ctx: Ctx, opts?: BackfillOptions) => backfill(hubspotFor(ctx), opts);
export const hubspotSetup = (ctx: Ctx) => ensureProperties(hubspotFor(ctx).api);
/** The mapped properties' definitions as enrichbot uses them; `refresh` reads them from HubSpot again. */
export async function hubspotProperties(ctx: Ctx, refresh = false) {
  const h = hubspotFor(ctx);
  if (refresh) await refreshDefinitions(h);
  return { contacts: await definitions(h, 'contacts'), companies: await definitions(h, 'companies') };
}
/** Writes what waits for a full chunk of 100 now (`all`), or only what is due. */
export const hubspotFlush = (ctx: Ctx, opts?: { all?: boolean }) => flushWrites(hubspotFor(ctx), opts);
/** Whether all of the batch's results were written back (or failed). */
export async function hubspotDelivered(ctx: Ctx, batchId: string): Promise<{ written: number; failed: number } | undefined> {
  const v = await ctx.redis.get(`delivered:${batchId}`);
  return v ? (JSON.parse(v) as { written: number; failed: number }) : undefined;
}
