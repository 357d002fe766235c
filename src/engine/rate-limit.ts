// A per-provider request rate shared by every worker process: a sliding-window log in Redis.
// A provider that allows R calls "per second" counts them in a sliding second, so that is what
// is kept: at most N calls were granted in any window of W ms, where N = ceil(perSecond) and
// W = N / perSecond s (W > 1 s when perSecond is below R, which the engine's rateHeadroom makes
// it: the spare milliseconds absorb the delay between a grant and the call's arrival).
//
// Why not GCRA (the earlier version): it booked each call a future slot 1/R s after the previous
// and let the caller sleep until then, so a caller whose timer fired late (a busy event loop)
// sent its call late and bunched it with the next, on-time ones: 21 calls in one second at
// R = 20 with two processes. Here a call is granted only when it may go at once, and the log
// records that moment (Redis TIME), so a late wake-up costs this caller time, never the provider
// a burst. A waiter sleeps until the log would have room and asks again.
//
// Grants are also spaced at least half a slot apart (1/(2·perSecond) s): without it a cold
// start grants N calls at the same instant, and such a burst leaves the process spread over tens
// of milliseconds, eating the spare time above.
import type { Redis } from 'ioredis';

/**
 * KEYS[1] the log: a sorted set of grant times in whole microseconds (exact in Lua's doubles, so
 * a window's edge is never blurred by rounding); it keeps the window (now - W, now]. ARGV: limit
 * N, window W µs, minimum spacing µs, and "now" in µs (empty: Redis TIME; tests pass a simulated
 * clock). Returns {1, now} when granted (and logged), {0, wait µs} when not.
 */
const TRY = `
local now
if ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local spacing = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local wait = 0
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) + spacing > now then wait = tonumber(last[2]) + spacing - now end
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  local free = tonumber(oldest[2]) + window - now
  if free > wait then wait = free end
end
if wait > 0 then return {0, wait} end
redis.call('ZADD', KEYS[1], now, now .. ':' .. n)
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
return {1, now}
`;

export interface RateWindow {
  /** Most calls in any window. */
  limit: number;
  /** The window, in ms (at least 1000). */
  windowMs: number;
  /** Least time between two grants, in ms. */
  spacingMs: number;
}

const micros = (ms: number) => Math.ceil(ms * 1000 - 1e-6);

/** The log's parameters for a pace of `perSecond` calls a second (a provider's R less headroom). */
export function rateWindow(perSecond: number): RateWindow {
  const limit = Math.max(1, Math.ceil(perSecond - 1e-9));
  return { limit, windowMs: (limit * 1000) / perSecond, spacingMs: 500 / perSecond };
}

/** `at`: the grant's time in the log, in ms (whole microseconds). */
export type TryResult = { granted: true; at: number } | { granted: false; waitMs: number };

export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Waits until this process may make one call to `provider` at `perSecond`, then returns at
   * once: the call is logged as made now. Resolves to the grant's time in the log (ms, Redis
   * clock) and how long this caller waited for it.
   */
  async acquire(provider: string, perSecond: number, signal?: AbortSignal): Promise<{ at: number; waitedMs: number }> {
    const started = Date.now();
    for (;;) {
      const r = await this.tryAcquire(provider, perSecond);
      if (r.granted) return { at: r.at, waitedMs: Date.now() - started };
      await sleep(Math.ceil(r.waitMs), signal);
    }
  }

  /** One attempt: granted (and logged at `at`), or how long until one could be. `nowMs`: tests only. */
  async tryAcquire(provider: string, perSecond: number, nowMs?: number): Promise<TryResult> {
    const w = rateWindow(perSecond);
    const now = nowMs === undefined ? '' : String(Math.round(nowMs * 1000));
    const [ok, value] = (await this.redis.eval(TRY, 1, this.keyOf(provider), String(w.limit), String(micros(w.windowMs)), String(micros(w.spacingMs)), now)) as [number, number];
    return ok === 1 ? { granted: true, at: value / 1000 } : { granted: false, waitMs: value / 1000 };
  }

  keyOf(provider: string): string {
    return `${this.prefix}:rate:${provider}`;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
