// From queued webhook events to an enrichment batch. Events are taken in occurredAt order (HubSpot
// sends them in no guaranteed order); a privacy deletion is carried out at once and cancels
// whatever else was pending for that contact. Only records created or changed after the trigger
// was turned on are enriched; propertyChange events enrichbot itself caused are ignored.
import { ErrorCodes, type BatchItem, type BatchStatus } from '../../../src/sdk/index.js';
import type { ObjectType } from './hubspot-api.js';
import type { StoredEvent } from './webhook.js';
import { activatedAt, forPortal, objectKey, objectKeys, portalFilter, type Hubspot } from './state.js';
import type { WriteItem } from './write-back.js';
import { dropWrites, flushWrites, queueWrites } from './write-queue.js';
import { MERGE_EVENTS, mergeObjects } from './merge.js';

const SOURCE: Record<string, { objectType: ObjectType; property?: string }> = {
  'contact.creation': { objectType: 'contacts' },
  'company.creation': { objectType: 'companies' },
  'contact.propertyChange': { objectType: 'contacts', property: 'email' },
  'company.propertyChange': { objectType: 'companies', property: 'domain' },
};
const IDENTIFIER: Record<ObjectType, string> = { contacts: 'email', companies: 'domain' };
const MAX_ATTEMPTS = 10;
/** HubSpot's batch size: records are read (and later written) 100 per call. */
const CHUNK = 100;

/** The first requests whose events add up to at most 100 (at least one request). */
function firstChunk<D extends { events: StoredEvent[] }>(docs: D[]): D[] {
  let n = 0;
  const out: D[] = [];
  for (const d of docs) {
    n += d.events?.length ?? 0;
    if (out.length && n > CHUNK) break;
    out.push(d);
  }
  return out;
}

const draining = new WeakMap<Hubspot, Promise<void>>();

/** Processes every pending event (one drain at a time across processes, by lease). */
export function drain(h: Hubspot): Promise<void> {
  let p = draining.get(h);
  if (!p) {
    p = drainOnce(h).finally(() => draining.delete(h));
    draining.set(h, p);
  }
  return p;
}

/** The drain in progress in this process, if any (to let it finish on stop). */
export const drainInProgress = (h: Hubspot) => draining.get(h);

async function drainOnce(h: Hubspot): Promise<void> {
  const lease = await h.ctx.lease('drain', 120_000);
  if (!lease) return;
  let docs: { _id: string; attempts?: number; receivedAt?: number; events: StoredEvent[] }[] = [];
  try {
    for (;;) {
      docs = (await h.events.find({}).limit(50).toArray()) as unknown as typeof docs;
      if (!docs.length) return;
      // A steady stream of small deliveries is read and enriched 100 records at a time: fewer
      // wait until the oldest has waited drainDelayMs (its own kick, or the interval, comes back).
      const oldest = Math.min(...docs.map((d) => d.receivedAt ?? 0));
      if (docs.reduce((n, d) => n + (d.events?.length ?? 0), 0) < CHUNK && h.ctx.clock.now().getTime() - oldest < h.config.drainDelayMs) return;
      docs = firstChunk(docs);
      await processEvents(h, docs.flatMap((d) => d.events ?? []));
      await h.events.deleteMany({ _id: { $in: docs.map((d) => d._id) as never[] } });
    }
  } catch (err) {
    h.ctx.logger.error({ err }, 'HubSpot events not processed yet; they stay queued and are tried again');
    // A request whose events keep failing must not block the ones behind it forever.
    for (const d of docs) {
      if ((d.attempts ?? 0) + 1 >= MAX_ATTEMPTS) {
        h.ctx.logger.error({ eventIds: d.events.map((e) => e.eventId) }, `HubSpot events dropped after ${MAX_ATTEMPTS} failed attempts`);
        await h.events.deleteOne({ _id: d._id as never });
      } else await h.events.updateOne({ _id: d._id as never }, { $set: { attempts: (d.attempts ?? 0) + 1 } });
    }
  } finally {
    await lease.release();
  }
}

/** Each portal's events are handled in that portal (its keys, its token). */
export async function processEvents(h: Hubspot, events: StoredEvent[]): Promise<void> {
  const byPortal = new Map<string, StoredEvent[]>();
  for (const e of events) byPortal.set(String(e.portalId ?? ''), [...(byPortal.get(String(e.portalId ?? '')) ?? []), e]);
  for (const [portalId, list] of byPortal) await processPortalEvents(forPortal(h, portalId), list);
}

async function processPortalEvents(h: Hubspot, events: StoredEvent[]): Promise<void> {
  const since = await activatedAt(h);
  const sorted = [...events].sort((a, b) => a.occurredAt - b.occurredAt || Number(a.eventId) - Number(b.eventId));
  const wanted = new Map<string, { objectType: ObjectType; objectId: string; portalId: string }>();
  for (const e of sorted) {
    const key = (t: ObjectType) => objectKey(h, t, e.objectId);
    const merged = MERGE_EVENTS[e.subscriptionType];
    if (merged) {
      for (const id of await mergeObjects(h, merged, e)) wanted.delete(objectKey(h, merged, id));
      continue;
    }
    if (e.subscriptionType === 'contact.privacyDeletion') {
      wanted.delete(key('contacts'));
      await forgetContact(h, e.objectId);
      continue;
    }
    const source = SOURCE[e.subscriptionType];
    if (!source) {
      h.ctx.logger.info({ subscriptionType: e.subscriptionType }, 'HubSpot event type not handled; ignored');
      continue;
    }
    if (e.occurredAt < since) continue;
    if (source.property) {
      if (e.propertyName !== source.property || !e.propertyValue?.trim()) continue;
      if (await isOwnChange(h, source.objectType, e)) continue;
    } else if (await h.ctx.redis.exists(`created:${key(source.objectType)}`)) {
      continue; // created by our own push
    }
    wanted.set(key(source.objectType), { objectType: source.objectType, objectId: e.objectId, portalId: e.portalId });
  }
  if (wanted.size) await submit(h, [...wanted.values()], { source: 'webhook', label: 'HubSpot: new and changed records' });
}

async function isOwnChange(h: Hubspot, objectType: ObjectType, e: StoredEvent): Promise<boolean> {
  if (h.config.appId && e.sourceId && (e.sourceId === h.config.appId || e.sourceId === `app:${h.config.appId}`)) return true;
  for (const key of objectKeys(h, objectType, e.objectId)) {
    const wrote = await h.ctx.redis.hget(`wrote:${key}`, e.propertyName!);
    if (wrote !== null && wrote.trim().toLowerCase() === e.propertyValue!.trim().toLowerCase()) return true;
  }
  const known = await h.objects.findOne({ _id: { $in: objectKeys(h, objectType, e.objectId) as never[] } });
  const value = e.propertyValue!.trim().toLowerCase();
  return !!known && [known.input, ...((known.others as string[] | undefined) ?? [])].some((x) => String(x).toLowerCase() === value);
}

/** Reads the records (batch read), then queues them as one enrichment batch answered to this trigger. */
export async function submit(h: Hubspot, targets: { objectType: ObjectType; objectId: string; portalId?: string }[], opts: { source: string; label: string; actor?: string }): Promise<{ batchId?: string; accepted: number }> {
  const items: BatchItem[] = [];
  for (const objectType of ['contacts', 'companies'] as const) {
    const ids = targets.filter((t) => t.objectType === objectType).map((t) => t.objectId);
    if (!ids.length) continue;
    const rows = await h.api.read(objectType, ids, [IDENTIFIER[objectType]]);
    for (const r of rows) {
      const input = r.properties[IDENTIFIER[objectType]]?.trim();
      if (!input) {
        h.ctx.logger.info({ objectType, objectId: r.id }, `HubSpot record has no ${IDENTIFIER[objectType]}: nothing to enrich it by`);
        continue;
      }
      items.push({ input, columns: { hubspotObjectType: objectType, hubspotObjectId: r.id } });
    }
  }
  return submitItems(h, items, opts);
}

export async function submitItems(h: Hubspot, all: BatchItem[], opts: { source: string; label: string; actor?: string; forgottenChecked?: boolean }): Promise<{ batchId?: string; accepted: number }> {
  const checked = opts.forgottenChecked ? all : await withoutForgotten(h, all);
  if (!checked.length) return { accepted: 0 };
  // The portal travels with the item, so its result is written back to that portal.
  const items = checked.map((i) => ({ ...i, columns: { ...i.columns, hubspotPortalId: h.portalId } as Record<string, string> }));
  await rememberObjects(
    h,
    items.map((item) => ({ _id: objectKey(h, item.columns!.hubspotObjectType, item.columns!.hubspotObjectId), input: String(item.input) })),
  );
  const res = await h.ctx.service.submitBatch(items, { trigger: 'hubspot', address: { source: opts.source } }, { workspace: h.config.workspace, label: opts.label, actor: opts.actor ?? 'hubspot', columns: ['hubspotObjectType', 'hubspotObjectId', 'hubspotPortalId'] });
  for (const p of res.rejected) h.ctx.logger.warn({ objectId: items[p.index]?.columns?.hubspotObjectId, reason: p.reason, code: p.code }, 'HubSpot record not enriched');
  return { batchId: res.batchId, accepted: res.accepted };
}

/**
 * A person forgotten at their request (from any trigger) is dropped before anything naming them
 * is stored: not in the object map, not in a batch item. Only the HubSpot id and the reason code
 * are logged.
 */
export async function withoutForgotten(h: Hubspot, items: BatchItem[]): Promise<BatchItem[]> {
  const out: BatchItem[] = [];
  for (const item of items) {
    if (await h.ctx.service.isForgotten(h.config.workspace, item.input)) {
      h.ctx.logger.info({ objectType: item.columns?.hubspotObjectType, objectId: item.columns?.hubspotObjectId, code: ErrorCodes.IDENTITY_FORGOTTEN }, 'HubSpot record not enriched: this person was forgotten at their request');
    } else out.push(item);
  }
  return out;
}

/**
 * HubSpot object -> the input enrichbot used, for privacy deletions. Known ids are replaced, new
 * ones go in one insertMany (one upsert per record was minutes for 250 on FerretDB); if that
 * fails, one by one. Written before the batch is queued, so a failure here queues nothing twice.
 */
async function rememberObjects(h: Hubspot, all: { _id: string; input: string }[]): Promise<void> {
  const docs = [...new Map(all.map((d) => [d._id, d])).values()];
  if (!docs.length) return;
  const known = new Set((await h.objects.find({ _id: { $in: docs.map((d) => d._id) as never[] } }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
  const fresh = docs.filter((d) => !known.has(d._id));
  const oneByOne = docs.filter((d) => known.has(d._id));
  if (fresh.length) {
    try {
      await h.objects.insertMany(fresh as never[], { ordered: false });
    } catch {
      oneByOne.push(...fresh);
    }
  }
  // $set keeps the workspaces a push recorded on the object.
  for (const d of oneByOne) await h.objects.updateOne({ _id: d._id as never }, { $set: { input: d.input } }, { upsert: true });
}

/**
 * contact.privacyDeletion: enrichbot forgets the person, in HubSpot's workspace and in every
 * workspace that pushed them here, and the trigger drops all it kept about them.
 */
export async function forgetContact(h: Hubspot, objectId: string): Promise<void> {
  const keys = objectKeys(h, 'contacts', objectId);
  const known = await h.objects.findOne({ _id: { $in: keys as never[] } });
  // A merged contact was enriched by several emails: each one is forgotten, in HubSpot's workspace
  // and in every workspace that pushed the contact here.
  const inputs = known?.input ? [String(known.input), ...((known.others as string[] | undefined) ?? [])] : [];
  const pushedFrom = known && Array.isArray(known.workspaces) ? (known.workspaces as unknown[]).map(String) : [];
  for (const workspace of new Set([h.config.workspace, ...pushedFrom])) {
    for (const input of inputs) await h.ctx.service.forget(workspace, input, 'hubspot:privacy-deletion');
  }
  if (!inputs.length) h.ctx.logger.info({ objectId }, 'HubSpot privacy deletion for a contact enrichbot never enriched: nothing to forget');
  await h.objects.deleteMany({ _id: { $in: keys as never[] } });
  await h.conflicts.deleteMany({ objectType: 'contacts', objectId, ...portalFilter(h) });
  await dropWrites(h, 'contacts', objectId);
  for (const key of keys) await h.ctx.redis.del(`wrote:${key}`, `created:${key}`);
}

/** A finished batch: the results that belong to HubSpot records are queued to go back to them. */
export async function deliverBatch(h: Hubspot, status: BatchStatus): Promise<void> {
  const items: WriteItem[] = [];
  for await (const row of h.ctx.service.results(status.batchId, status.workspace)) {
    const objectType = row.columns.hubspotObjectType as ObjectType | undefined;
    const objectId = row.columns.hubspotObjectId;
    if (!objectType || !objectId || row.status !== 'done' || !row.result) continue;
    items.push({ portalId: row.columns.hubspotPortalId || h.config.portalIds[0], objectType, objectId, views: { person: row.result.person, company: row.result.company }, display: row.result.display });
  }
  await queueWrites(h, status.batchId, items);
  await flushWrites(h);
}
