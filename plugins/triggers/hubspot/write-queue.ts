// Write-back across deliveries: a finished batch's results wait in the plugin's `writes`
// collection and are written 100 records at a time (HubSpot's batch size), so a steady stream of
// small webhook batches costs one read and one update per 100 records, not per delivery. A chunk
// that is not full is written once its oldest record has waited `writeDelayMs`. One process
// writes at a time (lease); any process's timer picks up what a stopped one left.
import type { ObjectType } from './hubspot-api.js';
import { forPortal, portalFilter, type Hubspot } from './state.js';
import { writeBack, type WriteItem, type WriteReport } from './write-back.js';

interface PendingWrite {
  _id: string;
  /** Absent on writes queued before portals were kept: the first configured portal. */
  portalId?: string;
  batchId: string;
  objectType: ObjectType;
  objectId: string;
  display: string;
  /** The record views as JSON (field names and provider data never become document keys). */
  views: string;
  at: number;
}

const CHUNK = 100;
const DELIVERED_TTL_S = 7 * 86400;
const flushing = new WeakMap<Hubspot, Promise<void>>();

/** Queues a batch's results for writing; a batch with none is reported delivered at once. */
export async function queueWrites(h: Hubspot, batchId: string, items: WriteItem[]): Promise<void> {
  const at = h.ctx.clock.now().getTime();
  if (!items.length) {
    await h.ctx.redis.set(`delivered:${batchId}`, JSON.stringify({ written: 0, failed: 0 }), 'EX', DELIVERED_TTL_S);
    return;
  }
  await h.ctx.redis.set(`pending:${batchId}`, String(items.length), 'EX', DELIVERED_TTL_S);
  const docs: PendingWrite[] = items.map((i) => ({ _id: `${batchId}:${i.portalId ?? h.portalId}:${i.objectType}:${i.objectId}`, portalId: i.portalId ?? h.portalId, batchId, objectType: i.objectType, objectId: i.objectId, display: i.display, views: JSON.stringify(i.views), at }));
  try {
    await h.writes.insertMany(docs as never[], { ordered: false });
  } catch {
    // A redelivered batch: the ones already queued stay as they are.
    for (const d of docs) await h.writes.replaceOne({ _id: d._id as never }, d, { upsert: true });
  }
}

/**
 * Writes every full chunk, and older partial ones (one flush at a time per process, one process
 * by lease); `all` writes partial chunks too, now (on request, e.g. before a backfill report).
 */
export async function flushWrites(h: Hubspot, opts: { all?: boolean } = {}): Promise<void> {
  if (opts.all) await flushing.get(h)?.catch(() => undefined);
  let p = flushing.get(h);
  if (!p) {
    p = flushOnce(h, opts.all ?? false).finally(() => flushing.delete(h));
    flushing.set(h, p);
  }
  return p;
}

export const flushInProgress = (h: Hubspot) => flushing.get(h);

async function flushOnce(h: Hubspot, all: boolean): Promise<void> {
  let lease = await h.ctx.lease('write', 120_000);
  // Asked for everything: wait for another process's flush to end rather than skip.
  for (let tries = 0; !lease && all && tries < 600; tries++) {
    await new Promise((r) => setTimeout(r, 100));
    lease = await h.ctx.lease('write', 120_000);
  }
  if (!lease) return;
  try {
    for (const objectType of ['contacts', 'companies'] as const) {
      for (;;) {
        const docs = (await h.writes.find({ objectType }).sort({ at: 1 }).limit(CHUNK).toArray()) as unknown as PendingWrite[];
        if (!docs.length) break;
        const waited = h.ctx.clock.now().getTime() - docs[0].at;
        if (docs.length < CHUNK && waited < h.config.writeDelayMs && !all) break;
        // Each portal's records are written to that portal with its token.
        const byPortal = new Map<string, PendingWrite[]>();
        for (const d of docs) byPortal.set(d.portalId ?? h.config.portalIds[0], [...(byPortal.get(d.portalId ?? h.config.portalIds[0]) ?? []), d]);
        for (const [portalId, mine] of byPortal) {
          const report = await writeBack(
            forPortal(h, portalId),
            mine.map((d) => ({ portalId, objectType: d.objectType, objectId: d.objectId, display: d.display, views: JSON.parse(d.views) as WriteItem['views'] })),
          );
          await h.writes.deleteMany({ _id: { $in: mine.map((d) => d._id) as never[] } });
          await tally(h, mine, report);
        }
      }
    }
  } finally {
    await lease.release();
  }
}

/** Per batch: written and failed so far; `delivered:<batchId>` once all its records are done. */
async function tally(h: Hubspot, docs: PendingWrite[], report: WriteReport): Promise<void> {
  const failed = new Set(report.failed.map((f) => `${f.objectType}:${f.objectId}`));
  const byBatch = new Map<string, { written: number; failed: number }>();
  for (const d of docs) {
    const t = byBatch.get(d.batchId) ?? { written: 0, failed: 0 };
    if (failed.has(`${d.objectType}:${d.objectId}`)) t.failed++;
    else t.written++;
    byBatch.set(d.batchId, t);
  }
  for (const [batchId, t] of byBatch) await countDone(h, batchId, t);
  h.ctx.logger.info({ records: docs.length, written: report.written, failed: report.failed.length, updateCalls: report.updateCalls }, 'HubSpot write-back done');
}

async function countDone(h: Hubspot, batchId: string, t: { written: number; failed: number }, done = t.written + t.failed): Promise<void> {
  const key = `tally:${batchId}`;
  if (t.written) await h.ctx.redis.hincrby(key, 'written', t.written);
  if (t.failed) await h.ctx.redis.hincrby(key, 'failed', t.failed);
  await h.ctx.redis.expire(key, DELIVERED_TTL_S);
  const left = await h.ctx.redis.decrby(`pending:${batchId}`, done);
  if (left > 0) return;
  const sums = await h.ctx.redis.hgetall(key);
  await h.ctx.redis.set(`delivered:${batchId}`, JSON.stringify({ written: Number(sums.written ?? 0), failed: Number(sums.failed ?? 0) }), 'EX', DELIVERED_TTL_S);
  await h.ctx.redis.del(key, `pending:${batchId}`);
}

/** A privacy deletion: the contact's queued writes go, and their batches no longer wait for them. */
export async function dropWrites(h: Hubspot, objectType: ObjectType, objectId: string): Promise<void> {
  const docs = (await h.writes.find({ objectType, objectId, ...portalFilter(h) }).toArray()) as unknown as PendingWrite[];
  if (!docs.length) return;
  await h.writes.deleteMany({ _id: { $in: docs.map((d) => d._id) as never[] } });
  for (const d of docs) await countDone(h, d.batchId, { written: 0, failed: 0 }, 1);
}
