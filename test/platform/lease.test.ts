// The Redis lease against a real Redis, with several connections standing in for processes.
import type { Redis } from 'ioredis';
import { Leases } from '../../src/platform/lease.js';
import { testNames } from '../support/env.js';
import { connect, deleteKeys, until } from './redis-keys.js';

const names = testNames('lease');
const conns: Redis[] = [];
function leases(): Leases {
  const redis = connect(names.redisUrl);
  conns.push(redis);
  return new Leases(redis, names.prefix);
}
let admin: Redis;

beforeAll(() => {
  admin = connect(names.redisUrl);
});
afterAll(async () => {
  await deleteKeys(admin, names.prefix);
  await Promise.all(conns.map((c) => c.quit().catch(() => undefined)));
  await admin.quit();
});

test('only one of several connections racing for the same key wins, every round', async () => {
  const racers = Array.from({ length: 6 }, () => leases());
  for (let round = 0; round < 20; round++) {
    const got = await Promise.all(racers.map((l) => l.acquire(`race-${round}`, 5000)));
    const winners = got.filter((g) => g !== null);
    expect(winners).toHaveLength(1);
    await winners[0]!.release();
  }
});

test('a held lease is renewed past its ttl and nobody else can take it meanwhile', async () => {
  const [a, b] = [leases(), leases()];
  const lease = await a.acquire('renewed', 300);
  expect(lease).not.toBeNull();
  await new Promise((r) => setTimeout(r, 1200)); // four ttls
  expect(lease!.lost).toBe(false);
  expect(await b.acquire('renewed', 300)).toBeNull();
  await lease!.release();
  expect(await b.acquire('renewed', 300)).not.toBeNull();
});

test('release by someone who no longer holds the lease leaves the new holder\'s lease alone', async () => {
  const [a, b] = [leases(), leases()];
  const first = await a.acquire('owner', 5000);
  // The first holder's lease vanishes (expired while it was paused), and b takes it.
  await admin.del(a.redisKey('owner'));
  const second = await b.acquire('owner', 5000);
  expect(second).not.toBeNull();
  await first!.release();
  expect(await admin.exists(a.redisKey('owner'))).toBe(1);
  expect(await a.acquire('owner', 5000)).toBeNull();
  await second!.release();
  expect(await admin.exists(a.redisKey('owner'))).toBe(0);
});

test('a holder that stops renewing (its process died) lets another take the lease once it expires', async () => {
  const deadRedis = connect(names.redisUrl);
  const dead = new Leases(deadRedis, names.prefix);
  const lease = await dead.acquire('expiry', 300);
  expect(lease).not.toBeNull();
  deadRedis.disconnect(); // no more renewals reach Redis
  const other = leases();
  expect(await other.acquire('expiry', 300)).toBeNull();
  let taken: Awaited<ReturnType<Leases['acquire']>> = null;
  await until(async () => (taken = await other.acquire('expiry', 5000)) !== null);
  await taken!.release();
});

test('a lease whose key is deleted from under it is marked lost and stops renewing', async () => {
  const a = leases();
  const lease = await a.acquire('lost', 300);
  expect(lease!.lost).toBe(false);
  await admin.del(a.redisKey('lost'));
  await until(() => lease!.lost);
  // Another holder's lease is not touched by the lost holder's renewal timer or release.
  const b = leases();
  const next = await b.acquire('lost', 300);
  expect(next).not.toBeNull();
  await new Promise((r) => setTimeout(r, 400));
  await lease!.release();
  expect(await admin.exists(a.redisKey('lost'))).toBe(1);
  await next!.release();
});

test('withLease runs fn only for the holder and releases after, even when fn throws', async () => {
  const [a, b] = [leases(), leases()];
  const held = await a.withLease('with', 5000, async () => {
    expect(await b.withLease('with', 5000, async () => 'second')).toEqual({ ran: false });
    return 'first';
  });
  expect(held).toEqual({ ran: true, value: 'first' });
  await expect(a.withLease('with', 5000, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
  expect(await admin.exists(a.redisKey('with'))).toBe(0);
});
