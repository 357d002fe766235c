// Conflict review for another trigger (Slack's App Home), through `service.conflicts`: a page of
// one workspace's conflicts, newest first; Accept writes the provider's value of exactly that
// property of that record (the fill-only policy set aside for it alone), one batch update per
// object type per request; Keep dismisses. A workspace reaches only its own conflicts.
import type { ConflictAnswer, ConflictItem, ConflictRequest } from '../../../src/sdk/index.js';
import { updateBatch, type ConflictRow, type WriteInput, type WriteReport } from './write-back.js';
import type { Hubspot } from './state.js';

type Row = ConflictRow & { _id: string };

/** Rows from before the workspace was kept are HubSpot's own workspace's. */
const ofWorkspace = (h: Hubspot, workspace: string) => (workspace === h.config.workspace ? { $or: [{ workspace }, { workspace: { $exists: false } }] } : { workspace });

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
  const filter = ofWorkspace(h, request.workspace);
  if (request.op === 'list') {
    const total = await h.conflicts.countDocuments(filter);
    const rows = (await h.conflicts.find(filter).sort({ at: -1, _id: 1 }).skip(request.offset).limit(request.limit).toArray()) as unknown as Row[];
    return { items: rows.map(item), total };
  }
  const rows = (await h.conflicts.find({ $and: [filter, { _id: { $in: request.ids.slice(0, 100) as never[] } }] }).toArray()) as unknown as Row[];
  if (request.op === 'keep') {
    await h.conflicts.deleteMany({ _id: { $in: rows.map((r) => r._id) as never[] } });
    return { items: rows.map(item), total: rows.length };
  }
  const settled: Row[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const objectType of ['contacts', 'companies'] as const) {
    const ofType = rows.filter((r) => r.objectType === objectType);
    if (!ofType.length) continue;
    // One input per record: several accepted properties of one record go in one update.
    const inputs = new Map<string, WriteInput>();
    for (const r of ofType) {
      const input = inputs.get(r.objectId) ?? { id: r.objectId, properties: {}, display: r.record, origins: {}, workspace: request.workspace };
      input.properties[r.property] = r.providerValue;
      input.origins![r.property] = { field: r.field, source: r.source, confidence: r.confidence };
      inputs.set(r.objectId, input);
    }
    const report: WriteReport = { written: 0, failed: [], updateCalls: 0, kept: {} };
    await updateBatch(h, objectType, [...inputs.values()], report);
    const failedIds = new Map(report.failed.map((f) => [f.objectId, f.error]));
    for (const r of ofType) {
      const error = failedIds.get(r.objectId);
      // A value HubSpot refused was dropped from its input (and recorded again with the reason).
      if (error || inputs.get(r.objectId)!.properties[r.property] === undefined) failed.push({ id: r._id, error: error ?? 'HubSpot refused the value' });
      else settled.push(r);
    }
  }
  await h.conflicts.deleteMany({ _id: { $in: settled.map((r) => r._id) as never[] } });
  return { items: settled.map(item), total: settled.length, ...(failed.length ? { failed } : {}) };
}
