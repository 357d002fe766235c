// Who asked for a job, and where each one's answer goes. The requesters live on the job document
// (`requesters: [...]`), set when a run starts and added to (under the job's lease) by every
// request that joins it, so starting, joining and answering cost no extra database command. Each
// is answered once: a Redis claim per requester (delivery.ts).
// A requester is answered through a trigger (`{ id, replyTo }`: the trigger and its own address)
// or on a batch's row (`{ id, batchItem: { batchId, index } }`), which the batches write.
import { randomBytes } from 'node:crypto';
import type { ReplyTo } from '../engine/types.js';

/** A batch's row waiting for a job's answer. */
export interface BatchItemRef {
  batchId: string;
  index: number;
}

/** Where one requester's answer goes: a trigger's address, or a batch's row. */
export type AnswerTo = { replyTo: ReplyTo; batchItem?: never } | { batchItem: BatchItemRef; replyTo?: never };

/** One requester of a job, as stored on the job document. */
export type Requester = { id: string } & AnswerTo;

/**
 * Before batch rows had a route of their own, their requesters named this placeholder trigger
 * with the row in the address (`{ trigger: 'enrichbot:batch', address: { batchId, index } }`).
 * Jobs stored then are read as batch rows (requestersOf); nothing writes it any more.
 */
export const LEGACY_BATCH_TRIGGER = 'enrichbot:batch';

/** The Redis key of a claim (delivery.ts takes it). */
export const claimKey = (prefix: string, key: string) => `${prefix}:claim:${key}`;
/** The claim taken when a requester is answered. */
export const answeredClaim = (requester: Pick<Requester, 'id'>) => `answered:${requester.id}`;

/** A new requester: random, so its claim names this one request for ever, across runs. */
export const newRequester = (to: AnswerTo): Requester => ({ id: randomBytes(9).toString('base64url'), ...to }) as Requester;

/** Whether this requester is the given batch row. */
export const isBatchItem = (r: Requester, ref: BatchItemRef): boolean => r.batchItem?.batchId === ref.batchId && r.batchItem.index === ref.index;

/**
 * The requesters held on a job document, each with its route: a legacy batch requester becomes a
 * batch row; anything malformed is left out.
 */
export function requestersOf(doc: { requesters?: unknown } | null | undefined): Requester[] {
  const list = Array.isArray(doc?.requesters) ? (doc.requesters as unknown[]) : [];
  return list.flatMap((raw) => {
    const r = readRequester(raw);
    return r ? [r] : [];
  });
}

function readRequester(raw: unknown): Requester | undefined {
  const r = raw as { id?: unknown; replyTo?: { trigger?: unknown; address?: Record<string, unknown> }; batchItem?: { batchId?: unknown; index?: unknown } } | null;
  if (!r || typeof r.id !== 'string') return undefined;
  const item = r.batchItem ?? (r.replyTo?.trigger === LEGACY_BATCH_TRIGGER ? r.replyTo.address : undefined);
  if (item) return typeof item.batchId === 'string' && typeof item.index === 'number' ? { id: r.id, batchItem: { batchId: item.batchId, index: item.index } } : undefined;
  if (typeof r.replyTo?.trigger !== 'string') return undefined;
  return { id: r.id, replyTo: { trigger: r.replyTo.trigger, address: r.replyTo.address ?? {} } };
}
