// Per-request budgets (`maxCostUsd`): like the daily caps, a paid call's price is reserved
// atomically in Redis before the call and settled to its real cost after it, so any number of
// worker processes sharing one budget (a batch's, or one job's) stop before the call that would
// pass it. Only a provider's reported cost above its configured price can overshoot, by at most
// that one call. The ledger holds each row's budget key: a counter Redis lost is rebuilt from it.
import type { Redis } from 'ioredis';
import type { Models } from '../store/models.js';
import { toMicros, fromMicros } from './spend-cap.js';

/** A budget outlives any job that spends against it (batches are kept 14 days). */
const BUDGET_TTL_SECONDS = 15 * 86400;

// {-1} when the counter is missing (the caller seeds it from the ledger), {0, spent} when the
// amount would pass the budget, {1} when reserved.
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local spent = tonumber(redis.call('GET', KEYS[1]))
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, spent} end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, 0}
`;

const SETTLE = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
`;

/** The budget a call spends against: `key` is shared by every job of a batch, or is one job's run. */
export interface BudgetRef {
  key: string;
  maxUsd: number;
}

export type BudgetReservation = { ok: true; key: string; micros: number } | { ok: false; maxUsd: number; spentUsd: number };

export class RequestBudgets {
  constructor(
    private readonly redis: Redis,
    private readonly models: Models,
    private readonly prefix: string,
  ) {}

  private counter(key: string): string {
    return `${this.prefix}:budget:${key}`;
  }

  async reserve(budget: BudgetRef, usd: number): Promise<BudgetReservation> {
    const micros = toMicros(usd);
    const key = this.counter(budget.key);
    for (let attempt = 0; ; attempt++) {
      const res = (await this.redis.eval(RESERVE, 1, key, micros, toMicros(budget.maxUsd), BUDGET_TTL_SECONDS)) as [number, number];
      if (res[0] === 1) return { ok: true, key: budget.key, micros };
      if (res[0] === 0) return { ok: false, maxUsd: budget.maxUsd, spentUsd: fromMicros(Number(res[1])) };
      if (attempt >= 5) throw new Error(`budget counter ${key} keeps disappearing from Redis`);
      await this.seed(budget.key);
    }
  }

  /** Replaces a reservation by the call's real cost (0 for a free miss or an error). */
  async settle(reservation: BudgetReservation, actualUsd: number): Promise<void> {
    if (!reservation.ok) return;
    const delta = toMicros(actualUsd) - reservation.micros;
    if (delta !== 0) await this.redis.eval(SETTLE, 1, this.counter(reservation.key), delta, BUDGET_TTL_SECONDS);
  }

  async spent(key: string): Promise<number> {
    const v = await this.redis.get(this.counter(key));
    return v === null ? fromMicros(await this.ledgerMicros(key)) : fromMicros(Number(v));
  }

  private async ledgerMicros(key: string): Promise<number> {
    const rows = await this.models.Ledger.aggregate<{ total: number }>([{ $match: { budget: key } }, { $group: { _id: null, total: { $sum: '$costUsd' } } }]);
    return toMicros(rows[0]?.total ?? 0);
  }

  /** NX: a racing process's seed or reservation wins. */
  private async seed(key: string): Promise<void> {
    await this.redis.set(this.counter(key), String(await this.ledgerMicros(key)), 'EX', BUDGET_TTL_SECONDS, 'NX');
  }
}
