// Slack allows about one chat.postMessage per second per channel (docs: "Rate limits", special
// rate limits for posting messages), counted per app, not per process. So the pacing lives in
// Redis, shared by every web and worker process, in Lua scripts that read Redis's own clock (no
// skew between hosts): a per-channel "next slot" key hands out places in line, and a gate right
// before each post lets it through only an interval after the previous post in that channel
// finished. A 429 on chat.postMessage in any process sets a per-channel hold to Retry-After,
// which the gate honours too, so the others stay quiet while the SDK retries the limited call.
import { WebClientEvent, type WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../src/sdk/index.js';

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const num = (key: string) => `tonumber(redis.call('GET', ${key}) or '0')`;

/** KEYS: slot, hold. ARGV: interval. Takes the channel's next slot (queue order); returns ms to wait for it. */
const RESERVE = `${NOW}
local at = math.max(now, ${num('KEYS[1]')}, ${num('KEYS[2]')})
redis.call('SET', KEYS[1], at + tonumber(ARGV[1]), 'PX', at + tonumber(ARGV[1]) - now + 60000)
return at - now
`;

/**
 * KEYS: last, hold. ARGV: interval. The gate right before a post: it passes (0) only an interval
 * after the previous post finished and after any hold, and marks this post; else ms to wait.
 */
const GATE = `${NOW}
local at = math.max(${num('KEYS[1]')} + tonumber(ARGV[1]), ${num('KEYS[2]')})
if now < at then return at - now end
redis.call('SET', KEYS[1], now, 'PX', tonumber(ARGV[1]) + 60000)
return 0
`;

/** KEYS: last. ARGV: interval. A post finished: the next one counts its interval from now. */
const DONE = `${NOW}
if now > ${num('KEYS[1]')} then redis.call('SET', KEYS[1], now, 'PX', tonumber(ARGV[1]) + 60000) end
return 0
`;

/** KEYS: hold. ARGV: ms from now. Moves the hold later, never earlier. */
const HOLD = `${NOW}
local untilMs = now + tonumber(ARGV[1])
if untilMs > ${num('KEYS[1]')} then redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 60000) end
return untilMs
`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class ChannelPacer {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly watched = new WeakSet<WebClient>();

  constructor(
    private readonly redis: Redis,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  private keys(team: string | undefined, channel: string) {
    const id = `${team ?? '-'}:${channel}`;
    return { slot: `pace:slot:${id}`, last: `pace:last:${id}`, hold: `pace:hold:${id}` };
  }

  /** Runs `fn` (one chat.postMessage) in this channel's next free slot, across processes. */
  run<T>(team: string | undefined, channel: string, fn: () => Promise<T>): Promise<T> {
    const run = (async () => {
      const { slot, last, hold } = this.keys(team, channel);
      const interval = String(this.intervalMs);
      const wait = Number(await this.redis.eval(RESERVE, 2, slot, hold, interval));
      if (wait > 0) await sleep(wait);
      // The slot keeps the order; the gate keeps the spacing, whatever a slow post or another
      // process's 429 did meanwhile.
      for (;;) {
        const more = Number(await this.redis.eval(GATE, 2, last, hold, interval));
        if (more <= 0) break;
        await sleep(more);
      }
      try {
        return await fn();
      } finally {
        await this.redis.eval(DONE, 1, last, interval).catch((err: unknown) => this.logger.warn({ err, channel }, 'could not mark a Slack post as done in Redis'));
      }
    })();
    this.inFlight.add(run);
    void run.then(
      () => this.inFlight.delete(run),
      () => this.inFlight.delete(run),
    );
    return run;
  }

  /** Holds the channel for every process (a 429's Retry-After, plus one interval for the retry itself). */
  async holdOff(team: string | undefined, channel: string, ms: number): Promise<void> {
    await this.redis.eval(HOLD, 1, this.keys(team, channel).hold, String(Math.ceil(ms + this.intervalMs)));
  }

  /**
   * Listens to a client's 429s on chat.postMessage (the SDK retries them itself after
   * Retry-After; this tells the other processes to hold off meanwhile).
   */
  watch(client: WebClient, team: string | undefined): void {
    if (this.watched.has(client)) return;
    this.watched.add(client);
    client.on(WebClientEvent.RATE_LIMITED, (retrySec: number, req?: { url?: string; body?: { channel?: unknown } }) => {
      const channel = req?.body?.channel;
      if (!req?.url?.endsWith('/chat.postMessage') || typeof channel !== 'string') return;
      this.holdOff(team, channel, retrySec * 1000).catch((err: unknown) => this.logger.warn({ err, channel }, 'could not share a Slack 429 hold through Redis'));
    });
  }

  /** Resolves when every post started here has gone out (for stop). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
