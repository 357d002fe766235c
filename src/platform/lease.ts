// One Redis lease helper for everything exclusive across processes (schedules, requester claims,
// job-run locks). FerretDB has no atomic conditional update, so exclusivity lives in Redis:
// `SET key token NX PX ttl` takes it, a Lua compare-and-PEXPIRE renews it every ttl/3 while the
// holder runs, and a Lua compare-and-DEL releases it, so a holder whose lease expired and was
// taken by someone else can never extend or delete the new holder's lease.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Lease } from '../plugin/service.js';

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

class RedisLease implements Lease {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private isLost = false;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    /** The Redis key holding the token. */
    readonly redisKey: string,
    readonly token: string,
    private readonly ttlMs: number,
    private readonly logger?: Logger,
  ) {}

  get lost(): boolean {
    return this.isLost;
  }

  startRenewing(): void {
    // A renewal every ttl/3 leaves two more chances before expiry if one Redis call is slow.
    const every = Math.max(1, Math.floor(this.ttlMs / 3));
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.released || this.isLost) return;
    try {
      const ok = Number(await this.redis.eval(RENEW, 1, this.redisKey, this.token, String(this.ttlMs)));
      if (ok !== 1 && !this.released) this.markLost('the lease key expired or another holder took it');
    } catch (err) {
      // A failed call is not a lost lease yet: the key may still be ours; the next tick retries.
      this.logger?.warn({ err, lease: this.key }, 'lease renewal failed; retrying on the next tick');
    }
  }

  private markLost(why: string): void {
    this.isLost = true;
    this.stopTimer();
    this.logger?.warn({ lease: this.key }, `lease lost: ${why}`);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stopTimer();
    await this.redis.eval(RELEASE, 1, this.redisKey, this.token);
  }
}

export class Leases {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {}

  /** The Redis key that holds lease `key` (for tests and diagnostics). */
  redisKey(key: string): string {
    return `${this.prefix}:lease:${key}`;
  }

  /** Takes the lease if nobody holds it; null if someone does. Renewed until released. */
  async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    if (!Number.isInteger(ttlMs) || ttlMs < 3) throw new RangeError(`lease ttlMs must be an integer >= 3, got ${ttlMs}`);
    const token = randomBytes(16).toString('hex');
    const redisKey = this.redisKey(key);
    const ok = await this.redis.set(redisKey, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    const lease = new RedisLease(this.redis, key, redisKey, token, ttlMs, this.logger);
    lease.startRenewing();
    return lease;
  }

  /** Runs `fn` while holding the lease and releases it after, even when `fn` throws. */
  async withLease<T>(key: string, ttlMs: number, fn: (lease: Lease) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const lease = await this.acquire(key, ttlMs);
    if (!lease) return { ran: false };
    try {
      return { ran: true, value: await fn(lease) };
    } finally {
      await lease.release().catch((err) => this.logger?.warn({ err, lease: key }, 'lease release failed; it expires on its own'));
    }
  }
}
