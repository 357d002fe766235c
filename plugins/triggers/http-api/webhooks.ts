// Completion webhooks: when a job or batch that asked for a callbackUrl finishes, an event is
// put in an outbox in Redis and POSTed, signed, until the receiver answers 2xx or 24 h have
// passed. At least once: a delivery is claimed by pushing its due time past a visibility window
// (ZADD, in one script with the read), so a process that dies mid-POST leaves it due again;
// receivers dedupe on the event id, which is the same on every attempt.
// Signature (Stripe's scheme): `Enrichbot-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of
// "<t>.<raw body>" with the key's webhook secret>`, signed anew for each attempt.
import { createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../../../src/sdk/index.js';
import type { Logger } from '../../../src/sdk/index.js';
import type { SafeFetch } from '../../../src/sdk/index.js';
import { ErrorCodes, isEnrichbotError } from '../../../src/sdk/index.js';

export const WEBHOOK_MAX_AGE_MS = 24 * 3600_000;
const MAX_BACKOFF_MS = 3600_000;
/** A claimed delivery becomes due again after this long if its process died mid-POST. */
const VISIBILITY_MS = 60_000;
const DUE = 'wh:due';
const eventKey = (id: string) => `wh:event:${id}`;

// Takes up to ARGV[3] due deliveries and pushes each one's due time to ARGV[2] (claimed).
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
`;

export interface WebhookEvent {
  id: string;
  keyId: string;
  url: string;
  type: 'job.completed' | 'batch.completed';
  /** The exact body sent (and signed). */
  body: string;
  createdAt: number;
  attempts: number;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookDeps {
  redis: Redis;
  clock: Clock;
  logger: Logger;
  safeFetch: SafeFetch;
  /** The key's signing secret, looked up at each attempt (undefined: the key is gone). */
  secretOf(keyId: string): Promise<string | undefined>;
  retryBaseMs: number;
}

export class WebhookOutbox {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly deps: WebhookDeps) {}

  /** Stores the event and makes it due now; returns its id. */
  async enqueue(e: { keyId: string; url: string; type: WebhookEvent['type']; data: unknown }): Promise<string> {
    const now = this.deps.clock.now().getTime();
    const id = `evt_${randomBytes(12).toString('hex')}`;
    const body = JSON.stringify({ id, type: e.type, createdAt: new Date(now).toISOString(), data: e.data });
    const event: WebhookEvent = { id, keyId: e.keyId, url: e.url, type: e.type, body, createdAt: now, attempts: 0 };
    await this.deps.redis.multi().set(eventKey(id), JSON.stringify(event), 'PX', WEBHOOK_MAX_AGE_MS + 3600_000).zadd(DUE, now, id).exec();
    return id;
  }

  start(pollMs: number): void {
    this.timer = setInterval(() => void this.tick(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass: every due delivery is attempted once. Overlapping passes are skipped. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const now = this.deps.clock.now().getTime();
        const ids = (await this.deps.redis.eval(CLAIM, 1, DUE, now, now + VISIBILITY_MS, 10)) as string[];
        if (!ids.length) return;
        await Promise.all(ids.map((id) => this.attempt(id)));
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'webhook outbox: a pass failed; the next one retries');
    } finally {
      this.running = false;
    }
  }

  private async attempt(id: string): Promise<void> {
    const { redis, clock, logger } = this.deps;
    const raw = await redis.get(eventKey(id));
    if (!raw) {
      await redis.zrem(DUE, id);
      return;
    }
    const event = JSON.parse(raw) as WebhookEvent;
    event.attempts += 1;
    const outcome = await this.post(event);
    const now = clock.now().getTime();
    if (outcome.ok) {
      await redis.multi().zrem(DUE, id).del(eventKey(id)).exec();
      return;
    }
    const next = now + Math.min(MAX_BACKOFF_MS, this.deps.retryBaseMs * 2 ** (event.attempts - 1));
    if (outcome.final || next > event.createdAt + WEBHOOK_MAX_AGE_MS) {
      // The receiver's failure, not enrichbot's: a warning, with what to do.
      logger.warn({ eventId: id, keyId: event.keyId, attempts: event.attempts, why: outcome.why }, 'webhook given up: the receiver did not accept it within 24 h (the result stays readable through GET /v1/jobs/:id)');
      await redis.multi().zrem(DUE, id).del(eventKey(id)).exec();
      return;
    }
    await redis.multi().set(eventKey(id), JSON.stringify(event), 'KEEPTTL').zadd(DUE, next, id).exec();
  }

  private async post(event: WebhookEvent): Promise<{ ok: boolean; final?: boolean; why?: string }> {
    const secret = await this.deps.secretOf(event.keyId);
    if (!secret) return { ok: false, final: true, why: 'the API key no longer exists' };
    const t = Math.floor(this.deps.clock.now().getTime() / 1000);
    try {
      const res = await this.deps.safeFetch(event.url, {
        method: 'POST',
        body: event.body,
        maxBytes: 4096,
        timeoutMs: 10_000,
        headers: {
          'content-type': 'application/json',
          accept: '*/*',
          'enrichbot-event-id': event.id,
          'enrichbot-event-type': event.type,
          'enrichbot-delivery-attempt': String(event.attempts),
          'enrichbot-signature': sign(secret, t, event.body),
        },
      });
      return res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, why: `HTTP ${res.status}` };
    } catch (err) {
      // A host that now resolves to a private address will not stop doing so: no retries.
      return { ok: false, final: isEnrichbotError(err, ErrorCodes.URL_REFUSED), why: (err as Error).message };
    }
  }
}
