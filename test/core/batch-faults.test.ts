// A batch always finishes, whatever dies on the way: two worker processes run a batch submitted
// by the real CLI (`enrich --file --no-worker`) while one worker is killed (SIGKILL) at a chosen
// instant, or every Redis key of the deployment's prefix is deleted. The items' stored statuses
// are the truth; the live counts may lag, the batch may never hang (issues 24 and 28).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import { runCliBatch, expectBatchFinished, survivorOptions } from '../support/cli-batch.js';
import { seededRandom } from '../support/seeded-random.js';
import type { App } from '../../src/app.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

const USD = 0.01;
let fake: FakeServer;
let client: TestApp;
const workers: ChildProcessWithoutNullStreams[] = [];
/** Per scenario: what to do once the provider has seen this many calls. */
let onCall: (n: number) => void = () => undefined;
let delayOf: () => number = () => 0;
/** Provider calls in the current scenario. */
let calls = 0;

beforeAll(async () => {
  assertDistIsFresh();
  fake = await startFakeServer({
    'POST /paid': async (req) => {
      onCall(++calls);
      return { json: { found: true, fields: { 'company.name': `Co ${(req.json as { domain: string }).domain}` }, confidence: 0.9 }, delayMs: delayOf() };
    },
  });
  client = (await startTestApp({ file: 'batch-faults', role: 'client' })) as TestApp;
}, 60_000);
afterAll(async () => {
  await Promise.all(workers.map(stopWorker));
  await client?.stop();
  if (client) await dropTestData(client.names);
  await fake?.close();
}, 60_000);

async function startWorker(extra: Record<string, unknown> = {}): Promise<ChildProcessWithoutNullStreams> {
  const w = await spawnWorker({ mongodbUrl: client.names.mongodbUrl, redisUrl: client.names.redisUrl, prefix: client.names.prefix, provider: 'paid', baseUrl: fake.url, usd: USD, concurrency: 5, ...extra });
  workers.push(w);
  return w;
}

/** Submits `rows` domains through the CLI, counting this scenario's provider calls from zero. */
function runBatch(workspace: string, rows: number, timeoutS: number) {
  calls = 0;
  return runCliBatch(client, { workspace, rows, timeoutS });
}
const expectFinished = (run: Awaited<ReturnType<typeof runBatch>>) => expectBatchFinished(client, run);

test('a worker killed the instant a job is marked done, before its requesters are answered: every row is answered once and the batch finishes (issue 28)', async () => {
  delayOf = () => 5;
  // The next attempt at the job (bee-queue hands the dead worker's job on) answers it, or the
  // other worker's sweeper does (the batch stood still with a row whose job is final).
  const victim = await startWorker({ killAfterRunsDone: 1 });
  const other = await startWorker(survivorOptions);
  try {
    const run = await runBatch('KD', 20, 60);
    expect(victim.signalCode).toBe('SIGKILL');
    await expectFinished(run);
  } finally {
    await stopWorker(other);
  }
}, 120_000);

test.each([
  { seed: 1, fault: 'killed right after a result is recorded' },
  { seed: 2, fault: 'killed mid-call' },
  { seed: 3, fault: 'killed mid-call' },
])('a worker $fault (seed $seed) in a 200-row batch: the batch reaches done, the submitter exits 0, one end-of-batch delivery, counts equal the items', async ({ seed, fault }) => {
  const random = seededRandom(seed);
  delayOf = () => Math.floor(random() * 30);
  const at = 20 + Math.floor(random() * 140);
  let victim: ChildProcessWithoutNullStreams;
  if (fault.startsWith('killed right after')) {
    victim = await startWorker({ killAfterRunsDone: Math.ceil(at / 2) });
  } else {
    victim = await startWorker();
    onCall = (n) => n === at && victim.kill('SIGKILL');
  }
  const survivor = await startWorker(survivorOptions);
  try {
    const run = await runBatch(`K${seed}`, 200, 150);
    expect(victim.signalCode).toBe('SIGKILL');
    await expectFinished(run);
  } finally {
    onCall = () => undefined;
    await stopWorker(survivor);
  }
}, 240_000);

test("every Redis key of the deployment's prefix deleted mid-batch: the batch reaches done, the submitter exits 0, one end-of-batch delivery, counts equal the items", async () => {
  const random = seededRandom(4);
  delayOf = () => Math.floor(random() * 30);
  const w1 = await startWorker(survivorOptions);
  const w2 = await startWorker(survivorOptions);
  let wiped = false;
  onCall = (n) => {
    if (n !== 100) return;
    void client.redis.keys(`${client.names.prefix}:*`).then(async (keys) => {
      if (keys.length) await client.redis.del(...keys);
      wiped = true;
    });
  };
  try {
    const run = await runBatch('RD', 200, 150);
    expect(wiped).toBe(true);
    await expectFinished(run);
  } finally {
    onCall = () => undefined;
    await stopWorker(w1);
    await stopWorker(w2);
  }
}, 240_000);
