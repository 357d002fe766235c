// Slack allows about one chat.postMessage per second per channel (docs: "Rate limits", special
// rate limits for posting messages), counted per app, not per process. So the pacing lives in
// Redis, shared by every web and worker process, in Lua scripts that read Redis's own clock (no
// skew between hosts): a per-channel "next slot" key hands out places in line, and a gate in the
// Web API client's fetch lets each request out only an interval after the previous one in that
// channel finished. The gate sits at the wire, and 429s on posts are retried there, because the
// SDK's own handling bunches posts: it pauses its whole queue for Retry-After, then releases what
// waited at once, and retries the limited call after Retry-After plus its back-off.
import type { FetchFunction, WebClient } from '@slack/web-api';
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
 * KEYS: last, hold. ARGV: interval, retry. The gate right before a post leaves: it passes (0) only
 * an interval after the previous post finished and after any hold; it marks this post. Else ms to
 * wait. A limited post's retry may go one interval before the hold ends: a 429 holds the channel
 * for Retry-After plus one interval, so the retry goes first and the posts behind it keep the interval.
 */
const GATE = `${NOW}
local at = math.max(${num('KEYS[1]')} + tonumber(ARGV[1]), ${num('KEYS[2]')} - (ARGV[2] == '1' and tonumber(ARGV[1]) or 0))
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
  /** The team each bot token posts for, so the gate (which sees only the request) finds the channel's keys. */
  private readonly teams = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  private keys(team: string | undefined, channel: string) {
    const id = `${team ?? '-'}:${channel}`;
    return { slot: `pace:slot:${id}`, last: `pace:last:${id}`, hold: `pace:hold:${id}` };
  }

  /** Remembers which team a client's token posts for. */
  bind(client: WebClient, team: string | undefined): void {
    if (client.token && team) this.teams.set(client.token, team);
  }

  /** Runs `fn` (one chat.postMessage) in this channel's next slot, across processes: the queue order. */
  run<T>(team: string | undefined, channel: string, fn: () => Promise<T>): Promise<T> {
    const run = (async () => {
      const { slot, hold } = this.keys(team, channel);
      const wait = Number(await this.redis.eval(RESERVE, 2, slot, hold, String(this.intervalMs)));
      if (wait > 0) await sleep(wait);
      return fn();
    })();
    this.inFlight.add(run);
    void run.then(
      () => this.inFlight.delete(run),
      () => this.inFlight.delete(run),
    );
    return run;
  }

  /**
   * The Web API client's fetch: a chat.postMessage request waits at its channel's gate and is
   * marked done when answered. A 429 holds the channel for every process for Retry-After plus one
   * interval, and the request itself goes again after Retry-After, first in line; the SDK sees the
   * 429 only when `retries` (apiRetries) are spent (it would pause its whole queue, then release it at once).
   */
  fetch(retries: number, base: FetchFunction = globalThis.fetch as unknown as FetchFunction): FetchFunction {
    return async (url, init) => {
      const target = this.postTarget(url, init);
      if (!target) return base(url, init);
      const { last, hold } = this.keys(target.team, target.channel);
      const interval = String(this.intervalMs);
      for (let attempt = 0; ; attempt++) {
        for (;;) {
          const more = Number(await this.redis.eval(GATE, 2, last, hold, interval, attempt > 0 ? '1' : '0'));
          if (more <= 0) break;
          await sleep(more);
        }
        let res: Awaited<ReturnType<FetchFunction>>;
        try {
          res = await base(url, init);
        } finally {
          await this.redis.eval(DONE, 1, last, interval).catch((err: unknown) => this.logger.warn({ err, channel: target.channel }, 'could not mark a Slack post as done in Redis'));
        }
        const retrySec = res.status === 429 ? Number.parseInt(res.headers.get('retry-after') ?? '', 10) : Number.NaN;
        if (!Number.isFinite(retrySec) || retrySec < 0 || attempt >= retries) return res;
        await res.text().catch(() => undefined);
        this.logger.info({ channel: target.channel, retrySec }, 'Slack rate-limited a post: holding the channel, then sending it again');
        await this.holdOff(target.team, target.channel, retrySec * 1000 + this.intervalMs).catch((err: unknown) => this.logger.warn({ err, channel: target.channel }, 'could not share a Slack 429 hold through Redis'));
        await sleep(retrySec * 1000);
      }
    };
  }

  /** The team and channel of a chat.postMessage request (the SDK sends it form-encoded), else undefined. */
  private postTarget(url: string | URL, init?: Parameters<FetchFunction>[1]): { team?: string; channel: string } | undefined {
    if (!String(url).endsWith('/chat.postMessage') || typeof init?.body !== 'string') return undefined;
    const body = init.body;
    let channel: unknown;
    try {
      channel = body.startsWith('{') ? (JSON.parse(body) as { channel?: unknown }).channel : new URLSearchParams(body).get('channel');
    } catch {
      return undefined;
    }
    if (typeof channel !== 'string' || !channel) return undefined;
    const token = new Headers(init.headers).get('authorization')?.replace(/^Bearer /, '');
    return { team: token ? this.teams.get(token) : undefined, channel };
  }

  /** Holds the channel for every process for `ms`. */
  async holdOff(team: string | undefined, channel: string, ms: number): Promise<void> {
    await this.redis.eval(HOLD, 1, this.keys(team, channel).hold, String(Math.ceil(ms)));
  }

  /** Resolves when every post started here has gone out (for stop). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
