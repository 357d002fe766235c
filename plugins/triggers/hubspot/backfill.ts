// `enrichbot hubspot backfill`: records that existed before the trigger was turned on are never
// enriched by webhooks; this finds those never enriched (no enrichbot_last_enriched_at) with the
// search API, 100 per page, and queues them as one batch.
import type { BatchItem } from '../../../src/sdk/index.js';
import type { ObjectType } from './hubspot-api.js';
import { submitItems } from './intake.js';
import type { Hubspot } from './state.js';

const IDENTIFIER: Record<ObjectType, string> = { contacts: 'email', companies: 'domain' };

export interface BackfillOptions {
  since?: Date;
  limit?: number;
  objectTypes?: ObjectType[];
  actor?: string;
}

export async function backfill(h: Hubspot, opts: BackfillOptions = {}): Promise<{ batchId?: string; found: number; accepted: number }> {
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
  const res = await submitItems(h, items, { source: 'backfill', label: 'HubSpot backfill', actor: opts.actor });
  return { ...res, found: items.length };
}
