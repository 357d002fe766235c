// Hands a job's result to everyone who asked for it. The requesters live on the job document
// (`requesters: [{ id, replyTo }]`); each is claimed once, so it is answered once even when two
// runs of the job finish together; a paused job tells its requesters once and answers them again
// when it has finished. The claim is a Redis SET NX: FerretDB does not make a findOneAndUpdate
// atomic against a concurrent one on the same document. Answers go in bulk: every requester of
// the job is claimed in one round trip and handed to `deliver` together, so a job asked for by
// hundreds of batch rows costs a few commands, not a few per row (issue 27).
import { randomBytes } from 'node:crypto';
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { Logger } from '../logger.js';

/** One requester to answer; `starter`: it started the run (the run's cost is its own). */
export interface Delivery {
  replyTo: ReplyTo;
  starter: boolean;
}
/** Answers these requesters of one job; each trigger's failures are its own to log. */
export type Deliver = (result: JobResult, to: Delivery[]) => Promise<void>;
/** true once per key, ever (within its expiry): whoever gets true does the work. One answer per key. */
export type ClaimMany = (keys: string[]) => Promise<boolean[]>;

/** The Redis key of a claim (the app's claimMany sets it). */
export const claimKey = (prefix: string, key: string) => `${prefix}:claim:${key}`;
/** The claim taken when a requester is answered. */
export const answeredClaim = (requester: Requester) => `answered:${requester.id}`;

export interface Requester {
  /** Random, so a claim names this one request for ever, across runs. */
  id: string;
  replyTo: ReplyTo;
}

export const newRequester = (replyTo: ReplyTo): Requester => ({ id: randomBytes(9).toString('base64url'), replyTo });

/** The requesters held on a job document (ignores anything malformed). */
export function requestersOf(doc: { requesters?: unknown } | null | undefined): Requester[] {
  const list = Array.isArray(doc?.requesters) ? (doc.requesters as unknown[]) : [];
  return list.filter((r): r is Requester => !!r && typeof (r as Requester).id === 'string' && typeof (r as Requester).replyTo?.trigger === 'string');
}

/**
 * Claims and answers the requesters not answered yet; returns how many were handed over. The
 * first requester of a run started it (a run's list begins with its starter; others joined).
 */
export async function answerRequesters(requesters: Requester[], result: JobResult, deliver: Deliver, claim: ClaimMany, logger: Logger): Promise<number> {
  if (!requesters.length) return 0;
  const paused = result.status === 'paused';
  const won = await claim(requesters.map((r) => (paused ? `paused:${r.id}` : answeredClaim(r))));
  const to = requesters.flatMap((r, i) => (won[i] ? [{ replyTo: r.replyTo, starter: i === 0 }] : []));
  if (!to.length) return 0;
  await deliver(result, to).catch((err) => logger.error({ err, jobId: result.jobId }, 'could not deliver the result'));
  return to.length;
}
