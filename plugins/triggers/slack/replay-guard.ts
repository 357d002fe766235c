// A signed Slack request is good for five minutes either side of its timestamp, so a captured one
// could be sent again (a second /enrich refresh, a second paid run). Each request is taken once:
// its signature, its trigger_id (commands, interactivity) and its event_id (Events API; Slack's
// retries carry the same event_id under a new signature) are marked in Redis with SET NX for
// longer than the window, so every web process sees the mark.
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../../../src/sdk/index.js';
import { MAX_SKEW_SECONDS } from './signature.js';

/** Marks outlive the whole acceptance window (a request may arrive up to 5 minutes early or late). */
export const REPLAY_TTL_SECONDS = 2 * MAX_SKEW_SECONDS + 60;

const idOf = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined);

/** True the first time a request (by signature, trigger_id or event_id) is seen; false for a replay or retry. */
export async function firstTime(redis: Redis, signature: string, body: Record<string, unknown>): Promise<boolean> {
  const marks = [`replay:sig:${createHash('sha256').update(signature).digest('hex')}`];
  const trigger = idOf(body.trigger_id);
  if (trigger) marks.push(`replay:trigger:${trigger}`);
  const event = idOf(body.event_id);
  if (event) marks.push(`replay:event:${event}`);
  const multi = redis.multi();
  for (const key of marks) multi.set(key, '1', 'EX', REPLAY_TTL_SECONDS, 'NX');
  const results = (await multi.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
  return results.every(([, ok]) => ok === 'OK');
}

/**
 * Socket Mode has no signature, but Slack re-sends an events_api envelope it thinks was not taken
 * (retry_attempt). A global middleware marks each event_id like the HTTP receiver does; an event
 * already taken is set aside (Bolt has acked it already). HTTP mode marks events in the receiver.
 */
export function takeEventsOnce(redis: Redis, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async ({ body, next }) => {
    const id = idOf((body as { event_id?: unknown }).event_id);
    if (id && (await redis.set(`replay:event:${id}`, '1', 'EX', REPLAY_TTL_SECONDS, 'NX')) !== 'OK') {
      logger.warn({ eventId: id }, 'slack event already taken (a retry): not run again');
      return;
    }
    await next();
  };
}
