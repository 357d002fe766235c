// The database dies mid-run and comes back (issue 22), on a FerretDB of the test's own (SQLite
// backend, test/support/own-ferretdb.ts): a web App and a worker App use it (and the shared
// Redis under their own prefix); 40 jobs go through two paid fake providers; the instant the
// worker marks its 15th run done, FerretDB is SIGKILLed, kept down 6 s (longer than the driver's
// 5 s server selection, so waiting commands fail rather than wait it out), and started again on
// the same port and data.
//
// What the product promises, read from the code: a job whose attempt fails on the database is
// handed back to bee-queue and retried (its provider answers are cached, so a retry does not pay
// again); the job record is written last (finish), so nothing a job wrote is left without its
// result: at the end every job is `done` (none `running` or `queued`), every record and every
// ledger row belongs to a done job and agrees with its result, no call is charged twice, no row
// is left `pending`, and the books equal the invoice. Readiness answers 503 naming the database
// while it is down.
import { Writable } from 'node:stream';
import { startTestApp, dropTestData, type TestApp } from '../support/test-app.js';
import { testNames } from '../support/env.js';
import { startOwnFerretDb, type OwnFerretDb } from '../support/own-ferretdb.js';
import { PRICE, bounded, expectedAnswer, micros, paidRunParts, probeReadiness, readyz, startPaidFakes, until, type PaidFakes } from '../support/paid-run.js';
import { createLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/clock.js';
import { connectStore } from '../../src/store/store.js';
import { Ledger } from '../../src/engine/ledger.js';
import { SpendCap } from '../../src/engine/spend-cap.js';
import { ProviderCache } from '../../src/engine/provider-cache.js';
import { RateLimiter } from '../../src/engine/rate-limit.js';
import { callProvider } from '../../src/engine/provider-call.js';


const JOBS = 40;
/** The database dies the instant the worker has marked this many runs done. */
const CRASH_AFTER_RUNS = 15;
const DOWN_MS = 6000;
/** A readiness answer slower than this fails the test (its checks give up after 1 s; room for a loaded machine). */
const READYZ_WITHIN_MS = 4000;
const domainOf = (i: number) => `db${i}.com`;

let ferret: OwnFerretDb | undefined;
let fakes: PaidFakes | undefined;
let names: ReturnType<typeof testNames> | undefined;
const apps: TestApp[] = [];

afterEach(async () => {
  // Whatever happened: stop the apps (with the database up, as a stop may need it), drop their
  // data and Redis keys, kill the server.
  if (ferret && !ferret.up) await bounded(ferret.restart(), 30_000);
  for (const app of apps.splice(0).reverse()) await bounded(app.stop(), 10_000);
  if (names) await bounded(dropTestData(names), 10_000);
  await ferret?.stop();
  await fakes?.fake.close();
  ferret = undefined;
  fakes = undefined;
  names = undefined;
}, 90_000);

test('a paid call whose ledger row cannot be written (the database died after its reservation) gives its reservation back', async () => {
  fakes = await startPaidFakes();
  names = testNames('faults-db-reserve');
  const { plugins, overrides } = paidRunParts(fakes.fake.url, []);
  const app = await startTestApp({ file: 'faults-db-reserve', names, role: 'client', plugins, overrides });
  apps.push(app);
  // The ledger's database dies between the reservation (Redis) and the pending row (the database).
  ferret = await startOwnFerretDb();
  const deadStore = await connectStore(ferret.urlFor('faults_db_reserve'), { serverSelectionTimeoutMS: 1000 });
  try {
    await ferret.crash();
    const clock = new ManualClock(Date.UTC(2031, 2, 3, 10));
    const spendCap = new SpendCap(app.redis, app.store.models, { dailyUsd: null, perWorkspaceDailyUsd: null, workspaces: {} }, clock, names.prefix);
    const alpha = app.providers.get('alpha')!;
    const services = { ledger: new Ledger(deadStore.models, 10_000), cache: new ProviderCache(app.store.models), spendCap, rateLimiter: new RateLimiter(app.redis, names.prefix), clock, safeFetch: app.safeFetch };
    const call = { provider: alpha, operation: alpha.plugin.operations[0], input: { domain: 'db1.com' }, group: 'companyProfile', workspace: 'w1', jobId: 'job1', runTag: 'job1#1.1', signal: new AbortController().signal };
    const failed = callProvider(call, services);
    failed.catch(() => undefined);
    // Back 2 s later: the call has failed by then (its row could not be written), and the ledger
    // must not hold a pending row for it (it was never made).
    await new Promise((r) => setTimeout(r, 2000));
    await ferret.restart();
    await expect(failed).rejects.toThrow();
    expect(fakes.fake.requests).toHaveLength(0);
    expect(await deadStore.models.Ledger.find({ outcome: 'pending' }).lean()).toEqual([]);
    // Nothing may stay counted against the day's caps.
    expect(await spendCap.spentToday('w1')).toBe(0);
    expect(await spendCap.spentToday()).toBe(0);

    // A row marked not run is only the one this call wrote: under a replayed key, an earlier
    // attempt's pending row (its call may have been billed) is left for markLost.
    const ledger = new Ledger(app.store.models, 10_000);
    const earlier = new Date(Date.UTC(2031, 2, 3, 9));
    const key = 'job2#1.1|alpha|lookup|h';
    await ledger.begin(key, { workspace: 'w1', jobId: 'job2', provider: 'alpha', operation: 'lookup', outcome: 'pending', costUsd: 0.01, reservedUsd: 0.01, charged: false, at: earlier });
    await ledger.abandon(key, clock.now(), 'not made');
    expect((await app.store.models.Ledger.findById(key).lean())?.outcome).toBe('pending');
    await ledger.abandon(key, earlier, 'not made');
    expect(await app.store.models.Ledger.findById(key).lean()).toMatchObject({ outcome: 'not_run', costUsd: 0, charged: false });
  } finally {
    await deadStore.close().catch(() => undefined);
  }
}, 60_000);

test('the settlement of a call that answered while the database was down is written once it is back (not left pending)', async () => {
  ferret = await startOwnFerretDb();
  // The app's store waits 5 s to find the server; 1 s here, so the test need not wait as long.
  const store = await connectStore(ferret.urlFor('faults_db_settle'), { serverSelectionTimeoutMS: 1000 });
  try {
    const ledger = new Ledger(store.models, 10_000);
    const at = new Date(Date.UTC(2031, 2, 3, 10));
    const id = await ledger.begin('job1#1.1|alpha|lookup|h', { workspace: 'w1', jobId: 'job1', provider: 'alpha', operation: 'lookup', outcome: 'pending', costUsd: 0.01, reservedUsd: 0.01, charged: false, at });
    await ferret.crash();
    // The provider answered (a free miss) just as the database died; it is back 5 s later.
    const settled = ledger.settle(id, { outcome: 'no_match', costUsd: 0, charged: false, at });
    settled.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 5000));
    await ferret.restart();
    await settled;
    expect(await store.models.Ledger.findById(id).lean()).toMatchObject({ outcome: 'no_match', costUsd: 0, charged: false });
  } finally {
    await store.close().catch(() => undefined);
  }
}, 60_000);

test('the database killed mid-run and restarted: /readyz 503 while down, jobs retry and finish, nothing half-written, books equal the invoice', async () => {
  ferret = await startOwnFerretDb();
  fakes = await startPaidFakes();
  const { fake, billed } = fakes;
  const base = testNames('faults-db');
  names = { ...base, mongodbUrl: ferret.urlFor(base.dbName) };
  const delivered: string[] = [];
  const { plugins, overrides } = paidRunParts(fake.url, delivered);

  let runsDone = 0;
  let crashed: Promise<boolean> | undefined;
  const web = await startTestApp({ file: 'faults-db', names, role: 'web', plugins, overrides });
  apps.push(web);
  // The worker's warnings, kept: a failed cache write is the one way a call may be paid twice.
  const workerLog: string[] = [];
  const logStream = new Writable({ write: (chunk: Buffer, _enc, done) => void (workerLog.push(chunk.toString()), done()) });
  const worker = await startTestApp({
    file: 'faults-db',
    names,
    role: 'worker',
    plugins,
    overrides,
    logger: createLogger({ level: 'warn', stream: logStream }),
    // Sent from inside the worker's finish, between "run done" and answering.
    hooks: { afterRunDone: () => void (++runsDone === CRASH_AFTER_RUNS && (crashed = ferret!.crash().then(() => true))) },
  });
  apps.push(worker);
  expect(await readyz(web, READYZ_WITHIN_MS)).toEqual({ status: 200, body: { ok: true, checks: { mongodb: true, redis: true } } });

  const submitted = await Promise.all(Array.from({ length: JOBS }, (_, n) => web.service.submit({ workspace: 'w1', input: domainOf(n), groups: ['companyProfile'] }, { trigger: 'inbox', address: { n } })));
  const ids = submitted.map((s) => s.jobId);

  await until('the crash', async () => crashed, 30_000);
  expect(ferret.up).toBe(false);
  // Down: every readiness answer is 503 and names the database (Redis is fine).
  const whileDown = await probeReadiness(web, DOWN_MS, READYZ_WITHIN_MS);
  expect(whileDown.filter((r) => r.status !== 503 || r.body.checks.mongodb || !r.body.checks.redis)).toEqual([]);
  await ferret.restart();
  const back = await until('/readyz to answer 200', async () => {
    const r = await readyz(web, READYZ_WITHIN_MS);
    return r.status === 200 ? r : null;
  }, 20_000);
  expect(back.body).toEqual({ ok: true, checks: { mongodb: true, redis: true } });

  // Every job reaches done in its first run, with its answer; none is left running or queued.
  const { Job, Ledger, Company } = web.store.models;
  await until('every job to finish', async () => (await Job.countDocuments({ _id: { $in: ids }, status: 'done' })) === JOBS, 60_000).catch(async (err) => {
    const open = await Job.find({ _id: { $in: ids }, status: { $ne: 'done' } }, { status: 1, run: 1, attempts: 1, error: 1 }).lean();
    throw new Error(`${(err as Error).message}; not done: ${JSON.stringify(open.slice(0, 5))}; bee-queue holds them: ${JSON.stringify(await worker.queue.hasJobs(open.map((j) => ({ jobId: String(j._id), run: j.run ?? 1 }))))}`);
  });
  const jobs = await Job.find({}).lean();
  expect(jobs.map((j) => `${String(j._id)}:${j.status}:${j.run}`).sort()).toEqual(ids.map((id) => `${id}:done:1`).sort());
  const byId = new Map(jobs.map((j) => [String(j._id), j]));
  const fieldsOf = (id: string) => (byId.get(id)!.result as { company?: { fields: Record<string, { value: unknown }> } }).company!.fields;
  for (const [n, id] of ids.entries()) expect({ name: fieldsOf(id).name?.value, description: fieldsOf(id).description?.value }).toEqual(expectedAnswer(domainOf(n)));

  // Every record belongs to a done job and holds what its result says.
  const records = await Company.find({}).lean();
  expect(records.map((r) => r.key).sort()).toEqual(ids.map((_, n) => `company:${domainOf(n)}`).sort());
  for (const r of records) {
    const id = String(r.lastJobId);
    expect(byId.get(id)?.status).toBe('done');
    const stored = r.fields as unknown as Record<string, { value: unknown }>;
    expect({ name: stored.name?.value, description: stored.description?.value }).toEqual({ name: fieldsOf(id).name?.value, description: fieldsOf(id).description?.value });
  }

  // Every ledger row belongs to a done job; none is left pending or lost; one charged row per
  // call the fakes billed (no duplicate rows). A job may pay for a call twice only if the database
  // died as its answer was being cached ("could not cache the answer" in the log): counted below.
  const rows = await Ledger.find({}).lean();
  expect(rows.filter((r) => !r.jobId || byId.get(String(r.jobId))?.status !== 'done')).toEqual([]);
  expect(rows.filter((r) => r.outcome === 'pending' || r.outcome === 'lost')).toEqual([]);
  const chargedRows = (provider: string) => rows.filter((r) => r.charged && r.provider === provider).length;
  expect({ alpha: chargedRows('alpha'), beta: chargedRows('beta') }).toEqual({ alpha: billed.alpha / micros(PRICE.alpha), beta: billed.beta / micros(PRICE.beta) });
  const charges = new Map<string, number>();
  for (const r of rows.filter((x) => x.charged)) charges.set(`${String(r.jobId)}|${String(r.provider)}`, (charges.get(`${String(r.jobId)}|${String(r.provider)}`) ?? 0) + 1);
  const paidTwice = [...charges].filter(([, n]) => n > 1).length;
  expect(paidTwice).toBeLessThanOrEqual(workerLog.filter((l) => l.includes('could not cache the answer')).length);

  // Each requester answered exactly once (a second answer would show up within a sweep or two).
  await until('every requester to be answered', async () => delivered.length >= JOBS, 15_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 2500));
  expect([...delivered].sort()).toEqual(ids.map((id, n) => `${id}:${n}:done`).sort());

  // The books: what the fakes billed = the ledger = `enrichbot spend` = the spend counters.
  const invoice = billed.alpha + billed.beta;
  const sum = (provider?: string) => rows.filter((r) => !provider || r.provider === provider).reduce((s, r) => s + micros(r.costUsd ?? 0), 0);
  expect({ alpha: sum('alpha'), beta: sum('beta') }).toEqual(billed);
  let spendMicros = 0;
  for (const day of new Set(rows.map((r) => String(r.day)))) spendMicros += micros((await web.service.spend(day)).totalUsd);
  expect(spendMicros).toBe(invoice);
  await worker.sweeper!.runOnce();
  const counters = async (scope: string) => {
    const keys = await worker.redis.keys(`${names!.prefix}:spend:*:${scope}`);
    return (await Promise.all(keys.map((k) => worker.redis.get(k)))).reduce((s, v) => s + Number(v ?? 0), 0);
  };
  expect({ global: await counters('global'), workspace: await counters('ws:w1') }).toEqual({ global: invoice, workspace: invoice });
}, 120_000);
