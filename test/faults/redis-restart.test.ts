// Redis dies mid-run and comes back on the same port (issue 22), on a redis-server of the test's
// own (test/support/own-redis.ts): once with append-only persistence (appendfsync always, so
// nothing Redis acknowledged is lost) and once with none (it comes back empty). A web App and a
// worker App share it; 60 jobs go through two paid fake providers (alpha $0.01 a match, a free
// miss for every fourth company; beta $0.02, asked after alpha's miss); the instant the worker
// marks its 20th run done, before it answers anyone, Redis is SIGKILLed, kept down 2 s, and
// started again. The tests before those two each pin one fault the mid-run runs showed.
//
// What the product promises, read from the code:
// - Readiness is honest: /readyz answers 503 naming Redis while it is down (within its 1 s
//   check bound, not after the client's reconnect time), 200 once it is back.
// - The job records in MongoDB are the truth. With persistence, bee-queue's jobs survive and
//   its stall check hands back attempts that died with the connection. Without it the queue is
//   gone, and the sweeper queues again every open job missing from Redis (requeueLost, after
//   sweeper.requeueAfterMs) as the same run; nothing is reported lost, since every job can still
//   run. Either way every job ends `done` in its first run, and each requester is answered once.
// - The books equal the invoice: what the fakes billed = the ledger's sum in MongoDB =
//   `enrichbot spend` = the spend counters. Counters Redis lost are rebuilt from the ledger (the
//   next reservation seeds them; the sweeper's reconcile raises any below it). A call answered
//   before the crash is cached, so running its job again does not pay for it twice.
import { Redis } from 'ioredis';
import { startTestApp, dropTestData, type TestApp } from '../support/test-app.js';
import { bounded, expectedAnswer, micros, paidRunParts, probeReadiness, readyz as probe, startPaidFakes, until, type PaidFakes } from '../support/paid-run.js';
import { testNames } from '../support/env.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';
import type { PipelineStage } from 'mongoose';
import type { App } from '../../src/app.js';
import { ManualClock, utcDay } from '../../src/clock.js';
import { Ledger } from '../../src/engine/ledger.js';
import { SpendCap } from '../../src/engine/spend-cap.js';
import { createProviderPolicy } from '../../src/engine/resilience.js';
import { ProviderError } from '../../src/engine/provider-error.js';


const JOBS = 60;
/** Redis dies the instant the worker has marked this many runs done. */
const CRASH_AFTER_RUNS = 20;
const DOWN_MS = 2000;
/** A readiness answer slower than this fails the test (its checks give up after 1 s; room for a loaded machine). */
const READYZ_WITHIN_MS = 4000;
const domainOf = (i: number) => `rr${i}.com`;

let redis: OwnRedis | undefined;
let fakes: PaidFakes | undefined;
let names: ReturnType<typeof testNames> | undefined;
const apps: TestApp[] = [];

afterEach(async () => {
  // Whatever happened: stop the apps (with Redis up, as a stop needs it), drop their data, kill the server.
  if (redis && !redis.up) await bounded(redis.restart(), 10_000);
  for (const app of apps.splice(0).reverse()) await bounded(app.stop(), 10_000);
  if (names) await bounded(dropTestData(names), 10_000);
  await redis?.stop();
  await fakes?.fake.close();
  redis = undefined;
  fakes = undefined;
  names = undefined;
}, 60_000);

const readyz = (app: App) => probe(app, READYZ_WITHIN_MS);

/** Probes /readyz for `forMs` (at least three times): every answer must be 503 naming Redis. */
async function expectNotReadyFor(app: App, forMs: number) {
  const answers = await probeReadiness(app, forMs, READYZ_WITHIN_MS);
  expect(answers.filter((r) => r.status !== 503 || r.body.checks.redis)).toEqual([]);
}

const readyAgain = (app: App) =>
  until('/readyz to answer 200', async () => {
    const r = await readyz(app);
    return r.status === 200 ? r : null;
  }, 15_000);

test('/readyz answers 503 at once while its Redis is dead, and 200 once it is back', async () => {
  redis = await startOwnRedis({ appendOnly: false });
  names = { ...testNames('faults-redis-ready'), redisUrl: redis.url };
  const web = await startTestApp({ file: 'faults-redis-ready', names, role: 'web' });
  apps.push(web);
  expect(await readyz(web)).toEqual({ status: 200, body: { ok: true, checks: { mongodb: true, redis: true } } });
  await redis.crash();
  await expectNotReadyFor(web, 1000);
  await redis.restart();
  expect((await readyAgain(web)).body).toEqual({ ok: true, checks: { mongodb: true, redis: true } });
}, 60_000);

test('a waiter whose job ended while Redis was down (its completion message lost) gets the result once Redis is back, not a time-out', async () => {
  redis = await startOwnRedis({ appendOnly: false });
  names = { ...testNames('faults-redis-waiter'), redisUrl: redis.url };
  const { plugins, overrides } = paidRunParts('http://127.0.0.1:9', []);
  // The web role only: nobody runs the job; the test ends it in the record, as a worker on the
  // other side of the outage would, while the waiter's subscriber is disconnected.
  const web = await startTestApp({ file: 'faults-redis-waiter', names, role: 'web', plugins, overrides });
  apps.push(web);
  const { jobId } = await web.service.submit({ workspace: 'w1', input: domainOf(7), groups: ['companyProfile'] }, { trigger: 'inbox', address: { n: 7 } });
  const waiting = web.service.waitFor(jobId, 20_000).then((r) => ({ r }), (err: Error) => ({ err }));
  const probe = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await probe.connect();
  await until('the waiter to subscribe', async () => {
    const [, n] = (await probe.pubsub('NUMSUB', `${names!.prefix}:events:job:${jobId}`)) as [string, number];
    return n === 1;
  }, 10_000);
  probe.disconnect();
  await redis.crash();
  const result = { jobId, workspace: 'w1', status: 'done', display: domainOf(7), outcomes: [], costUsd: 0 };
  await web.store.models.Job.updateOne({ _id: jobId }, { $set: { status: 'done', result } });
  await redis.restart();
  const ended = await waiting;
  expect(ended).toEqual({ r: expect.objectContaining({ jobId, status: 'done' }) });
}, 60_000);

test('Redis forgets the queue\'s Lua scripts (as any restart does): jobs are still queued and run', async () => {
  redis = await startOwnRedis({ appendOnly: false });
  fakes = await startPaidFakes();
  names = { ...testNames('faults-redis-scripts'), redisUrl: redis.url };
  const delivered: string[] = [];
  const { plugins, overrides } = paidRunParts(fakes.fake.url, delivered);
  const app = await startTestApp({ file: 'faults-redis-scripts', names, role: 'all', plugins, overrides });
  apps.push(app);
  expect((await app.enrichAndWait({ workspace: 'w1', input: domainOf(1), groups: ['companyProfile'] }, 20_000)).status).toBe('done');
  await app.redis.script('FLUSH');
  expect((await app.enrichAndWait({ workspace: 'w1', input: domainOf(2), groups: ['companyProfile'] }, 20_000)).status).toBe('done');
}, 60_000);

test('spend counters rebuilt from the ledger while a call settles end equal to the ledger (seeding and the sweeper\'s reconcile each race a settle)', async () => {
  redis = await startOwnRedis({ appendOnly: false });
  names = { ...testNames('faults-redis-seed'), redisUrl: redis.url };
  const app = await startTestApp({ file: 'faults-redis-seed', names, role: 'client' });
  apps.push(app);
  const clock = new ManualClock(Date.UTC(2031, 2, 3, 10));
  const day = utcDay(clock.now());
  const noCaps = { dailyUsd: null, perWorkspaceDailyUsd: null, workspaces: {} };
  const ledger = new Ledger(app.store.models, 10_000);
  // The process that makes the calls, and the one that rebuilds counters. The second reads the
  // ledger through a handle that lets one settle land right after a sum is read, before it is used.
  const caller = new SpendCap(app.redis, app.store.models, noCaps, clock, names.prefix);
  let settleAfterNextSum: (() => Promise<void>) | undefined;
  const real = app.store.models.Ledger;
  const racedLedger = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'aggregate') return Reflect.get(target, prop, receiver);
      return async (pipeline: PipelineStage[]) => {
        const rows = await target.aggregate(pipeline);
        const settle = settleAfterNextSum;
        settleAfterNextSum = undefined;
        await settle?.();
        return rows;
      };
    },
  });
  const rebuilder = new SpendCap(app.redis, { ...app.store.models, Ledger: racedLedger }, noCaps, clock, names.prefix);
  /** A $0.01 call in flight (reserved, its pending row written); returns its settle as a free miss. */
  const callInFlight = async (n: number) => {
    const reservation = await caller.reserve('w', 0.01);
    const id = await ledger.begin(`race-${n}`, { workspace: 'w', provider: 'p', operation: 'lookup', outcome: 'pending', costUsd: 0.01, reservedUsd: 0.01, charged: false, at: clock.now(), day });
    return async () => {
      await ledger.settle(id, { outcome: 'no_match', costUsd: 0, charged: false, at: clock.now() });
      await caller.settle(reservation, 0);
    };
  };
  const counter = async (scope: string) => Number(await app.redis.get(`${names!.prefix}:spend:${day}:${scope}`));
  const ledgerSum = async () => (await real.find({ day }).lean()).reduce((s, r) => s + micros(r.costUsd ?? 0), 0);

  // Redis lost the counters while a call was in flight; it settles just as a counter is seeded.
  settleAfterNextSum = await callInFlight(1);
  await app.redis.del(`${names.prefix}:spend:${day}:global`, `${names.prefix}:spend:${day}:ws:w`);
  await rebuilder.spentToday('w');
  expect(await counter('ws:w')).toBe(await ledgerSum());

  // The sweeper's reconcile reads the ledger's sum; a call settles before the counter is compared with it.
  await app.redis.del(`${names.prefix}:spend:${day}:global`, `${names.prefix}:spend:${day}:ws:w`);
  settleAfterNextSum = await callInFlight(2);
  expect({ global: await counter('global'), ledger: await ledgerSum() }).toEqual({ global: micros(0.01), ledger: micros(0.01) });
  await rebuilder.reconcile(day);
  expect({ global: await counter('global'), workspace: await counter('ws:w') }).toEqual({ global: await ledgerSum(), workspace: await ledgerSum() });
}, 60_000);

test('a provider call goes on while the circuit breaker\'s Redis is unreachable (the breaker\'s shared state is advice, not a gate)', async () => {
  redis = await startOwnRedis({ appendOnly: false });
  // No offline queue: a command fails at once while Redis is down (the app's client takes seconds to give up).
  const client = new Redis(redis.url, { maxRetriesPerRequest: 2, lazyConnect: true, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const settings = { timeoutMs: 2000, maxRetries: 0, backoffBaseMs: 10, maxRetryAfterMs: 1000, breakerThreshold: 5, breakerCooldownMs: 60_000 };
    const policy = createProviderPolicy(settings, { shared: { redis: client, key: 'faults:breaker:alpha' } });
    expect(await policy.policy.execute(async () => 'answer')).toBe('answer');
    await redis.crash();
    expect(await policy.policy.execute(async () => 'answer while Redis is down')).toBe('answer while Redis is down');
    // A provider failure while Redis is down still fails the call, with its own error.
    await expect(policy.policy.execute(async () => Promise.reject(new ProviderError('server', 'HTTP 503', { httpStatus: 503 })))).rejects.toThrow('HTTP 503');
  } finally {
    client.disconnect();
  }
}, 60_000);

test('a counter settle that Redis missed (it was down) is applied once Redis is back', async () => {
  redis = await startOwnRedis({ appendOnly: true });
  names = { ...testNames('faults-redis-settle'), redisUrl: redis.url };
  const app = await startTestApp({ file: 'faults-redis-settle', names, role: 'client' });
  apps.push(app);
  const clock = new ManualClock(Date.UTC(2031, 2, 3, 10));
  const caps = new SpendCap(app.redis, app.store.models, { dailyUsd: null, perWorkspaceDailyUsd: null, workspaces: {} }, clock, names.prefix);
  const reservation = await caps.reserve('w', 0.01);
  const counter = async () => Number(await app.redis.get(`${names!.prefix}:spend:${utcDay(clock.now())}:ws:w`));
  expect(await counter()).toBe(micros(0.01));
  // The call was a free miss: its reservation is given back, but Redis is down at that moment.
  await redis.crash();
  await expect(caps.settle(reservation, 0)).rejects.toThrow();
  await redis.restart();
  await until('the missed settle to be applied', async () => (await counter().catch(() => -1)) === 0, 20_000);
}, 60_000);

test('an attempt whose run lease expired under it (Redis unreachable longer than the lease) hands the job back for a retry instead of dropping it until the sweeper finds it', async () => {
  redis = await startOwnRedis({ appendOnly: false });
  fakes = await startPaidFakes();
  names = { ...testNames('faults-redis-lease'), redisUrl: redis.url };
  const { plugins, overrides } = paidRunParts(fakes.fake.url, []);
  // No sweeper here: it would queue the dropped job again, but only sweeper.requeueAfterMs later (5 min by default).
  const app = await startTestApp({ file: 'faults-redis-lease', names, role: 'all', plugins, overrides: { ...overrides, sweeper: { intervalMs: 3600_000 } } });
  apps.push(app);
  // The first answer is held until the run lease is gone and its renewal has noticed (every 1 s).
  let first = true;
  fakes.fake.on('POST /alpha', async () => {
    if (first) {
      first = false;
      const keys = await app.redis.keys(`${names!.prefix}:lease:run:*`);
      if (keys.length !== 1) throw new Error(`expected one run lease, found ${JSON.stringify(keys)}`);
      await app.redis.del(...keys);
      await new Promise((r) => setTimeout(r, 2500));
    }
    return { json: { found: true, fields: { 'company.name': 'Alpha lease.com' }, confidence: 0.9 } };
  });
  const { jobId } = await app.enqueue({ workspace: 'w1', input: 'lease.com', groups: ['companyProfile'] });
  const { Job } = app.store.models;
  const job = await until('the job to finish', async () => {
    const doc = await Job.findById(jobId).lean();
    return doc?.status === 'done' ? doc : null;
  }, 15_000).catch(async (err) => {
    throw new Error(`${(err as Error).message}: it is ${JSON.stringify(await Job.findById(jobId, { status: 1, run: 1 }).lean())}, bee-queue holds it: ${(await app.queue.hasJobs([{ jobId, run: 1 }]))[0]}`);
  });
  expect((job.result as { company?: { fields: { name?: { value: string } } } }).company?.fields.name?.value).toBe('Alpha lease.com');
  expect(job.run).toBe(1);
  // The retry found the first attempt's answer in the cache: one call, billed once.
  expect(fakes.fake.requests.filter((r) => r.path === '/alpha')).toHaveLength(1);
}, 60_000);

test('an attempt that finds its job already finished by an earlier attempt (whose "run done" Redis never took) answers the requesters that attempt could not', async () => {
  redis = await startOwnRedis({ appendOnly: false });
  fakes = await startPaidFakes();
  names = { ...testNames('faults-redis-answer'), redisUrl: redis.url };
  const delivered: string[] = [];
  const { plugins, overrides } = paidRunParts(fakes.fake.url, delivered);
  const web = await startTestApp({ file: 'faults-redis-answer', names, role: 'web', plugins, overrides });
  apps.push(web);
  const { jobId } = await web.service.submit({ workspace: 'w1', input: domainOf(5), groups: ['companyProfile'] }, { trigger: 'inbox', address: { n: 5 } });
  // What an attempt leaves when Redis dies between its two writes: the result recorded in
  // MongoDB, the run still open in Redis (no `done`), nobody answered.
  const result = { jobId, workspace: 'w1', status: 'done', display: domainOf(5), outcomes: [], costUsd: 0 };
  await web.store.models.Job.updateOne({ _id: jobId, run: 1 }, { $set: { status: 'done', result, finishedAt: new Date() } });
  await web.redis.hset(`${names.prefix}:run-state:${jobId}#1`, 'open', '1', 'attempts', '1');
  const worker = await startTestApp({ file: 'faults-redis-answer', names, role: 'worker', plugins, overrides });
  apps.push(worker);
  await until('the requester to be answered', async () => delivered.length > 0, 15_000).catch(() => undefined);
  expect(delivered).toEqual([`${jobId}:5:done`]);
}, 60_000);

test.each([
  { persistence: 'none', appendOnly: false },
  { persistence: 'append-only', appendOnly: true },
])('Redis (persistence: $persistence) killed mid-run and restarted: /readyz 503 while down, every job done once, books equal the invoice', async ({ appendOnly }) => {
  redis = await startOwnRedis({ appendOnly });
  fakes = await startPaidFakes();
  const { fake, billed } = fakes;
  names = { ...testNames(`faults-redis-${appendOnly ? 'aof' : 'none'}`), redisUrl: redis.url };
  const delivered: string[] = [];
  const { plugins, overrides } = paidRunParts(fake.url, delivered);

  let runsDone = 0;
  let crashed: Promise<boolean> | undefined;
  const web = await startTestApp({ file: 'faults-redis', names, role: 'web', plugins, overrides });
  apps.push(web);
  const worker = await startTestApp({
    file: 'faults-redis',
    names,
    role: 'worker',
    plugins,
    overrides,
    // The crash is sent from inside the worker's finish, between "run done" and answering.
    hooks: { afterRunDone: () => void (++runsDone === CRASH_AFTER_RUNS && (crashed = redis!.crash().then(() => true))) },
  });
  apps.push(worker);
  expect(await readyz(web)).toEqual({ status: 200, body: { ok: true, checks: { mongodb: true, redis: true } } });

  const submitted = await Promise.all(Array.from({ length: JOBS }, (_, n) => web.service.submit({ workspace: 'w1', input: domainOf(n), groups: ['companyProfile'] }, { trigger: 'inbox', address: { n } })));

  await until('the crash', async () => crashed, 30_000);
  expect(redis.up).toBe(false);
  // Down: every readiness answer is 503 and names Redis; it never claims to be ready.
  await expectNotReadyFor(web, DOWN_MS);
  await redis.restart();
  expect((await readyAgain(web)).body).toEqual({ ok: true, checks: { mongodb: true, redis: true } });

  // Every job reaches done, in its first run (no job was started over), with its answer: alpha's, or beta's after alpha's miss.
  const { Job, Ledger } = web.store.models;
  const ids = submitted.map((s) => s.jobId);
  await until('every job to finish', async () => (await Job.countDocuments({ _id: { $in: ids }, status: 'done' })) === JOBS, 45_000).catch(async (err) => {
    const open = await Job.find({ _id: { $in: ids }, status: { $ne: 'done' } }, { status: 1, run: 1, attempts: 1, error: 1 }).lean();
    // What bee-queue still holds, to tell a lost job from a stuck one.
    const held: Record<string, unknown> = {};
    for (const k of await worker.redis.keys(`${names!.prefix}:enrich:*`)) {
      const t = await worker.redis.type(k);
      held[k.slice(names!.prefix.length)] = t === 'list' ? await worker.redis.llen(k) : t === 'hash' ? await worker.redis.hlen(k) : t === 'zset' ? await worker.redis.zcard(k) : t === 'set' ? await worker.redis.scard(k) : t;
    }
    throw new Error(`${(err as Error).message}; not done: ${JSON.stringify(open.slice(0, 5))}; bee-queue holds ${JSON.stringify(held)}`);
  });
  const jobs = await Job.find({ _id: { $in: ids } }).lean();
  expect(jobs.map((j) => j.run)).toEqual(jobs.map(() => 1));
  const byId = new Map(jobs.map((j) => [String(j._id), j]));
  for (const [n, id] of ids.entries()) {
    const company = (byId.get(id)!.result as { company?: { fields: Record<string, { value: unknown }> } }).company!;
    expect({ name: company.fields.name?.value, description: company.fields.description?.value }).toEqual(expectedAnswer(domainOf(n)));
  }
  // Each requester answered exactly once (a second answer would show up within a sweep or two).
  await until('every requester to be answered', async () => delivered.length >= JOBS, 15_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 2500));
  expect([...delivered].sort()).toEqual(ids.map((id, n) => `${id}:${n}:done`).sort());

  // The books: what the fakes billed = the ledger = `enrichbot spend` = the spend counters.
  const invoice = billed.alpha + billed.beta;
  const rows = await Ledger.find({}).lean();
  expect(rows.filter((r) => r.outcome === 'pending' || r.outcome === 'lost')).toEqual([]);
  const ledgerMicros = rows.reduce((s, r) => s + micros(r.costUsd ?? 0), 0);
  expect({ alpha: rows.filter((r) => r.provider === 'alpha').reduce((s, r) => s + micros(r.costUsd ?? 0), 0), beta: rows.filter((r) => r.provider === 'beta').reduce((s, r) => s + micros(r.costUsd ?? 0), 0) }).toEqual(billed);
  expect(ledgerMicros).toBe(invoice);
  const days = [...new Set(rows.map((r) => String(r.day)))];
  let spendMicros = 0;
  for (const day of days) spendMicros += micros((await web.service.spend(day)).totalUsd);
  expect(spendMicros).toBe(invoice);
  // A counter Redis lost comes back from the ledger at the next sweep.
  await worker.sweeper!.runOnce();
  const counters = async (scope: string) => {
    const keys = await worker.redis.keys(`${names!.prefix}:spend:*:${scope}`);
    return (await Promise.all(keys.map((k) => worker.redis.get(k)))).reduce((s, v) => s + Number(v ?? 0), 0);
  };
  expect({ global: await counters('global'), workspace: await counters('ws:w1') }).toEqual({ global: invoice, workspace: invoice });
}, 120_000);
