// The HubSpot CRM client (@hubspot/api-client) behind one door, `call`, which keeps enrichbot
// within HubSpot's limits across every process: a shared Redis window (default 100 requests per
// 10 s, HubSpot's private-app burst limit) and a daily budget; it reads X-HubSpot-RateLimit-*
// headers (Remaining 0 pauses everyone until the window ends) and on 429 waits Retry-After.
// The client's own retry is off: it waits fixed times and ignores Retry-After.
import { Client } from '@hubspot/api-client';
import type { Redis } from 'ioredis';
import { type Clock, EnrichbotError, type Logger } from '../../../src/sdk/index.js';
import { HubspotErrors } from './errors.js';
import type { HubspotConfig } from './config.js';

export type ObjectType = 'contacts' | 'companies';
export interface CrmObject {
  id: string;
  properties: Record<string, string | null>;
}

/** A failed HubSpot call, with HubSpot's own message (shown in the digest). */
export class HubspotApiError extends EnrichbotError {
  constructor(
    readonly status: number | undefined,
    message: string,
    cause?: unknown,
  ) {
    super(HubspotErrors.HUBSPOT_API_FAILED.code, message, { cause });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HubSpot's message from an ApiException body ({ status, message, category }) or a network error. */
export function hubspotMessage(err: unknown): string {
  const e = err as { code?: number; body?: { message?: string; category?: string }; message?: string };
  if (e?.body && typeof e.body === 'object' && e.body.message) return `${e.code ?? ''} ${e.body.category ?? ''}: ${e.body.message}`.trim();
  return e?.message ?? String(err);
}

export class HubspotApi {
  readonly client: Client;
  /** The latest X-HubSpot-RateLimit-Remaining seen (for logs and tests). */
  lastRemaining?: number;
  /** An installed portal's token, read (and refreshed) before each call; unset: the fixed token. */
  tokenSource?: () => Promise<string>;

  constructor(
    private readonly config: HubspotConfig,
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly logger: Logger,
    accessToken: string,
  ) {
    this.client = new Client({
      accessToken,
      ...(config.apiUrl ? { basePath: config.apiUrl.replace(/\/$/, '') } : {}),
      numberOfApiCallRetries: 0,
      middleware: [{ pre: (c: unknown) => c, post: (c: unknown) => this.readLimits(c as { headers: Record<string, string> }) }],
    });
  }

  private async readLimits<C extends { headers: Record<string, string> }>(ctx: C): Promise<C> {
    const remaining = Number(ctx.headers?.['x-hubspot-ratelimit-remaining']);
    if (Number.isFinite(remaining) && ctx.headers['x-hubspot-ratelimit-remaining'] !== undefined) {
      this.lastRemaining = remaining;
      if (remaining <= 0) {
        const interval = Number(ctx.headers['x-hubspot-ratelimit-interval-milliseconds']) || this.config.limits.windowMs;
        await this.redis.set('pause', '1', 'PX', interval);
      }
    }
    return ctx;
  }

  /** Waits for a slot in the shared window and counts the call against the daily budget. */
  private async acquire(): Promise<void> {
    const { requestsPerWindow, windowMs, dailyBudget } = this.config.limits;
    for (;;) {
      const paused = await this.redis.pttl('pause');
      if (paused > 0) {
        await sleep(paused);
        continue;
      }
      const now = Date.now();
      const win = Math.floor(now / windowMs);
      const key = `rl:${win}`;
      const n = await this.redis.incr(key);
      if (n === 1) await this.redis.pexpire(key, windowMs * 2);
      if (n <= requestsPerWindow) break;
      await sleep((win + 1) * windowMs - now + 5);
    }
    const day = this.clock.now().toISOString().slice(0, 10);
    const used = await this.redis.incr(`budget:${day}`);
    if (used === 1) await this.redis.expire(`budget:${day}`, 2 * 86400);
    if (used > dailyBudget) {
      throw new EnrichbotError(HubspotErrors.HUBSPOT_BUDGET_REACHED.code, `The daily HubSpot request budget (${dailyBudget}) is used up for ${day}: raise triggers.hubspot.limits.dailyBudget or wait for tomorrow (UTC).`);
    }
  }

  /** One HubSpot call within the limits; 429 waits Retry-After, 5xx and network errors back off. */
  async call<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const { maxRetries, maxRetryAfterMs } = this.config.limits;
    for (let attempt = 0; ; attempt++) {
      await this.acquire();
      if (this.tokenSource) this.client.setAccessToken(await this.tokenSource());
      try {
        return await fn(this.client);
      } catch (err) {
        const status = (err as { code?: unknown }).code;
        const code = typeof status === 'number' ? status : undefined;
        const retryable = code === 429 || code === undefined || code >= 500;
        if (!retryable || attempt >= maxRetries) throw new HubspotApiError(code, `HubSpot ${what} failed: ${hubspotMessage(err)}`, err);
        let wait = Math.min(200 * 2 ** attempt, 5000);
        if (code === 429) {
          const headers = (err as { headers?: Record<string, string> }).headers ?? {};
          const after = Number(headers['retry-after']);
          if (Number.isFinite(after) && after >= 0) wait = after * 1000;
          if (wait > maxRetryAfterMs) throw new HubspotApiError(code, `HubSpot ${what} failed: rate limited for ${wait} ms (more than limits.maxRetryAfterMs)`, err);
          // Every process waits, not only this one.
          if (wait > 0) await this.redis.set('pause', '1', 'PX', wait);
        }
        this.logger.warn({ what, status: code, attempt, waitMs: wait }, 'HubSpot call failed; retrying');
        await sleep(wait);
      }
    }
  }

  /** Batch read (≤100 ids per call). Missing ids are simply absent from the answer. */
  async read(objectType: ObjectType, ids: string[], properties: string[]): Promise<CrmObject[]> {
    const out: CrmObject[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const res = await this.call(`batch read of ${objectType}`, (c) => c.crm.objects.batchApi.read(objectType, { inputs: chunk.map((id) => ({ id })), properties, propertiesWithHistory: [] }));
      for (const r of res.results) out.push({ id: String(r.id), properties: { ...(r.properties as Record<string, string | null>) } });
    }
    return out;
  }
}
