// Idempotency-Key on the POSTs (the IETF httpapi draft, as Stripe uses it): a retried request
// (client timeout, proxy retry) with the same key and body gets the first answer again, with no
// second job, batch or paid call; the same key with another body is a 409. One Redis slot per
// API key and Idempotency-Key: SET NX claims it while the first request runs (a concurrent
// retry gets 409 "in progress"), then it holds the 2xx answer for 24 h. A request that ends
// without a 2xx frees the slot (only while it still holds it), so the client may retry.
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { ErrorCodes } from '../../../src/sdk/index.js';
import { callerKey } from './auth.js';
import { ApiProblem } from './problem.js';
import { HttpApiErrors } from './errors.js';

const KEEP_MS = 24 * 3600_000;
const HEADER = /^[\x21-\x7e]{1,255}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// Deletes the slot only while it still holds this request's claim.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface Slot {
  fingerprint: string;
  state: 'pending' | 'done';
  status?: number;
  location?: string;
  body?: unknown;
}

/** After the JSON body parser: replays, refuses or records the answer of a keyed request. */
export function idempotent(redis: Redis, pendingMs: number) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const raw = req.get('idempotency-key');
    if (raw === undefined) return next();
    if (!HEADER.test(raw)) {
      throw new ApiProblem(400, 'validation-error', 'Invalid request', 'The Idempotency-Key header must be 1-255 visible ASCII characters (a UUID is a good choice).', { code: ErrorCodes.INPUT_INVALID, errors: [{ path: 'header/Idempotency-Key', message: '1-255 visible ASCII characters' }] });
    }
    const slot = `idem:${callerKey(res).id}:${sha256(raw)}`;
    const fingerprint = sha256(`${req.method} ${req.baseUrl}${req.path}\n${JSON.stringify(req.body ?? null)}`);
    const claim = JSON.stringify({ fingerprint, state: 'pending' } satisfies Slot);
    if ((await redis.set(slot, claim, 'PX', pendingMs, 'NX')) !== 'OK') return answerFromSlot(await redis.get(slot), fingerprint, res);

    const send = res.json.bind(res);
    let recorded = false;
    res.json = (body: unknown) => {
      if (res.statusCode < 200 || res.statusCode > 299) return send(body);
      recorded = true;
      const location = res.get('location');
      const done: Slot = { fingerprint, state: 'done', status: res.statusCode, ...(location ? { location } : {}), body };
      // The answer is kept before it is sent: a retry that follows it always finds it.
      void redis.set(slot, JSON.stringify(done), 'PX', KEEP_MS).then(
        () => send(body),
        () => send(body),
      );
      return res;
    };
    res.on('close', () => {
      if (!recorded) void redis.eval(RELEASE, 1, slot, claim).catch(() => undefined);
    });
    next();
  };
}

function answerFromSlot(stored: string | null, fingerprint: string, res: Response): void {
  const slot = stored ? (JSON.parse(stored) as Slot) : undefined;
  if (slot && slot.fingerprint !== fingerprint) {
    throw new ApiProblem(409, 'idempotency-key-reused', 'Idempotency-Key reused', 'This Idempotency-Key was already used with another request body (or route) in the last 24 h: use a new key for a new request.', { code: HttpApiErrors.IDEMPOTENCY_CONFLICT.code });
  }
  if (!slot || slot.state === 'pending') {
    throw new ApiProblem(409, 'idempotency-key-in-use', 'Request in progress', 'The first request with this Idempotency-Key is still being answered: retry after 1 s to get its answer.', { code: HttpApiErrors.IDEMPOTENCY_CONFLICT.code, headers: { 'Retry-After': '1' } });
  }
  if (slot.location) res.location(slot.location);
  res.set('Idempotent-Replayed', 'true').status(slot.status!).json(slot.body);
}
