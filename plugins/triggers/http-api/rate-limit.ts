// Per-key budgets, per minute and per UTC day, as fixed windows in Redis: requests (cost 1 each)
// and queued items (a batch costs its items). One Lua script reads both counters and adds the
// cost to both only when it fits in each, so concurrent requests on several web processes cannot
// overshoot and refused work does not use up the day.
// Windows are numbered from the injected clock (tests move it instead of sleeping).
import type { Redis } from 'ioredis';
import type { Clock } from '../../../src/sdk/index.js';

const SCRIPT = `
local cost = tonumber(ARGV[5])
local m = tonumber(redis.call('GET', KEYS[1]) or '0')
local d = tonumber(redis.call('GET', KEYS[2]) or '0')
if m + cost > tonumber(ARGV[1]) or d + cost > tonumber(ARGV[2]) then return {0, m, d} end
m = redis.call('INCRBY', KEYS[1], cost)
if m == cost then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
d = redis.call('INCRBY', KEYS[2], cost)
if d == cost then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return {1, m, d}
`;

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface WindowLimits {
  perMinute: number;
  perDay: number;
}

export interface RateDecision {
  allowed: boolean;
  window: 'minute' | 'day';
  /** The window that binds (the one with less left; when refused, the one the cost does not fit). */
  limit: number;
  remaining: number;
  /** Seconds until that window resets. */
  resetSeconds: number;
  /** RateLimit-Policy: both windows. */
  policy: string;
}

/** Two fixed windows per key under `kind` ("rl" for requests, "items" for queued items). */
export class KeyRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly limits: WindowLimits,
    private readonly kind = 'rl',
  ) {}

  /** Takes `cost` from both windows of the key, or nothing when it does not fit in one of them. */
  async take(keyId: string, cost = 1, limits: WindowLimits = this.limits): Promise<RateDecision> {
    const now = this.clock.now().getTime();
    const minute = Math.floor(now / MINUTE);
    const day = Math.floor(now / DAY);
    const minuteLeftMs = (minute + 1) * MINUTE - now;
    const dayLeftMs = (day + 1) * DAY - now;
    const { perMinute, perDay } = limits;
    // Keys live a little past their window so a slow clock on another process still finds them.
    const [ok, m, d] = (await this.redis.eval(SCRIPT, 2, `${this.kind}:${keyId}:m:${minute}`, `${this.kind}:${keyId}:d:${day}`, perMinute, perDay, minuteLeftMs + MINUTE, dayLeftMs + MINUTE, cost)) as [number, number, number];
    const minuteLeft = Math.max(0, perMinute - m);
    const dayLeft = Math.max(0, perDay - d);
    const policy = `${perMinute};w=60, ${perDay};w=86400`;
    const dayBinds = ok === 1 ? dayLeft < minuteLeft : d + cost > perDay;
    return dayBinds
      ? { allowed: ok === 1, window: 'day', limit: perDay, remaining: dayLeft, resetSeconds: Math.ceil(dayLeftMs / 1000), policy }
      : { allowed: ok === 1, window: 'minute', limit: perMinute, remaining: minuteLeft, resetSeconds: Math.ceil(minuteLeftMs / 1000), policy };
  }
}

/** The IETF draft's RateLimit-* fields (draft-ietf-httpapi-ratelimit-headers, the -06 style). */
export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(d.limit),
    'RateLimit-Remaining': String(d.remaining),
    'RateLimit-Reset': String(d.resetSeconds),
    'RateLimit-Policy': d.policy,
  };
}
