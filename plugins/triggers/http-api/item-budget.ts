// Per-key item budget: requests alone are a poor limit when one request can be a 1,000-item
// batch (60 requests a minute would queue 60,000 items). A single enrich costs 1, a batch its
// valid items, taken atomically from a minute and a UTC-day window (rate-limit.ts).
import { ErrorCodes } from '../../../src/sdk/index.js';
import { ApiProblem } from './problem.js';
import type { KeyRateLimiter, WindowLimits } from './rate-limit.js';
import { HttpApiErrors } from './errors.js';

/** Takes `items` from the key's budget, or throws the 413 (can never fit) or 429 (not now) problem. */
export async function takeItems(limiter: KeyRateLimiter, keyId: string, items: number, limits: WindowLimits): Promise<void> {
  if (items === 0) return;
  const cap = Math.min(limits.perMinute, limits.perDay);
  if (items > cap) {
    const per = limits.perMinute <= limits.perDay ? 'a minute' : 'a day';
    throw new ApiProblem(413, 'batch-too-large', 'Batch too large for this key', `This batch has ${items} valid items and this key may queue at most ${cap} items ${per}: split it into batches of ${cap} or fewer.`, { code: ErrorCodes.BATCH_TOO_LARGE });
  }
  const d = await limiter.take(keyId, items, limits);
  if (d.allowed) return;
  const [per, when] = d.window === 'minute' ? ['a minute', 'this minute'] : ['a day (UTC)', 'today'];
  throw new ApiProblem(429, 'rate-limited', 'Too many items', `This key may queue ${d.limit} items ${per}; ${when} it has ${d.remaining} left: send at most ${d.remaining} now, or retry after ${d.resetSeconds} s (limits: triggers.http-api.itemsPerMinute / itemsPerDay).`, {
    code: HttpApiErrors.RATE_LIMITED.code,
    headers: { 'Retry-After': String(d.resetSeconds) },
    itemsRemaining: d.remaining,
  });
}
