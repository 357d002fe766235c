// POST /webhooks/hubspot: verify the v3 signature, validate each event, refuse events about a
// portal not in portalIds (the app's secret signs for every portal it is installed in), drop the ones already
// seen (Redis SET NX, kept `dedupHours`), store the rest in MongoDB, answer 200, then process.
// HubSpot retries a slow or failed answer up to 10 times over 24 hours, so the answer comes as
// soon as the events are durable; enrichment happens after (intake.ts).
import { randomUUID } from 'node:crypto';
import { installedPortals } from './oauth.js';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Hubspot } from './state.js';
import { verifyV3 } from './signature.js';

// One message for every way an id is wrong: zod's own were a bare "Invalid input" or a regex
// (found by test/fuzz/hubspot-webhook-body).
const ID = 'expected a HubSpot id: a non-negative integer or a string of digits';
const id = z.union([z.number().int(ID).nonnegative(ID), z.string().regex(/^\d+$/, ID)], { error: ID }).transform(String);

export const HubspotEventSchema = z
  .object({
    eventId: id,
    subscriptionId: z.number().optional(),
    portalId: id,
    appId: z.number().optional(),
    occurredAt: z.number().int().positive(),
    subscriptionType: z.string().regex(/^[a-z_]+\.[A-Za-z_]+$/, 'expected an object and an event, such as contact.creation'),
    attemptNumber: z.number().optional(),
    objectId: id,
    propertyName: z.string().optional(),
    propertyValue: z.string().optional(),
    changeSource: z.string().optional(),
    sourceId: z.string().optional(),
    // contact.merge / company.merge
    primaryObjectId: id.optional(),
    mergedObjectIds: z.array(id).max(100).optional(),
    newObjectId: id.optional(),
  })
  .loose();
export type HubspotEvent = z.infer<typeof HubspotEventSchema>;

/** What is stored per pending event (no dotted keys, so FerretDB takes it). */
export interface StoredEvent {
  _id: string;
  eventId: string;
  portalId: string;
  occurredAt: number;
  subscriptionType: string;
  objectId: string;
  propertyName?: string;
  propertyValue?: string;
  changeSource?: string;
  sourceId?: string;
  primaryObjectId?: string;
  mergedObjectIds?: string[];
  newObjectId?: string;
}

export const MAX_EVENTS_PER_REQUEST = 100;

export function mountWebhook(h: Hubspot, onQueued: () => void): void {
  const { ctx, config } = h;
  ctx.router.post('/hubspot', express.raw({ type: () => true, limit: '2mb' }), async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const base = config.publicUrl ? config.publicUrl.replace(/\/$/, '') : `${req.protocol}://${req.get('host')}`;
    const check = verifyV3({
      secret: config.clientSecret,
      method: req.method,
      uri: `${base}${req.originalUrl}`,
      body,
      timestamp: req.get('x-hubspot-request-timestamp'),
      signature: req.get('x-hubspot-signature-v3'),
      nowMs: ctx.clock.now().getTime(),
    });
    if (!check.ok) {
      ctx.logger.warn({ reason: check.reason }, 'HubSpot webhook refused: check HUBSPOT_CLIENT_SECRET, and triggers.hubspot.publicUrl behind a proxy');
      res.status(401).json({ error: `signature refused: ${check.reason}` });
      return;
    }
    const read = readWebhookBody(body);
    if (!read.ok) {
      res.status(400).json({ error: read.error });
      return;
    }
    const { good, rejected } = read;
    if (rejected.length) ctx.logger.warn({ rejected }, 'HubSpot webhook: some events are malformed and were skipped; the others are processed');
    // Served: the configured portals and those that installed the app.
    const installed = await installedPortals(h, [...new Set(good.map((e) => e.portalId))].filter((p) => !config.portalIds.includes(p)));
    const served = (p: string) => config.portalIds.includes(p) || installed.has(p);
    const ours = good.filter((e) => served(e.portalId));
    const foreign = [...new Set(good.filter((e) => !served(e.portalId)).map((e) => e.portalId))];
    if (foreign.length) ctx.logger.warn({ portals: foreign }, 'HubSpot webhook: events about portals not in HUBSPOT_PORTAL_IDS were refused');
    if (foreign.length && !ours.length) {
      res.status(401).json({ error: `portal ${foreign.join(', ')} is not served here: add it to HUBSPOT_PORTAL_IDS if it should be` });
      return;
    }
    try {
      const queued = await queueEvents(h, ours);
      res.status(200).json({ queued, duplicates: ours.length - queued, rejected: rejected.length, ...(foreign.length ? { refused: good.length - ours.length } : {}) });
    } catch (err) {
      ctx.logger.error({ err }, 'HubSpot webhook: events could not be stored; HubSpot will retry');
      res.status(503).json({ error: 'could not store the events; retry later' });
      return;
    }
    onQueued();
  });
}

export type WebhookBody = { ok: true; good: HubspotEvent[]; rejected: { index: number; problem: string }[] } | { ok: false; error: string };

/** A signed body's events: the valid ones, and each malformed one by index with why (the others still go through). */
export function readWebhookBody(body: Buffer): WebhookBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, error: 'the body is not JSON: expected an array of HubSpot webhook events' };
  }
  if (!Array.isArray(parsed) || parsed.length > MAX_EVENTS_PER_REQUEST) {
    return { ok: false, error: `expected an array of at most ${MAX_EVENTS_PER_REQUEST} events` };
  }
  const good: HubspotEvent[] = [];
  const rejected: { index: number; problem: string }[] = [];
  parsed.forEach((raw, index) => {
    const r = HubspotEventSchema.safeParse(raw);
    if (r.success) good.push(r.data);
    else rejected.push({ index, problem: r.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ') });
  });
  return { ok: true, good, rejected };
}

/**
 * Stores events not seen before, all of one request as one document (so a drain never sees half
 * a request); returns how many were new. Throws (and forgets the dedup marks) when storing fails.
 */
export async function queueEvents(h: Hubspot, events: HubspotEvent[]): Promise<number> {
  const ttl = h.config.dedupHours * 3600;
  const fresh: StoredEvent[] = [];
  const marks: string[] = [];
  for (const e of events) {
    const mark = `evt:${e.portalId}:${e.eventId}`;
    if ((await h.ctx.redis.set(mark, '1', 'EX', ttl, 'NX')) !== 'OK') continue;
    marks.push(mark);
    fresh.push({
      _id: `${e.portalId}:${e.eventId}`,
      eventId: e.eventId,
      portalId: e.portalId,
      occurredAt: e.occurredAt,
      subscriptionType: e.subscriptionType,
      objectId: e.objectId,
      ...(e.propertyName !== undefined ? { propertyName: e.propertyName } : {}),
      ...(e.propertyValue !== undefined ? { propertyValue: e.propertyValue } : {}),
      ...(e.changeSource !== undefined ? { changeSource: e.changeSource } : {}),
      ...(e.sourceId !== undefined ? { sourceId: e.sourceId } : {}),
      ...(e.primaryObjectId !== undefined ? { primaryObjectId: e.primaryObjectId } : {}),
      ...(e.mergedObjectIds !== undefined ? { mergedObjectIds: e.mergedObjectIds } : {}),
      ...(e.newObjectId !== undefined ? { newObjectId: e.newObjectId } : {}),
    });
  }
  if (!fresh.length) return 0;
  try {
    await h.events.insertOne({ _id: `${fresh[0]._id}:${randomUUID()}` as never, receivedAt: h.ctx.clock.now().getTime(), events: fresh });
  } catch (err) {
    await h.ctx.redis.del(...marks);
    throw err;
  }
  return fresh.length;
}
