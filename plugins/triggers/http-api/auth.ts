// Bearer API keys, their scopes, then the key's rate limits. All answer problem+json; every
// answer to an authenticated request carries the RateLimit-* headers so clients can pace themselves.
import type { NextFunction, Request, Response } from 'express';
import type { Collection } from 'mongodb';
import type { Clock } from '../../../src/sdk/index.js';
import { findActiveKey, hasScope, type ApiKeyView, type Scope } from './api-keys.js';
import { ApiProblem } from './problem.js';
import { rateLimitHeaders, type KeyRateLimiter, type WindowLimits } from './rate-limit.js';
import { HttpApiErrors } from './errors.js';

const unauthorized = (detail: string) =>
  new ApiProblem(401, 'unauthorized', 'Missing or invalid API key', detail, { code: HttpApiErrors.API_KEY_INVALID.code, headers: { 'WWW-Authenticate': 'Bearer realm="enrichbot"' } });

/** The caller's key, set by `authenticate`. */
export const callerKey = (res: Response) => res.locals.apiKey as ApiKeyView;

export function authenticate(keys: Collection, clock: Clock) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unauthorized('Send your API key as "Authorization: Bearer <key>" (create one with `enrichbot api-key create --workspace <id>`).');
    const found = await findActiveKey(keys, m[1], clock.now());
    if ('problem' in found) {
      if (found.problem === 'revoked') throw unauthorized('This API key was revoked: ask for a new one (`enrichbot api-key create`).');
      if (found.problem === 'expired') throw unauthorized(`This API key expired at ${found.expiresAt!.toISOString()}: ask for a new one (\`enrichbot api-key create --expires ...\`).`);
      // The same message for unknown and malformed keys: nothing to learn by guessing.
      throw unauthorized('This API key is not valid: check that it was copied whole, or create a new one.');
    }
    res.locals.apiKey = found;
    next();
  };
}

/** 403 unless the caller's key has `scope` (or admin). */
export function requireScope(scope: Scope) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const key = callerKey(res);
    if (!hasScope(key, scope)) {
      throw new ApiProblem(403, 'forbidden', 'Missing scope', `This key (${key.id}) has the scopes ${key.scopes.join(', ')}, and this call needs "${scope}": ask for a key made with \`enrichbot api-key create --scope ${scope}\`.`, { code: HttpApiErrors.API_KEY_SCOPE.code, scope });
    }
    next();
  };
}

export function rateLimit(limiter: KeyRateLimiter, defaults: WindowLimits) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const key = callerKey(res);
    const limits = { perMinute: key.limits.ratePerMinute ?? defaults.perMinute, perDay: key.limits.ratePerDay ?? defaults.perDay };
    const decision = await limiter.take(key.id, 1, limits);
    const headers = rateLimitHeaders(decision);
    if (!decision.allowed) {
      const when = decision.window === 'minute' ? 'this minute' : 'today (UTC)';
      throw new ApiProblem(429, 'rate-limited', 'Too many requests', `This key has used its ${decision.limit} requests for ${when}: retry after ${decision.resetSeconds} s, or ask for higher limits (triggers.http-api.ratePerMinute / ratePerDay, or the key's own).`, {
        code: HttpApiErrors.RATE_LIMITED.code,
        headers: { ...headers, 'Retry-After': String(decision.resetSeconds) },
      });
    }
    res.set(headers);
    next();
  };
}
