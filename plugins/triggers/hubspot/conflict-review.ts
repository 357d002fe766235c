// Conflict review for another trigger (Slack's App Home), through `service.conflicts`: a page of
// one workspace's conflicts, newest first; Accept writes the provider's value of exactly that
// property of that record (the fill-only policy set aside for it alone), one batch update per
// object type per request; Keep dismisses. A workspace reaches only its own conflicts.
import type { ConflictAnswer, ConflictItem, ConflictRequest } from '../../../src/sdk/index.js';
import { updateBatch, type ConflictRow, type WriteInput, type WriteReport } from './write-back.js';
import { forPortal, type Hubspot } from './state.js';

type Row = ConflictRow & { _id: string; portalId?: string };

/**
 * A workspace's own conflicts, and HubSpot's own workspace's (its write-back) when the workspace
 * is bound to this account as for a push (pushWorkspaces, or the single-workspace Slack team by
 * default). Rows from before the workspace was kept are HubSpot's own workspace's.
 */
function ofWorkspace(h: Hubspot, request: Exclude<ConflictRequest, { op: 'count' }>) {
  const bound = (h.config.pushWorkspaces ?? [h.config.workspace]).includes(request.workspace) || (!h.config.pushWorkspaces && !!request.fromSoleWorkspace);
  if (request.workspace !== h.config.workspace && !bound) return { workspace: request.workspace };
  return { $or: [{ workspace: request.workspace }, { workspace: h.config.workspace }, { workspace: { $exists: false } }] };
}

const item = (r: Row): ConflictItem => ({
  id: r._id,
  objectType: r.objectType,
  objectId: r.objectId,
  record: r.record,
  property: r.property,
  destinationValue: r.hubspotValue,
  providerValue: r.providerValue,
  source: r.source,
  confidence: r.confidence,
  ...(r.reason ? { reason: r.reason } : {}),
  at: r.at,
});

export async function reviewConflicts(h: Hubspot, request: ConflictRequest): Promise<ConflictAnswer> {
  if (request.op === 'count') return { items: [], total: await h.conflicts.countDocuments({}) };
  const filter = ofWorkspace(h, request);
  if (request.op === 'list') {
    const total = await h.conflicts.countDocuments(filter);
    const rows = (await h.conflicts.find(filter).sort({ at: -1, _id: 1 }).skip(request.offset).limit(request.limit).toArray()) as unknown as Row[];
    return { items: rows.map(item), total };
  }
  const rows = (await h.conflicts.find({ $and: [filter, { _id: { $in: request.ids.slice(0, 100) as never[] } }] }).toArray()) as unknown as Row[];
  if (request.op === 'keep') {
    await removeSettled(h, rows);
    return { items: rows.map(item), total: rows.length };
  }
  const settled: Row[] = [];
  const failed: { id: string; error: string }[] = [];
  // Each portal's records are read and written with that portal's token (rows from before portals: the first).
  for (const portalId of new Set(rows.map((r) => r.portalId ?? ''))) {
    const hp = forPortal(h, portalId || undefined);
    for (const objectType of ['contacts', 'companies'] as const) {
      const ofType = rows.filter((r) => r.objectType === objectType && (r.portalId ?? '') === portalId);
      if (!ofType.length) continue;
      // HubSpot's value may have changed since (someone edited it): that edit is not overwritten.
      const current = new Map((await hp.api.read(objectType, [...new Set(ofType.map((r) => r.objectId))], [...new Set(ofType.map((r) => r.property))])).map((o) => [o.id, o.properties]));
      // One input per record: several accepted properties of one record go in one update.
      const inputs = new Map<string, WriteInput>();
      const stale = new Set<string>();
      for (const r of ofType) {
        const now = current.get(r.objectId);
        if (!now || (now[r.property] ?? '') !== (r.hubspotValue ?? '')) {
          stale.add(r._id);
          failed.push({ id: r._id, error: now ? `HubSpot's ${r.property} of ${r.record} changed since (now "${now[r.property] ?? ''}"); nothing was written: Keep it, or wait for the next enrichment` : `${objectType} ${r.objectId} is no longer in HubSpot` });
          continue;
        }
        const input = inputs.get(r.objectId) ?? { id: r.objectId, properties: {}, display: r.record, origins: {}, workspace: request.workspace };
        input.properties[r.property] = r.providerValue;
        input.origins![r.property] = { field: r.field, source: r.source, confidence: r.confidence };
        inputs.set(r.objectId, input);
      }
      const report: WriteReport = { written: 0, failed: [], updateCalls: 0, kept: {} };
      await updateBatch(hp, objectType, [...inputs.values()], report);
      const failedIds = new Map(report.failed.map((f) => [f.objectId, f.error]));
      for (const r of ofType) {
        if (stale.has(r._id)) continue;
        const error = failedIds.get(r.objectId);
        // A value HubSpot refused was dropped from its input (and recorded again with the reason).
        if (error || inputs.get(r.objectId)!.properties[r.property] === undefined) failed.push({ id: r._id, error: error ?? 'HubSpot refused the value' });
        else settled.push(r);
      }
    }
  }
  await removeSettled(h, settled);
  return { items: settled.map(item), total: settled.length, ...(failed.length ? { failed } : {}) };
}

/** Removes the rows as they were read: a newer disagreement recorded meanwhile (same id, later `at`) stays. */
async function removeSettled(h: Hubspot, rows: Row[]): Promise<void> {
  if (rows.length) await h.conflicts.deleteMany({ $or: rows.map((r) => ({ _id: r._id as never, at: r.at })) });
}
