// One winner per exclusive step. FerretDB does not make a conditional update exclusive: six
// connections that race to restart a finished job, resume a paused one, cancel a queued one or
// claim the same run all "won" before these steps took a Redis lease. Each connection here is its
// own MongoDB connection, Redis client and queue, like six worker processes.
import { Redis } from 'ioredis';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { connectStore, type Store } from '../../src/store/store.js';
import { EnrichQueue, beeJobId, jobIdFor } from '../../src/queue/enrich-queue.js';
import { JobRunner } from '../../src/queue/job-runner.js';
import { Sweeper } from '../../src/sweeper.js';
import { Ledger } from '../../src/engine/ledger.js';
import { Leases } from '../../src/platform/lease.js';
import { identityOfInput } from '../../src/engine/identity.js';
import { EnrichRequestSchema, type EnrichRequest, type JobResult } from '../../src/engine/types.js';
import { createLogger } from '../../src/logger.js';
import { systemClock } from '../../src/clock.js';
import type { App } from '../../src/app.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
interface Conn {
  store: Store;
  redis: Redis;
  queue: EnrichQueue;
  sweeper: Sweeper;
  runner: JobRunner;
}

let fake: FakeServer;
let app: TestApp;
const conns: Conn[] = [];
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  // The restarted job's provider call outlasts the whole enqueue race (six lease holders in turn,
  // each a few database round trips): a job that finished while the race was still going would
  // rightly be started again by a later request, which is not the race this file is about.
  fake = await startFakeServer({
    'POST /co': (req) => ({
      json: { found: true, fields: { 'company.name': 'Race Co' }, confidence: 0.9 },
      delayMs: (req.json as { domain?: string }).domain === 'restart-race.com' ? 5000 : 300,
    }),
  });
  app = await startTestApp({
    file: 'job-races',
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']] }) },
    overrides: { plugins: { providers: ['co'] }, providers: { co: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['co'] } },
  });
  for (let i = 0; i < 6; i++) {
    const store = await connectStore(app.names.mongodbUrl);
    const redis = new Redis(app.names.redisUrl);
    const leases = new Leases(redis, app.names.prefix);
    const ledger = new Ledger(store.models, 4096);
    const queueOptions = { redisUrl: app.names.redisUrl, prefix: app.names.prefix, store, clock: systemClock, logger, isWorker: false, stallIntervalMs: 1000, retries: 0, retryBackoffMs: 100, jobRetentionDays: 7, leases, redis };
    const queue = new EnrichQueue(queueOptions);
    await queue.ready();
    const sweeperDeps = { store, clock: systemClock, logger, queue, rawRetentionDays: 30, leases, ledger };
    const sweeper = new Sweeper(sweeperDeps);
    const runner = new JobRunner({
      store, engine: app.engine, clock: systemClock, logger, delivery: { answer: async (_result, requesters) => requesters.length }, isCancelled: async () => false,
      leases, ledger, maxStalls: 3, runLeaseTtlMs: 3000, redis, prefix: app.names.prefix,
    });
    conns.push({ store, redis, queue, sweeper, runner });
  }
});
afterAll(async () => {
  for (const c of conns) {
    await c.queue.close(1000);
    c.redis.disconnect();
    await c.store.close();
  }
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});

/** A job record as a finished, paused or queued job leaves it (without a Redis job, so no worker takes it). */
async function seedJob(input: string, status: JobResult['status'], run: number, extra: Record<string, unknown> = {}): Promise<{ jobId: string; request: EnrichRequest }> {
  const request = EnrichRequestSchema.parse({ workspace: 'W', input, groups: ['companyProfile'] });
  const identity = identityOfInput(request.input);
  const jobId = jobIdFor(request, identity);
  await app.store.models.Job.create({ jobId, workspace: 'W', identityKey: identity.key, display: identity.display, request, status, run, expireAt: new Date(Date.now() + 86400_000), ...extra });
  return { jobId, request };
}
const jobDoc = (jobId: string) => app.store.models.Job.findOne({ _id: jobId }).lean();
const coCalls = (domain: string) => fake.requests.filter((r) => r.path === '/co' && (r.json as { domain: string }).domain === domain).length;

test('six connections restarting the same finished job start one new run', async () => {
  const { jobId, request } = await seedJob('restart-race.com', 'done', 1);
  const identity = identityOfInput(request.input);
  const outcomes = await Promise.all(conns.map((c) => c.queue.enqueue({ request, identity })));
  expect(outcomes.filter((o) => !o.joined)).toHaveLength(1);
  expect(outcomes.every((o) => o.jobId === jobId)).toBe(true);
  const doc = await jobDoc(jobId);
  expect(doc?.run).toBe(2);
  // Exactly one Redis job for the new run, none for a run that should not exist.
  expect(await app.queue.bee.getJob(beeJobId(jobId, 3))).toBeNull();
  await app.service.waitFor(jobId, 15_000);
  expect(coCalls('restart-race.com')).toBe(1);
});

test('six sweepers racing to resume the same paused job resume it once', async () => {
  const { jobId } = await seedJob('resume-race.com', 'paused', 1, { resumeAt: new Date(Date.now() - 1000) });
  const reports = await Promise.all(conns.map((c) => c.sweeper.runOnce()));
  expect(reports.reduce((s, r) => s + r.resumed, 0)).toBe(1);
  expect((await jobDoc(jobId))?.run).toBe(2);
  await app.service.waitFor(jobId, 15_000);
  expect(coCalls('resume-race.com')).toBe(1);
});

test('six connections cancelling the same queued job: one cancels it and answers its requesters', async () => {
  const { jobId } = await seedJob('cancel-race.com', 'queued', 1);
  const results = await Promise.all(conns.map((c) => c.queue.cancel(jobId)));
  expect(results.filter((r) => r !== null)).toHaveLength(1);
  expect((await jobDoc(jobId))?.status).toBe('cancelled');
});

test('six workers claiming the same run: one runs it, one provider call; the others return its result or are told it is busy', async () => {
  const { jobId, request } = await seedJob('claim-race.com', 'queued', 1);
  const settled = await Promise.allSettled(conns.map((c) => c.runner.handle(request, jobId, 1)));
  expect(coCalls('claim-race.com')).toBe(1);
  const doc = await jobDoc(jobId);
  expect(doc?.status).toBe('done');
  expect(doc?.attempts).toBe(1);
  // A copy that waited longer than the lease's TTL for the winner is refused (bee-queue retries
  // it later and then finds the job done); every other copy returns the winner's result.
  for (const s of settled) {
    if (s.status === 'fulfilled') expect(s.value.status).toBe('done');
    else expect(s.reason).toMatchObject({ code: 'ENRICHBOT_ERR_JOB_BUSY' });
  }
  expect(settled.some((s) => s.status === 'fulfilled')).toBe(true);
});

test('a stale run neither claims nor overwrites a newer run\'s result', async () => {
  const { jobId, request } = await seedJob('stale-run.com', 'done', 2, { result: { status: 'done', outcomes: [] } });
  const stale = await conns[0].runner.handle(request, jobId, 1);
  expect(coCalls('stale-run.com')).toBe(0);
  expect(stale.status).not.toBe('failed');
  // bee-queue giving up on an old run must not fail the current one.
  await conns[1].runner.giveUp(request, jobId, 1, new Error('boom'));
  const doc = await jobDoc(jobId);
  expect([doc?.status, doc?.run]).toEqual(['done', 2]);
});

test('a run found abandoned mid-way marks its unsettled paid call lost, then runs again', async () => {
  const { jobId, request } = await seedJob('stalled-once.com', 'running', 1, { attempts: 1 });
  await app.store.models.Ledger.collection.insertOne({ _id: `${jobId}#1.1|co|lookup|x`, workspace: 'W', jobId, provider: 'co', operation: 'lookup', outcome: 'pending', costUsd: 0.01, reservedUsd: 0.01, charged: false, day: '2031-01-01', at: new Date() } as never);
  const result = await conns[2].runner.handle(request, jobId, 1);
  expect(result.status).toBe('done');
  const row = await app.store.models.Ledger.findOne({ _id: `${jobId}#1.1|co|lookup|x` }).lean();
  expect(row).toMatchObject({ outcome: 'lost', charged: true, costUsd: 0.01 });
  expect((await jobDoc(jobId))?.stalls).toBe(1);
  // The new call has its own row, settled.
  const settled = await app.store.models.Ledger.find({ jobId, outcome: 'matched' }).lean();
  expect(settled.map((r) => r._id)).toEqual([expect.stringMatching(new RegExp(`^${jobId}#1\\.2\\|co\\|lookup\\|`))]);
});

test('a job that keeps stalling is failed with a clear reason instead of looping', async () => {
  const { jobId, request } = await seedJob('poison.com', 'running', 1, { attempts: 4, stalls: 3 });
  const result: JobResult = await conns[3].runner.handle(request, jobId, 1);
  expect(result).toMatchObject({ status: 'failed', errorCode: 'ENRICHBOT_ERR_JOB_STALLED', error: expect.stringContaining('queue.maxStalls (3)') });
  expect(coCalls('poison.com')).toBe(0);
  expect(await jobDoc(jobId)).toMatchObject({ status: 'failed', stalls: 4, errorCode: 'ENRICHBOT_ERR_JOB_STALLED' });
});
