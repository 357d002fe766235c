// A worker killed with SIGKILL in the middle of paid calls. The provider saw those calls and
// bills them; the worker never heard the answers. Another worker finishes every job, and the
// books still match the invoice: one charged ledger row per call the provider answered (the
// calls in flight become `lost` rows at their reserved price), spend counters equal to the
// ledger's sum, and at most one extra call per call that was in flight when the worker died.
import { once } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import type { App } from '../../src/app.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

const JOBS = 100;
const CONCURRENCY = 5;
const micros = (usd: number) => Math.round(usd * 1e6);

let fake: FakeServer;
let client: TestApp;
const workers: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  assertDistIsFresh();
  fake = await startFakeServer();
  client = await startTestApp({ file: 'engine-worker-crash', role: 'client' });
}, 60_000);
afterAll(async () => {
  await Promise.all(workers.map(stopWorker));
  await client?.stop();
  if (client) await dropTestData(client.names);
  await fake?.close();
});

const startWorker = async () => {
  const w = await spawnWorker({ mongodbUrl: client.names.mongodbUrl, redisUrl: client.names.redisUrl, prefix: client.names.prefix, provider: 'slow', baseUrl: fake.url, concurrency: CONCURRENCY });
  workers.push(w);
  return w;
};

test('a worker killed mid-call: another finishes all jobs, and calls, charged rows and spend counters agree', async () => {
  let inFlight = 0;
  let inFlightAtKill = 0;
  let armed = false;
  let killing = false;
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  let victim!: ChildProcessWithoutNullStreams;
  // A slow provider. After 30 calls it holds every answer until all the worker's slots are in a
  // call, then kills the worker: every job it had started is mid-call, none between calls.
  fake.on('POST /slow', async (req) => {
    inFlight++;
    if (fake.requests.length >= 30) armed = true;
    await new Promise((r) => setTimeout(r, 60));
    if (armed) {
      if (inFlight >= CONCURRENCY && !killing) {
        killing = true;
        inFlightAtKill = inFlight;
        victim.kill('SIGKILL');
        await once(victim, 'exit');
        openGate();
      }
      await gate;
    }
    inFlight--;
    return { json: { found: true, fields: { 'company.name': `Co ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } };
  });

  victim = await startWorker();
  const jobs = await Promise.all(Array.from({ length: JOBS }, (_, i) => client.enqueue({ workspace: 'w1', input: `crash${i}.com`, groups: ['companyProfile'] })));
  await gate;
  expect(victim.signalCode).toBe('SIGKILL');
  expect(inFlightAtKill).toBe(CONCURRENCY);

  await startWorker();
  const results = await Promise.all(jobs.map((j) => client.service.waitFor(j.jobId, 90_000)));
  expect(results.filter((r) => r.status === 'done')).toHaveLength(JOBS);
  expect(results.every((r) => r.company?.fields.name.value === `Co ${r.display}`)).toBe(true);

  const { Ledger } = client.store.models;
  const calls = fake.requests.filter((r) => r.path === '/slow').length;
  // At most one extra call per call in flight when the worker died.
  expect(calls).toBeGreaterThanOrEqual(JOBS);
  expect(calls).toBeLessThanOrEqual(JOBS + inFlightAtKill);
  // One charged row per call the provider answered: settled rows plus the calls lost in the crash.
  expect(await Ledger.countDocuments({ charged: true })).toBe(calls);
  expect(await Ledger.countDocuments({ outcome: 'lost' })).toBe(calls - JOBS);
  expect(await Ledger.countDocuments({ outcome: 'pending' })).toBe(0);
  // Spend counters equal the ledger's sum.
  const rows = await Ledger.find({}).lean();
  const ledgerMicros = rows.reduce((s, r) => s + micros(r.costUsd ?? 0), 0);
  expect(ledgerMicros).toBe(micros(0.01) * calls);
  const keys = await client.redis.keys(`${client.names.prefix}:spend:*:global`);
  const counted = (await Promise.all(keys.map((k) => client.redis.get(k)))).reduce((s, v) => s + Number(v ?? 0), 0);
  expect(counted).toBe(ledgerMicros);
}, 180_000);
