// Daily spend caps (global and per workspace), enforced across every worker process: spend is
// reserved atomically in Redis before a paid call and settled after it, so 20 concurrent
// workers cannot overshoot a cap by more than one call's cost. Counters are per UTC day; if
// Redis lost them, they are rebuilt from the ledger in MongoDB (the ledger is the truth).
import type { Redis } from 'ioredis';
import type { Models } from '../store/models.js';
import { utcDay, type Clock } from '../clock.js';

const RESERVE = `
local amt = tonumber(ARGV[1])
local gcap = tonumber(ARGV[2])
local wcap = tonumber(ARGV[3])
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
local w = tonumber(redis.call('GET', KEYS[2]) or '0')
if gcap >= 0 and g + amt > gcap then return {0, 'global', g} end
if wcap >= 0 and w + amt > wcap then return {0, 'workspace', w} end
redis.call('INCRBY', KEYS[1], amt)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBY', KEYS[2], amt)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, '', 0}
`;

export const toMicros = (usd: number) => Math.round(usd * 1_000_000);
export const fromMicros = (m: number) => m / 1_000_000;

export interface SpendCapConfig {
  dailyUsd: number | null;
  perWorkspaceDailyUsd: number | null;
  workspaces: Record<string, number>;
}

export type Reservation = { ok: true; micros: number; day: string; workspace: string } | { ok: false; scope: 'global' | 'workspace'; capUsd: number; spentUsd: number };

export class SpendCap {
  private readonly initialized = new Set<string>();
  constructor(
    private readonly redis: Redis,
    private readonly models: Models,
    private readonly config: SpendCapConfig,
    private readonly clock: Clock,
    private readonly prefix: string,
  ) {}

  private keys(day: string, workspace: string): [string, string] {
    return [`${this.prefix}:spend:${day}:global`, `${this.prefix}:spend:${day}:ws:${workspace}`];
  }

  capFor(workspace: string): { global: number | null; workspace: number | null } {
    return { global: this.config.dailyUsd, workspace: this.config.workspaces[workspace] ?? this.config.perWorkspaceDailyUsd };
  }

  /** Seeds today's counters from the ledger when Redis has none (first use, or Redis restarted). */
  private async ensureCounters(day: string, workspace: string): Promise<void> {
    const [gk, wk] = this.keys(day, workspace);
    for (const [key, match] of [
      [gk, { day }],
      [wk, { day, workspace }],
    ] as const) {
      if (this.initialized.has(key)) continue;
      if (!(await this.redis.exists(key))) {
        const rows = await this.models.Ledger.aggregate<{ total: number }>([{ $match: match }, { $group: { _id: null, total: { $sum: '$costUsd' } } }]);
        await this.redis.set(key, String(toMicros(rows[0]?.total ?? 0)), 'EX', 3 * 86400, 'NX');
      }
      this.initialized.add(key);
    }
  }

  async reserve(workspace: string, usd: number): Promise<Reservation> {
    const day = utcDay(this.clock.now());
    const micros = toMicros(usd);
    const caps = this.capFor(workspace);
    if (micros === 0) return { ok: true, micros, day, workspace };
    await this.ensureCounters(day, workspace);
    const [gk, wk] = this.keys(day, workspace);
    const res = (await this.redis.eval(
      RESERVE,
      2,
      gk,
      wk,
      micros,
      caps.global === null ? -1 : toMicros(caps.global),
      caps.workspace === null ? -1 : toMicros(caps.workspace),
      3 * 86400,
    )) as [number, string, number];
    if (res[0] === 1) return { ok: true, micros, day, workspace };
    const scope = res[1] as 'global' | 'workspace';
    return { ok: false, scope, capUsd: (scope === 'global' ? caps.global : caps.workspace) ?? 0, spentUsd: fromMicros(Number(res[2])) };
  }

  /** Replaces a reservation by what the call actually cost (0 for a free miss or an error). */
  async settle(reservation: Reservation, actualUsd: number): Promise<void> {
    if (!reservation.ok) return;
    const delta = toMicros(actualUsd) - reservation.micros;
    if (delta === 0) return;
    const [gk, wk] = this.keys(reservation.day, reservation.workspace);
    await this.redis.multi().incrby(gk, delta).incrby(wk, delta).exec();
  }

  async spentToday(workspace?: string): Promise<number> {
    const day = utcDay(this.clock.now());
    const [gk, wk] = this.keys(day, workspace ?? '_');
    await this.ensureCounters(day, workspace ?? '_');
    return fromMicros(Number((await this.redis.get(workspace ? wk : gk)) ?? 0));
  }
}
