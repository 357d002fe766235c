// A per-provider request rate shared by every worker process. It schedules calls evenly
// (GCRA: each call books the next free slot 1/R s after the previous one, in Redis, and waits
// for it) rather than counting per fixed window: fixed windows let 2R calls through around a
// window edge, which a provider's own limiter answers with 429. Time comes from Redis TIME so
// processes on different clocks agree.
import type { Redis } from 'ioredis';

const BOOK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = now
if tat > now then start = tat end
redis.call('SET', KEYS[1], tostring(start + interval), 'PX', math.ceil(start + interval - now) + 1000)
return tostring(start - now)
`;

export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Waits until this process may make one call to `provider` at `perSecond`. */
  async acquire(provider: string, perSecond: number, signal?: AbortSignal): Promise<number> {
    const waitMs = Number(await this.redis.eval(BOOK, 1, `${this.prefix}:rate:${provider}`, String(1000 / perSecond)));
    if (waitMs > 0) await sleep(waitMs, signal);
    return waitMs;
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
