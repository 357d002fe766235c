// Daily spend caps (global and per workspace), enforced across every worker process: spend is
// reserved atomically in Redis before a paid call and settled after it, so 20 concurrent
// workers cannot overshoot a cap by more than one call's cost. Counters are per UTC day and the
// ledger in MongoDB is the truth: whenever a counter key is missing (first use, Redis restarted
// or evicted it), the Lua script says so and the counter is seeded from the ledger before any
// reservation goes through, in every process, not only the first one to see the day.
import type { Redis } from 'ioredis';
import type { Models } from '../store/models.js';
import { utcDay, type Clock } from '../clock.js';

/** Counters live three days: long enough for a reservation settled after midnight. */
const COUNTER_TTL_SECONDS = 3 * 86400;

// Returns {-1, index} when a counter key is missing (the caller seeds it and asks again),
// {0, scope, spent} when a cap refuses, {1} when the amount is reserved.
const RESERVE = `
for i = 1, 2 do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {-1, tostring(i), 0} end
end
local amt = tonumber(ARGV[1])
local gcap = tonumber(ARGV[2])
local wcap = tonumber(ARGV[3])
local g = tonumber(redis.call('GET', KEYS[1]))
local w = tonumber(redis.call('GET', KEYS[2]))
if gcap >= 0 and g + amt > gcap then return {0, 'global', g} end
if wcap >= 0 and w + amt > wcap then return {0, 'workspace', w} end
redis.call('INCRBY', KEYS[1], amt)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBY', KEYS[2], amt)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, '', 0}
`;

// A settlement only adjusts counters that exist: a missing key is re-seeded from the ledger
// (which will hold this call's row), so creating it here from a bare delta would undercount.
// It always counts itself in the day's settle sequence (the last key): see fromLedger.
const SETTLE = `
for i = 1, #KEYS - 1 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCRBY', KEYS[i], ARGV[1])
    redis.call('EXPIRE', KEYS[i], ARGV[2])
  end
end
redis.call('INCR', KEYS[#KEYS])
redis.call('EXPIRE', KEYS[#KEYS], ARGV[2])
return 1
`;

// Writes a counter from a ledger sum, unless a settlement happened since the sum was read (the
// settle sequence moved from ARGV[4]: returns -1; '' skips that check). ARGV[3] 'seed': only if
// the counter is missing (a racing process's seed or reservation wins). 'raise': if it is missing
// or below the sum; a counter above the ledger is left alone, as the difference may be
// reservations still in flight.
const FROM_LEDGER = `
if ARGV[4] ~= '' and (redis.call('GET', KEYS[2]) or '0') ~= ARGV[4] then return -1 end
local cur = redis.call('GET', KEYS[1])
if cur == false or (ARGV[3] == 'raise' and tonumber(cur) < tonumber(ARGV[1])) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
`;
/** Tries at writing a counter from the ledger while settlements keep moving it. */
const FROM_LEDGER_TRIES = 5;
/** When a counter settle Redis did not take is tried again: about 3 min in all, for a Redis restart or failover. */
const SETTLE_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15_000, 30_000, 30_000, 30_000, 30_000, 30_000];

export const toMicros = (usd: number) => Math.round(usd * 1_000_000);
export const fromMicros = (m: number) => m / 1_000_000;

export interface SpendCapConfig {
  dailyUsd: number | null;
  perWorkspaceDailyUsd: number | null;
  workspaces: Record<string, number>;
}

/** `day` is the UTC day the amount was reserved in: settle into it and date the ledger row by it. */
export type Reservation = { ok: true; micros: number; day: string; workspace: string } | { ok: false; scope: 'global' | 'workspace'; capUsd: number; spentUsd: number };

export interface ReconcileRow {
  /** 'global' or the workspace. */
  scope: string;
  counterUsd: number | null;
  ledgerUsd: number;
  /** The counter was missing or below the ledger and was raised to it. */
  raised: boolean;
}

export class SpendCap {
  /** Own entries only: a workspace called `constructor` must not find Object.prototype's. */
  private readonly workspaceCaps: Map<string, number>;
  constructor(
    private readonly redis: Redis,
    private readonly models: Models,
    private readonly config: SpendCapConfig,
    private readonly clock: Clock,
    private readonly prefix: string,
  ) {
    this.workspaceCaps = new Map(Object.entries(config.workspaces ?? {}));
  }

  private keys(day: string, workspace: string): [string, string] {
    return [`${this.prefix}:spend:${day}:global`, `${this.prefix}:spend:${day}:ws:${workspace}`];
  }

  /** How many settlements the day has seen: a counter read from the ledger is stale once it moved. */
  private settlesKey(day: string): string {
    return `${this.prefix}:spend:${day}:settles`;
  }

  capFor(workspace: string): { global: number | null; workspace: number | null } {
    const own = this.workspaceCaps.get(workspace);
    return { global: this.config.dailyUsd, workspace: own ?? this.config.perWorkspaceDailyUsd };
  }

  private async ledgerMicros(day: string, workspace?: string): Promise<number> {
    const match = workspace === undefined ? { day } : { day, workspace };
    const rows = await this.models.Ledger.aggregate<{ total: number }>([{ $match: match }, { $group: { _id: null, total: { $sum: '$costUsd' } } }]);
    return toMicros(rows[0]?.total ?? 0);
  }

  /**
   * Writes a counter from the ledger's sum ('seed': if missing; 'raise': if missing or below it).
   * A call settles its ledger row first and its counters after (provider-call.ts), and a counter
   * missing at that moment is not adjusted: a sum read before a settled row changed, written after,
   * would count that call's reservation for good. So the day's settle sequence is read before the
   * sum and the write happens only if it has not moved; else the sum is read again. Returns the
   * sum and whether the counter was written.
   */
  private async fromLedger(mode: 'seed' | 'raise', key: string, day: string, workspace?: string): Promise<{ written: boolean; micros: number }> {
    for (let attempt = 1; ; attempt++) {
      const seen = (await this.redis.get(this.settlesKey(day))) ?? '0';
      const micros = await this.ledgerMicros(day, workspace);
      // After a few moves, write anyway: an error of the few calls settled meanwhile beats a stall.
      const expect = attempt < FROM_LEDGER_TRIES ? seen : '';
      const res = Number(await this.redis.eval(FROM_LEDGER, 2, key, this.settlesKey(day), micros, COUNTER_TTL_SECONDS, mode, expect));
      if (res !== -1) return { written: res === 1, micros };
    }
  }

  async reserve(workspace: string, usd: number): Promise<Reservation> {
    const day = utcDay(this.clock.now());
    const micros = toMicros(usd);
    const caps = this.capFor(workspace);
    if (micros === 0) return { ok: true, micros, day, workspace };
    const [gk, wk] = this.keys(day, workspace);
    for (let attempt = 0; ; attempt++) {
      const res = (await this.redis.eval(
        RESERVE,
        2,
        gk,
        wk,
        micros,
        caps.global === null ? -1 : toMicros(caps.global),
        caps.workspace === null ? -1 : toMicros(caps.workspace),
        COUNTER_TTL_SECONDS,
      )) as [number, string, number];
      if (res[0] === -1) {
        // Bounded: each round seeds one key with NX; a key cannot keep vanishing forever.
        if (attempt >= 5) throw new Error(`spend counter ${res[1] === '1' ? gk : wk} keeps disappearing from Redis`);
        if (res[1] === '1') await this.fromLedger('seed', gk, day);
        else await this.fromLedger('seed', wk, day, workspace);
        continue;
      }
      if (res[0] === 1) return { ok: true, micros, day, workspace };
      const scope = res[1] as 'global' | 'workspace';
      return { ok: false, scope, capUsd: (scope === 'global' ? caps.global : caps.workspace) ?? 0, spentUsd: fromMicros(Number(res[2])) };
    }
  }

  /** Replaces a reservation by what the call actually cost (0 for a free miss or an error), in the reservation's day. */
  async settle(reservation: Reservation, actualUsd: number): Promise<void> {
    if (!reservation.ok) return;
    const delta = toMicros(actualUsd) - reservation.micros;
    if (delta === 0) return;
    const [gk, wk] = this.keys(reservation.day, reservation.workspace);
    const apply = () => this.redis.eval(SETTLE, 3, gk, wk, this.settlesKey(reservation.day), delta, COUNTER_TTL_SECONDS);
    try {
      await apply();
    } catch (err) {
      this.settleLater(apply, 0);
      throw err;
    }
  }

  /**
   * The call's ledger row is settled already; until its counters follow, they count the
   * reservation instead of the cost, for the rest of the day (the sweeper's reconcile only raises
   * a counter). So a settle Redis did not take is tried again in the background while Redis comes
   * back. Given up after the last delay (or with the process): the counter then stays above the
   * ledger, on the safe side of a cap.
   */
  private settleLater(apply: () => Promise<unknown>, attempt: number): void {
    const delay = SETTLE_RETRY_DELAYS_MS[attempt];
    if (delay === undefined) return;
    setTimeout(() => void apply().catch(() => this.settleLater(apply, attempt + 1)), delay).unref();
  }

  async spentToday(workspace?: string): Promise<number> {
    const day = utcDay(this.clock.now());
    const [gk, wk] = this.keys(day, workspace ?? '_');
    const key = workspace === undefined ? gk : wk;
    if (!(await this.redis.exists(key))) await this.fromLedger('seed', key, day, workspace);
    return fromMicros(Number((await this.redis.get(key)) ?? 0));
  }

  /**
   * Compares a day's counters (global and every workspace in that day's ledger) with the ledger
   * and raises any that are missing or below it, so a lost or undercounting counter cannot let
   * spend past a cap. For the sweeper; defaults to today.
   */
  async reconcile(day = utcDay(this.clock.now())): Promise<ReconcileRow[]> {
    const workspaces = ((await this.models.Ledger.distinct('workspace', { day })) as string[]).sort();
    const out: ReconcileRow[] = [];
    for (const ws of [undefined, ...workspaces]) {
      const [gk, wk] = this.keys(day, ws ?? '_');
      const key = ws === undefined ? gk : wk;
      const before = await this.redis.get(key);
      const { written: raised, micros: ledger } = await this.fromLedger('raise', key, day, ws);
      out.push({ scope: ws ?? 'global', counterUsd: before === null ? null : fromMicros(Number(before)), ledgerUsd: fromMicros(ledger), raised });
    }
    return out;
  }
}
