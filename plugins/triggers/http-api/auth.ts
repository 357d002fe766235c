// Bearer API keys, then the key's rate limits. Both answer problem+json; every answer to an
// authenticated request carries the RateLimit-* headers so clients can pace themselves.
import type { NextFunction, Request, Response } from 'express';
import type { Collection } from 'mongodb';
import { ErrorCodes } from '../../../src/sdk/index.js';
import { findActiveKey, type ApiKeyView } from './api-keys.js';
import { ApiProblem } from './problem.js';
import { rateLimitHeaders, type KeyRateLimiter } from './rate-limit.js';

const unauthorized = (detail: string) =>
  new ApiProblem(401, 'unauthorized', 'Missing or invalid API key', detail, { code: ErrorCodes.API_KEY_INVALID, headers: { 'WWW-Authenticate': 'Bearer realm="enrichbot"' } });

/** The caller's key, set by `authenticate`. */
export const callerKey = (res: Response) => res.locals.apiKey as ApiKeyView;

export function authenticate(keys: Collection) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unauthorized('Send your API key as "Authorization: Bearer <key>" (create one with `enrichbot api-key create --workspace <id>`).');
    const found = await findActiveKey(keys, m[1]);
    if ('problem' in found) {
      // The same message for unknown and malformed keys: nothing to learn by guessing.
      throw unauthorized(found.problem === 'revoked' ? 'This API key was revoked: ask for a new one (`enrichbot api-key create`).' : 'This API key is not valid: check that it was copied whole, or create a new one.');
    }
    res.locals.apiKey = found;
    next();
  };
}

export function rateLimit(limiter: KeyRateLimiter) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const decision = await limiter.take(callerKey(res).id);
    const headers = rateLimitHeaders(decision);
    if (!decision.allowed) {
      const when = decision.window === 'minute' ? 'this minute' : 'today (UTC)';
      throw new ApiProblem(429, 'rate-limited', 'Too many requests', `This key has used its ${decision.limit} requests for ${when}: retry after ${decision.resetSeconds} s, or ask for higher limits (triggers.http-api.ratePerMinute / ratePerDay).`, {
        code: ErrorCodes.RATE_LIMITED,
        headers: { ...headers, 'Retry-After': String(decision.resetSeconds) },
      });
    }
    res.set(headers);
    next();
  };
}
