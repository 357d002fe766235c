// The spend counters themselves, against real Redis and the real ledger collection: they cannot
// be read through Object.prototype, they are rebuilt from the ledger whenever Redis loses them
// (in a process that already used them), a reservation settles into its own day, every counter
// write carries an expiry, and reconcile() raises counters the ledger proves too low.
import { Redis } from 'ioredis';
import { connectStore, type Store } from '../../src/store/store.js';
import { SpendCap } from '../../src/engine/spend-cap.js';
import { Ledger } from '../../src/engine/ledger.js';
import { EnrichRequestSchema } from '../../src/engine/types.js';
import { ManualClock, utcDay } from '../../src/clock.js';
import { testNames } from '../support/env.js';

const names = testNames('spend-cap-counters');
let store: Store;
let redis: Redis;
let ledger: Ledger;

beforeAll(async () => {
  store = await connectStore(names.mongodbUrl);
  redis = new Redis(names.redisUrl);
  ledger = new Ledger(store.models, 10_000);
});
afterAll(async () => {
  const keys = await redis.keys(`${names.prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await store.connection.dropDatabase();
  await store.close();
});

let n = 0;
function cap(clock: ManualClock, config: Partial<ConstructorParameters<typeof SpendCap>[2]> = {}) {
  // A fresh prefix per test: counters of one test never meet another's.
  return new SpendCap(redis, store.models, { dailyUsd: null, perWorkspaceDailyUsd: null, workspaces: {}, ...config }, clock, `${names.prefix}:t${++n}`);
}
async function reserveMany(c: SpendCap, workspace: string, usd: number, times: number) {
  let ok = 0;
  for (let i = 0; i < times; i++) if ((await c.reserve(workspace, usd)).ok) ok++;
  return ok;
}

describe('workspace names that live on Object.prototype', () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('%s is refused as a workspace name, with the reason', (workspace) => {
    const parsed = EnrichRequestSchema.safeParse({ workspace, input: 'acme.com' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/reserved/);
  });

  test.each(['constructor', '__proto__', 'toString'])('a workspace called %s still meets the per-workspace default cap', async (workspace) => {
    const c = cap(new ManualClock(Date.UTC(2031, 0, 5, 12)), { perWorkspaceDailyUsd: 1, workspaces: { small: 0.5 } });
    expect(c.capFor(workspace)).toEqual({ global: null, workspace: 1 });
    expect(await reserveMany(c, workspace, 0.1, 30)).toBe(10);
  });
});

describe('counters Redis lost', () => {
  test('are re-seeded from the ledger even by the process that already used them', async () => {
    const clock = new ManualClock(Date.UTC(2031, 0, 6, 12));
    const c = cap(clock, { workspaces: { w: 1 } });
    const day = utcDay(clock.now());
    expect(await reserveMany(c, 'w', 0.3, 3)).toBe(3); // this process has now seen the counters
    await ledger.record({ workspace: 'w', provider: 'p', outcome: 'matched', costUsd: 0.9, charged: true, at: clock.now() });
    await redis.del(`${(c as unknown as { prefix: string }).prefix}:spend:${day}:ws:w`, `${(c as unknown as { prefix: string }).prefix}:spend:${day}:global`);
    // $0.90 of $1.00 is in the ledger: one more $0.20 call must be refused, not five accepted.
    expect(await reserveMany(c, 'w', 0.2, 5)).toBe(0);
    expect(await reserveMany(c, 'w', 0.1, 5)).toBe(1);
    await store.models.Ledger.deleteMany({ workspace: 'w' });
  });
});

describe('a reservation made just before midnight', () => {
  test('is settled into its own day, and every counter it touches keeps an expiry', async () => {
    const clock = new ManualClock(Date.UTC(2031, 0, 7, 23, 59, 59));
    const c = cap(clock, { dailyUsd: 10 });
    const prefix = (c as unknown as { prefix: string }).prefix;
    const r = await c.reserve('w', 0.5);
    expect(r).toMatchObject({ ok: true, day: '2031-01-07' });
    clock.set(Date.UTC(2031, 0, 8, 0, 0, 2));
    await c.settle(r, 0.2);
    expect(await redis.get(`${prefix}:spend:2031-01-07:global`)).toBe(String(200_000));
    expect(await redis.exists(`${prefix}:spend:2031-01-08:global`)).toBe(0);
    for (const k of await redis.keys(`${prefix}:*`)) expect(await redis.ttl(k)).toBeGreaterThan(0);
  });

  test('a settlement never creates a counter without an expiry (the key was lost meanwhile)', async () => {
    const clock = new ManualClock(Date.UTC(2031, 0, 9, 10));
    const c = cap(clock, { dailyUsd: 10 });
    const prefix = (c as unknown as { prefix: string }).prefix;
    const r = await c.reserve('w', 0.5);
    await redis.del(`${prefix}:spend:2031-01-09:global`, `${prefix}:spend:2031-01-09:ws:w`);
    await c.settle(r, 0.7);
    for (const k of await redis.keys(`${prefix}:*`)) expect(await redis.ttl(k)).toBeGreaterThan(0);
  });
});

describe('reconcile', () => {
  test('raises counters below the ledger (or missing) to the ledger and reports each scope', async () => {
    const clock = new ManualClock(Date.UTC(2031, 0, 10, 10));
    const c = cap(clock, { dailyUsd: 10 });
    const prefix = (c as unknown as { prefix: string }).prefix;
    await c.reserve('a', 0.1);
    await ledger.record({ workspace: 'a', provider: 'p', outcome: 'matched', costUsd: 0.4, charged: true, at: clock.now() });
    await ledger.record({ workspace: 'b', provider: 'p', outcome: 'matched', costUsd: 0.25, charged: true, at: clock.now() });
    const rows = await c.reconcile('2031-01-10');
    expect(rows).toEqual([
      { scope: 'global', counterUsd: 0.1, ledgerUsd: 0.65, raised: true },
      { scope: 'a', counterUsd: 0.1, ledgerUsd: 0.4, raised: true },
      { scope: 'b', counterUsd: null, ledgerUsd: 0.25, raised: true },
    ]);
    expect(await redis.get(`${prefix}:spend:2031-01-10:ws:b`)).toBe('250000');
    expect(await redis.ttl(`${prefix}:spend:2031-01-10:ws:b`)).toBeGreaterThan(0);
    // A counter above the ledger (reservations in flight) is left alone.
    await c.reserve('a', 1);
    expect((await c.reconcile('2031-01-10'))[1]).toEqual({ scope: 'a', counterUsd: 1.4, ledgerUsd: 0.4, raised: false });
  });
});
