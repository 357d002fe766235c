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
// A grant whose answer reached the caller late (the process was not running) is moved to the
// moment the caller really goes, or given back, so a stalled process does not bunch its calls.
//
// A grant is also told when its request really leaves (provider-http's beforeSend: fetch's
// sendHeaders event, after any connection set-up). One that left more than LEFT_LATE_MS after it
// was asked for is moved in the log to that moment (RETIME), so later grants are measured from when
// the provider saw it. Moving a grant later never lets a later decision exceed N: every decision
// after the move sees the new time, and those before it counted the grant at its old one.
//
// Grants are also spaced at least half a slot apart (1/(2·perSecond) s): without it a cold
// start grants N calls at the same instant, and such a burst leaves the process spread over tens
// of milliseconds, eating the spare time above.
import type { Redis } from 'ioredis';

/**
 * KEYS[1] the log: a sorted set of grant times in whole microseconds (exact in Lua's doubles, so
 * a window's edge is never blurred by rounding); it keeps the window (now - W, now]. ARGV: limit
 * N, window W µs, minimum spacing µs, and "now" in µs (empty: Redis TIME; tests pass a simulated
 * clock), and optionally a member to take back first (a grant this caller is moving to now).
 * Returns {1, now, member} when granted (and logged), {0, wait µs} when not.
 */
const TRY = `
if ARGV[5] and ARGV[5] ~= '' then redis.call('ZREM', KEYS[1], ARGV[5]) end
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
local member = now .. ':' .. n
redis.call('ZADD', KEYS[1], now, member)
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
return {1, now, member}
`;

/** KEYS[1] the log; ARGV[1] the member to move to now (Redis TIME); ARGV[2] the log's TTL in ms. */
const RETIME = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], now, now .. ':m:' .. ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** A grant from acquire(): its time in the log (ms, Redis clock), its entry, and when it was asked for (performance.now()). */
export interface Grant {
  provider: string;
  at: number;
  id: string;
  waitedMs: number;
  askedAt: number;
  windowMs: number;
}

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

/** `at`: the grant's time in the log, in ms (whole microseconds); `id`: its entry in the log. */
export type TryResult = { granted: true; at: number; id: string } | { granted: false; waitMs: number };

/**
 * A grant whose answer took longer than this to reach the caller is stale: the process was not
 * running (CPU starvation, a GC pause) between the grant and now, so the call would leave later
 * than logged and could land in the same second as later grants. It is moved to now instead.
 */
const STALE_MS = 10;

/**
 * A request that left more than this after its grant was asked for is moved to when it left: a
 * few ms matter at R = 50 (the 3 % headroom is 31 ms a second), and the move is one Redis call.
 * Measured from the ask, not from when the grant arrived, so a grant is kept at its own time only
 * when the whole ask-and-send was prompt: a reply that waited in the socket also makes the log run
 * ahead of the send. (Measured from the arrival, with 1 ms, the bench saw 21 calls in one second
 * at R = 20 in one of two runs; from the ask, none in four runs at R = 20 and five at R = 50.)
 */
const LEFT_LATE_MS = 2;

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
  async acquire(provider: string, perSecond: number, signal?: AbortSignal): Promise<Grant> {
    const started = Date.now();
    let moving: string | undefined;
    for (;;) {
      const asked = performance.now();
      const r = await this.tryAcquire(provider, perSecond, undefined, moving);
      if (r.granted) {
        const now = performance.now();
        if (now - asked <= STALE_MS) return { provider, at: r.at, id: r.id, waitedMs: Date.now() - started, askedAt: asked, windowMs: rateWindow(perSecond).windowMs };
        moving = r.id; // stale: log it again at the time this caller really goes, if there is room
        continue;
      }
      moving = undefined;
      await sleep(Math.ceil(r.waitMs), signal);
    }
  }

  /**
   * The grant's request has left. If that was more than LEFT_LATE_MS after it was asked for (a connection
   * set up, a busy event loop), its entry moves to now. Resolves to whether it moved; a failure
   * to reach Redis leaves the entry where it was (logged by the caller, never thrown).
   */
  async sent(grant: Grant): Promise<boolean> {
    if (performance.now() - grant.askedAt <= LEFT_LATE_MS) return false;
    const ttl = String(Math.ceil(grant.windowMs) + 1000);
    return (await this.redis.eval(RETIME, 1, this.keyOf(grant.provider), grant.id, ttl)) === 1;
  }

  /**
   * One attempt: granted (and logged at `at`), or how long until one could be. `nowMs`: tests
   * only. `moving`: a grant of this caller's to take back first (it is re-granted now or not).
   */
  async tryAcquire(provider: string, perSecond: number, nowMs?: number, moving?: string): Promise<TryResult> {
    const w = rateWindow(perSecond);
    const now = nowMs === undefined ? '' : String(Math.round(nowMs * 1000));
    const [ok, value, id] = (await this.redis.eval(TRY, 1, this.keyOf(provider), String(w.limit), String(micros(w.windowMs)), String(micros(w.spacingMs)), now, moving ?? '')) as [number, number, string?];
    return ok === 1 ? { granted: true, at: value / 1000, id: id! } : { granted: false, waitMs: value / 1000 };
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
