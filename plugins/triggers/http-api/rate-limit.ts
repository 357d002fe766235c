// Per-key request limits, per minute and per UTC day, as fixed windows in Redis. One Lua script
// reads both counters and increments both only when neither is full, so concurrent requests on
// several web processes cannot overshoot and a refused request does not use up the day.
// Windows are numbered from the injected clock (tests move it instead of sleeping).
import type { Redis } from 'ioredis';
import type { Clock } from '../../../src/sdk/index.js';

const SCRIPT = `
local m = tonumber(redis.call('GET', KEYS[1]) or '0')
local d = tonumber(redis.call('GET', KEYS[2]) or '0')
if m >= tonumber(ARGV[1]) or d >= tonumber(ARGV[2]) then return {0, m, d} end
m = redis.call('INCR', KEYS[1])
if m == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
d = redis.call('INCR', KEYS[2])
if d == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return {1, m, d}
`;

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface RateDecision {
  allowed: boolean;
  window: 'minute' | 'day';
  /** The window that binds (the one with fewer requests left; when refused, the one that is full). */
  limit: number;
  remaining: number;
  /** Seconds until that window resets. */
  resetSeconds: number;
  /** RateLimit-Policy: both windows. */
  policy: string;
}

export class KeyRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly limits: { perMinute: number; perDay: number },
  ) {}

  async take(keyId: string): Promise<RateDecision> {
    const now = this.clock.now().getTime();
    const minute = Math.floor(now / MINUTE);
    const day = Math.floor(now / DAY);
    const minuteLeftMs = (minute + 1) * MINUTE - now;
    const dayLeftMs = (day + 1) * DAY - now;
    const { perMinute, perDay } = this.limits;
    // Keys live a little past their window so a slow clock on another process still finds them.
    const [ok, m, d] = (await this.redis.eval(SCRIPT, 2, `rl:${keyId}:m:${minute}`, `rl:${keyId}:d:${day}`, perMinute, perDay, minuteLeftMs + MINUTE, dayLeftMs + MINUTE)) as [number, number, number];
    const minuteLeft = Math.max(0, perMinute - m);
    const dayLeft = Math.max(0, perDay - d);
    const policy = `${perMinute};w=60, ${perDay};w=86400`;
    const dayBinds = ok === 1 ? dayLeft < minuteLeft : d >= perDay;
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
