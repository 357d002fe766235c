// `enrichbot hubspot backfill`: records that existed before the trigger was turned on are never
// enriched by webhooks; this finds those never enriched (no enrichbot_last_enriched_at) with the
// search API, 100 per page, and queues them as one batch. The records are read once: the same
// inputs are priced (`decide` sees the estimate before any paid call) and then submitted.
import type { BatchEstimate, BatchItem } from '../../../src/sdk/index.js';
import type { ObjectType } from './hubspot-api.js';
import { submitItems, withoutForgotten } from './intake.js';
import type { Hubspot } from './state.js';

const IDENTIFIER: Record<ObjectType, string> = { contacts: 'email', companies: 'domain' };

export interface BackfillOptions {
  since?: Date;
  limit?: number;
  objectTypes?: ObjectType[];
  actor?: string;
  /** Sees the estimate of what was found; false submits nothing (a dry run, or a refusal). */
  decide?: (estimate: BatchEstimate) => Promise<boolean>;
}

export interface BackfillResult {
  batchId?: string;
  found: number;
  accepted: number;
  estimate?: BatchEstimate;
  /** `decide` said no: nothing was submitted. */
  declined?: boolean;
}

export async function backfill(h: Hubspot, opts: BackfillOptions = {}): Promise<BackfillResult> {
  const limit = opts.limit ?? 10_000;
  const items: BatchItem[] = [];
  for (const objectType of opts.objectTypes ?? (['contacts', 'companies'] as const)) {
    const filters = [
      { propertyName: 'enrichbot_last_enriched_at', operator: 'NOT_HAS_PROPERTY' },
      { propertyName: IDENTIFIER[objectType], operator: 'HAS_PROPERTY' },
      ...(opts.since ? [{ propertyName: 'createdate', operator: 'GTE', value: String(opts.since.getTime()) }] : []),
    ];
    let after: string | undefined;
    while (items.length < limit) {
      const page = await h.api.call(`search of ${objectType}`, (c) =>
        c.crm.objects.searchApi.doSearch(objectType, { filterGroups: [{ filters: filters as never }], properties: [IDENTIFIER[objectType]], sorts: ['createdate'], limit: Math.min(100, limit - items.length), after: after as never }),
      );
      for (const r of page.results) {
        const input = (r.properties as Record<string, string | null>)[IDENTIFIER[objectType]]?.trim();
        if (input && items.length < limit) items.push({ input, columns: { hubspotObjectType: objectType, hubspotObjectId: String(r.id) } });
      }
      after = page.paging?.next?.after;
      if (!after || !page.results.length) break;
    }
  }
  const usable = await withoutForgotten(h, items);
  if (!usable.length) return { found: items.length, accepted: 0 };
  const estimate = await h.ctx.service.estimate(usable, { workspace: h.config.workspace });
  if (opts.decide && !(await opts.decide(estimate))) return { found: items.length, accepted: 0, estimate, declined: true };
  const res = await submitItems(h, usable, { source: 'backfill', label: 'HubSpot backfill', actor: opts.actor, forgottenChecked: true });
  if (res.batchId) await h.ctx.service.keepEstimate(res.batchId, estimate);
  return { ...res, found: items.length, estimate };
}
