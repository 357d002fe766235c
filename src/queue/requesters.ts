// Hands a job's result to everyone who asked for it. The requesters live on the job document
// (`requesters: [{ id, replyTo }]`); each is claimed once, so it is answered once even when two
// runs of the job finish together; a paused job tells its requesters once and answers them again
// when it has finished. The claim is a Redis SET NX: FerretDB does not make a findOneAndUpdate
// atomic against a concurrent one on the same document.
import { randomBytes } from 'node:crypto';
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { Logger } from '../logger.js';

export type Deliver = (result: JobResult, replyTo: ReplyTo) => Promise<void>;
/** true once per key, ever (within its expiry): whoever gets true does the work. */
export type ClaimOnce = (key: string) => Promise<boolean>;

/** The Redis key of a ClaimOnce claim (the app's claimOnce sets it). */
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

export async function answerRequesters(requesters: Requester[], result: JobResult, deliver: Deliver, claimOnce: ClaimOnce, logger: Logger): Promise<number> {
  const paused = result.status === 'paused';
  let answered = 0;
  for (const r of requesters) {
    if (!(await claimOnce(paused ? `paused:${r.id}` : answeredClaim(r)))) continue;
    await deliver(result, r.replyTo).then(
      () => answered++,
      (err) => logger.error({ err, jobId: result.jobId, trigger: r.replyTo.trigger }, 'could not deliver the result'),
    );
  }
  return answered;
}
