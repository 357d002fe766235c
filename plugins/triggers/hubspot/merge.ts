// contact.merge / company.merge: HubSpot keeps one record (primaryObjectId, or a new id given as
// newObjectId) and removes the merged ones (mergedObjectIds). The survivor inherits what enrichbot
// kept about them all: the inputs it enriched them by (so a privacy deletion forgets every one,
// and an email change to a merged-in address is no new person), the written-values cache, the
// conflicts and any queued write. Nothing is enriched again: a merge is no new information.
import type { ObjectType } from './hubspot-api.js';
import { objectKey, objectKeys, portalFilter, type Hubspot } from './state.js';
import type { StoredEvent } from './webhook.js';

export const MERGE_EVENTS: Record<string, ObjectType> = { 'contact.merge': 'contacts', 'company.merge': 'companies' };

/** The surviving id and the ids that are gone. */
export function mergeParts(e: StoredEvent): { survivor: string; gone: string[] } {
  const survivor = e.newObjectId ?? e.primaryObjectId ?? e.objectId;
  const gone = [...new Set([e.primaryObjectId, e.objectId, ...(e.mergedObjectIds ?? [])])].filter((id): id is string => !!id && id !== survivor);
  return { survivor, gone };
}

/** Moves enrichbot's state to the survivor; returns the ids that are gone. */
export async function mergeObjects(h: Hubspot, objectType: ObjectType, e: StoredEvent): Promise<string[]> {
  const { survivor, gone } = mergeParts(e);
  if (!gone.length) return [];
  const to = objectKey(h, objectType, survivor);
  // Records from before keys carried a portal are found (and moved) too.
  const goneKeys = gone.flatMap((id) => objectKeys(h, objectType, id));
  const oldTo = objectKeys(h, objectType, survivor).filter((k) => k !== to);

  const docs = (await h.objects.find({ _id: { $in: [to, ...oldTo, ...goneKeys] as never[] } }).toArray()) as unknown as { _id: string; input: string; others?: string[] }[];
  const own = docs.find((d) => d._id === to) ?? docs.find((d) => oldTo.includes(d._id));
  const inputs = [...new Set([own?.input, ...docs.flatMap((d) => [d.input, ...(d.others ?? [])])].filter((x): x is string => !!x))];
  if (inputs.length) await h.objects.replaceOne({ _id: to as never }, { input: inputs[0], others: inputs.slice(1) }, { upsert: true });
  await h.objects.deleteMany({ _id: { $in: [...oldTo, ...goneKeys] as never[] } });

  for (const key of goneKeys) {
    const wrote = await h.ctx.redis.hgetall(`wrote:${key}`);
    for (const [property, value] of Object.entries(wrote)) await h.ctx.redis.hsetnx(`wrote:${to}`, property, value);
    if (Object.keys(wrote).length) await h.ctx.redis.expire(`wrote:${to}`, 86400);
    await h.ctx.redis.del(`wrote:${key}`, `created:${key}`);
  }
  // A merge into a new record sends that record's creation event: it is no new person.
  if (e.newObjectId) await h.ctx.redis.set(`created:${to}`, '1', 'EX', 86400);

  const conflicts = await h.conflicts.find({ objectType, objectId: { $in: gone }, ...portalFilter(h) }).toArray();
  for (const c of conflicts) {
    const { _id, ...row } = c as Record<string, unknown>;
    await h.conflicts.replaceOne({ _id: `${h.portalId}:${objectType}:${survivor}:${String(row.property)}` as never }, { ...row, portalId: h.portalId, objectId: survivor }, { upsert: true });
  }
  await h.conflicts.deleteMany({ objectType, objectId: { $in: gone }, ...portalFilter(h) });
  await h.writes.updateMany({ objectType, objectId: { $in: gone }, ...portalFilter(h) }, { $set: { objectId: survivor } });
  h.ctx.logger.info({ objectType, survivor, gone }, 'HubSpot merge: enrichbot state moved to the surviving record');
  return gone;
}
