// Schedules run once per occurrence across workers. Most tests drive time with one ManualClock
// shared by three Scheduler instances on their own Redis connections (three "processes");
// one test runs three real OS processes on the wall clock (test/platform/fixtures/
// scheduler-process.mjs, compiled dist/: `npm test` builds first).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.js';
import { ErrorCodes } from '../../src/errors.js';
import { Leases } from '../../src/platform/lease.js';
import { Scheduler } from '../../src/platform/scheduler.js';
import { testNames } from '../support/env.js';
import { connect, deleteKeys, until } from './redis-keys.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const names = testNames('scheduler');
const conns: Redis[] = [];
const schedulers: Scheduler[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
let admin: Redis;
let logLines: string[] = [];
let testNo = 0;
/** Each test gets its own key space, so markers from one test never answer another. */
let prefix = '';

const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });

function worker(clock: ManualClock | undefined, graceMs?: number, retryBaseMs?: number): Scheduler {
  const redis = connect(names.redisUrl);
  conns.push(redis);
  const s = new Scheduler({ redis, leases: new Leases(redis, prefix, logger), prefix, logger, clock, graceMs, retryBaseMs });
  schedulers.push(s);
  return s;
}

/** fn for every worker: counts runs per occurrence in Redis (the count is what is asserted). */
const counter = () => async (occurrence: Date) => {
  await admin.incr(`${prefix}:count:${occurrence.toISOString()}`);
};

async function counts(): Promise<Map<string, number>> {
  const keys = await admin.keys(`${prefix}:count:*`);
  const out = new Map<string, number>();
  for (const k of keys) out.set(k.slice(`${prefix}:count:`.length), Number(await admin.get(k)));
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

beforeAll(() => {
  admin = connect(names.redisUrl);
});
beforeEach(() => {
  prefix = `${names.prefix}:t${++testNo}`;
  logLines = [];
});
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await deleteKeys(admin, names.prefix);
  await Promise.all(conns.map((c) => c.quit().catch(() => undefined)));
  await admin.quit();
});

test('three workers sharing a clock run an every-second schedule exactly once per occurrence', async () => {
  const clock = new ManualClock(new Date('2026-03-01T12:00:00.500Z'));
  const workers = [worker(clock), worker(clock), worker(clock)];
  for (const w of workers) w.schedule('every-second', '* * * * * *', 'UTC', counter());
  for (const w of workers) w.start(); // each also catches up 12:00:00 (within grace): once in all
  await Promise.all(workers.map((w) => w.whenIdle()));
  for (let i = 0; i < 30; i++) {
    clock.advance(1000);
    await Promise.all(workers.map((w) => w.tick()));
  }
  const seen = await counts();
  expect(seen.size).toBe(31);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  expect([...seen.keys()][0]).toBe('2026-03-01T12:00:00.000Z');
  expect(await workers[2].lastCompleted('every-second')).toEqual(new Date('2026-03-01T12:00:30.000Z'));
});

test('a worker whose tick comes after another finished the occurrence does not run it again', async () => {
  const clock = new ManualClock(new Date('2026-03-01T12:00:00.500Z'));
  const workers = [worker(clock, 100), worker(clock, 100), worker(clock, 100)];
  for (const w of workers) w.schedule('every-second', '* * * * * *', 'UTC', counter());
  for (const w of workers) w.start();
  for (let i = 0; i < 5; i++) {
    clock.set(new Date(Date.parse('2026-03-01T12:00:01Z') + i * 1000));
    for (const w of workers) await w.tick(); // one after the other: each sees the lease free
  }
  const seen = await counts();
  expect(seen.size).toBe(5);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
});

test('three real worker processes run an every-second schedule once per occurrence, with no gaps', async () => {
  const spawnOne = () =>
    new Promise<ChildProcessWithoutNullStreams>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'test/platform/fixtures/scheduler-process.mjs'), JSON.stringify({ redisUrl: names.redisUrl, prefix })], { cwd: ROOT });
      children.push(child);
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d) => String(d).includes('ready') && resolve(child));
      child.once('exit', (code) => reject(new Error(`scheduler process exited (${code}) before ready: ${err}`)));
    });
  const procs = await Promise.all([spawnOne(), spawnOne(), spawnOne()]);
  const started = Date.now();
  // Let several occurrences pass with all three running.
  await until(async () => (await admin.llen(`${prefix}:runs`)) >= 5 && Date.now() - started > 4000, 30_000);
  await Promise.all(procs.map((c) => new Promise((r) => { c.once('exit', r); c.stdin.end(); })));
  const seen = await counts();
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  const instants = [...seen.keys()].map((k) => Date.parse(k));
  for (let i = 1; i < instants.length; i++) expect(instants[i] - instants[i - 1]).toBe(1000);
  const runners = new Set((await admin.lrange(`${prefix}:runs`, 0, -1)).map((r) => r.split(' ')[1]));
  expect(runners.size).toBeGreaterThanOrEqual(1);
}, 60_000);

test('a missed occurrence within the grace period runs once at start-up, across three workers', async () => {
  const clock = new ManualClock(new Date('2026-03-01T10:20:00Z'));
  const workers = [worker(clock), worker(clock), worker(clock)];
  const got: string[] = [];
  for (const w of workers) w.schedule('hourly', '0 * * * *', 'UTC', async (o) => { got.push(o.toISOString()); await counter()(o); });
  for (const w of workers) w.start();
  await Promise.all(workers.map((w) => w.whenIdle()));
  expect(got).toEqual(['2026-03-01T10:00:00.000Z']);
  // A restart a little later does not run it again.
  const again = worker(clock);
  again.schedule('hourly', '0 * * * *', 'UTC', async (o) => { got.push(o.toISOString()); });
  clock.advance(5 * 60_000);
  again.start();
  await again.whenIdle();
  expect(got).toEqual(['2026-03-01T10:00:00.000Z']);
});

test('a schedule registered without catch-up does not run a missed occurrence at start-up, only the next one', async () => {
  const clock = new ManualClock(new Date('2026-03-01T10:20:00Z'));
  const w = worker(clock);
  const got: string[] = [];
  w.schedule('hourly-reading', '0 * * * *', 'UTC', async (o) => void got.push(o.toISOString()), { catchUp: false });
  w.start();
  await w.whenIdle();
  expect(got).toEqual([]);
  clock.set(new Date('2026-03-01T11:00:00Z'));
  await w.tick();
  expect(got).toEqual(['2026-03-01T11:00:00.000Z']);
});

test('a missed occurrence older than the grace period is not run, and the next one is', async () => {
  const clock = new ManualClock(new Date('2026-03-01T10:20:00Z'));
  const w = worker(clock, 10 * 60_000);
  const got: string[] = [];
  w.schedule('hourly', '0 * * * *', 'UTC', async (o) => void got.push(o.toISOString()));
  w.start();
  await w.whenIdle();
  expect(got).toEqual([]);
  clock.set(new Date('2026-03-01T11:00:00Z'));
  await w.tick();
  expect(got).toEqual(['2026-03-01T11:00:00.000Z']);
});

test('the schedule\'s time zone decides the instant: 09:00 Europe/Paris is 08:00Z in winter, 07:00Z in summer', async () => {
  const clock = new ManualClock(new Date('2026-01-15T07:00:00Z'));
  const w = worker(clock, 60_000);
  const got: string[] = [];
  w.schedule('paris-morning', '0 9 * * *', 'Europe/Paris', async (o) => void got.push(o.toISOString()));
  expect(w.nextOccurrence('paris-morning')).toEqual(new Date('2026-01-15T08:00:00Z'));
  w.start();
  clock.set(new Date('2026-01-15T07:59:59Z'));
  await w.tick();
  expect(got).toEqual([]);
  clock.set(new Date('2026-01-15T08:00:00Z'));
  await w.tick();
  expect(got).toEqual(['2026-01-15T08:00:00.000Z']);
  clock.set(new Date('2026-07-15T06:00:00Z'));
  expect(w.nextOccurrence('paris-morning')).toEqual(new Date('2026-07-15T07:00:00Z'));
});

test('a failing run is logged and later occurrences still run', async () => {
  const clock = new ManualClock(new Date('2026-03-01T12:00:00.500Z'));
  const w = worker(clock, 1000); // a grace shorter than the first retry: given up at once
  const got: string[] = [];
  w.schedule('flaky', '* * * * * *', 'UTC', async (o) => {
    got.push(o.toISOString());
    if (got.length === 1) throw new Error('provider down');
  });
  w.start(); // runs 12:00:00 (missed half a second ago), which fails
  await w.whenIdle();
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    await w.tick();
  }
  expect(got).toEqual(['2026-03-01T12:00:00.000Z', '2026-03-01T12:00:01.000Z', '2026-03-01T12:00:02.000Z', '2026-03-01T12:00:03.000Z']);
  expect(logLines.some((l) => l.includes('provider down') && l.includes('flaky'))).toBe(true);
  const marker = JSON.parse((await admin.get(`${prefix}:schedule-run:flaky:2026-03-01T12:00:00.000Z`))!);
  expect(marker.state).toBe('failed');
});

test('a bad cron pattern or time zone is refused at registration with its own code', () => {
  const w = worker(new ManualClock());
  expect(() => w.schedule('x', 'every day', 'UTC', async () => {})).toThrow(expect.objectContaining({ code: ErrorCodes.SCHEDULE_INVALID }));
  expect(() => w.schedule('y', '0 9 * * *', 'Mars/Olympus', async () => {})).toThrow(expect.objectContaining({ code: ErrorCodes.SCHEDULE_INVALID }));
  w.schedule('z', '0 9 * * *', 'UTC', async () => {});
  expect(() => w.schedule('z', '0 9 * * *', 'UTC', async () => {})).toThrow(expect.objectContaining({ code: ErrorCodes.SCHEDULE_INVALID }));
});

test('a failed run is retried with doubling delays within the grace period, on one worker only, until it succeeds', async () => {
  const clock = new ManualClock(new Date('2026-03-01T08:59:00Z'));
  const workers = [worker(clock, 3_600_000, 60_000), worker(clock, 3_600_000, 60_000)];
  const attempts: string[] = [];
  for (const w of workers) {
    w.schedule('digest', '0 9 * * *', 'UTC', async (o) => {
      attempts.push(`${o.toISOString()}@${clock.now().toISOString()}`);
      if (attempts.length < 3) throw new Error('slack is down');
    });
    w.start();
  }
  const at = async (iso: string) => {
    clock.set(new Date(iso));
    await Promise.all(workers.map((w) => w.tick()));
  };
  await at('2026-03-01T09:00:00Z'); // fails
  await at('2026-03-01T09:00:59Z'); // not yet: the first retry is a minute later
  await at('2026-03-01T09:01:00Z'); // fails again; the next is two minutes later
  await at('2026-03-01T09:02:59Z');
  await at('2026-03-01T09:03:00Z'); // succeeds
  await at('2026-03-01T09:30:00Z');
  const o = '2026-03-01T09:00:00.000Z';
  expect(attempts).toEqual([`${o}@2026-03-01T09:00:00.000Z`, `${o}@2026-03-01T09:01:00.000Z`, `${o}@2026-03-01T09:03:00.000Z`]);
  const marker = JSON.parse((await admin.get(`${prefix}:schedule-run:digest:${o}`))!);
  expect(marker).toMatchObject({ state: 'done', attempts: 3 });
  expect(await workers[1].lastCompleted('digest')).toEqual(new Date(o));
});

test('a run still failing when the grace period ends is given up once: logged at error and handed to its failure hook', async () => {
  const clock = new ManualClock(new Date('2026-03-01T08:59:00Z'));
  const w = worker(clock, 10 * 60_000, 60_000);
  const gaveUp: { occurrence: string; attempts: number; error: string }[] = [];
  let runs = 0;
  w.schedule(
    'digest',
    '0 9 * * *',
    'UTC',
    async () => {
      runs++;
      throw new Error('slack is down');
    },
    { onGiveUp: async (f) => void gaveUp.push({ occurrence: f.occurrence.toISOString(), attempts: f.attempts, error: f.error.message }) },
  );
  w.start();
  // Attempts at 09:00, 09:01, 09:03, 09:07; the next (09:15) would be past the 10-minute grace.
  for (let m = 0; m <= 30; m++) {
    clock.set(new Date(Date.parse('2026-03-01T09:00:00Z') + m * 60_000));
    await w.tick();
  }
  expect(runs).toBe(4);
  expect(gaveUp).toEqual([{ occurrence: '2026-03-01T09:00:00.000Z', attempts: 4, error: 'slack is down' }]);
  const errors = logLines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
  expect(errors.filter((l) => l.msg.includes('giving up'))).toHaveLength(1);
  const marker = JSON.parse((await admin.get(`${prefix}:schedule-run:digest:2026-03-01T09:00:00.000Z`))!);
  expect(marker).toMatchObject({ state: 'failed', attempts: 4 });
});
