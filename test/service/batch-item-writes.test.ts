// Every write to a batch item is its own: the queueing step of an item and the answer of its job
// may land on the same document at the same moment (an instant provider, a slow queueing step),
// and neither may undo the other. FerretDB applies an update as read-modify-write of the whole
// document, so two writers of one item lose one write (issue 26).
import { Writable } from 'node:stream';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { companyNameAnswer, oneCompanyProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { seededRandom } from '../support/seeded-random.js';
import { writeCsv } from '../../src/csv/write.js';
import type { BatchResultRow, BatchStatus } from '../../src/plugin/service.js';
import type { JobResult } from '../../src/engine/types.js';

let fake: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
const USD = 0.01;

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /co': companyNameAnswer,
  });
  app = await startTestApp({
    file: 'batch-item-writes',
    ...oneCompanyProvider(fake.url, USD, { queue: { concurrency: 20 } }),
  });
}, 120_000);
afterAll(async () => {
  app.service.batches.queueing.hooks = {};
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
}, 60_000);

async function csvOf(rows: AsyncIterable<BatchResultRow> | BatchResultRow[]): Promise<string> {
  let text = '';
  const out = new Writable({ write: (chunk, _enc, cb) => ((text += chunk.toString()), cb()) });
  await writeCsv((async function* () { yield* rows; })(), out, { inputColumns: ['domain'] });
  return text;
}

test.each([11, 22, 33])('items whose jobs finish while their own queueing step is still writing keep their results, and the CSV equals the jobs results row for row (seed %i)', async (seed) => {
  const random = seededRandom(seed);
  // 160 items over 16 companies: each company's later items join the job its first one started.
  const domains = Array.from({ length: 160 }, (_, i) => `s${seed}-co${i % 16}.com`);
  // The queueing step of each item is slowed after its job is queued, by a seeded random delay,
  // so the job's answer and the item's own queueing writes interleave.
  app.service.batches.queueing.hooks = {
    afterItemQueued: () => new Promise((r) => setTimeout(r, Math.floor(random() * 40))),
  };
  const { batchId, accepted } = await app.service.submitBatch(domains.map((d) => ({ input: d, columns: { domain: d } })), { trigger: 'cli', address: {} }, { workspace: 'W' });
  expect(accepted).toBe(160);
  const final = (await app.service.waitForBatch(batchId, 120_000)) as BatchStatus;
  expect(final.state).toBe('done');

  const rows: BatchResultRow[] = [];
  for await (const row of app.service.results(batchId)) rows.push(row);
  // Every item ends with its result.
  expect(rows.filter((r) => r.status !== 'done' || !r.result).map((r) => r.index)).toEqual([]);
  // The CSV equals the jobs' results, row for row.
  const jobs = new Map<string, JobResult>();
  for (const j of await app.store.models.Job.find({ _id: { $in: [...new Set(rows.map((r) => r.jobId!))] } }).lean()) jobs.set(String(j._id), j.result as JobResult);
  expect(jobs.size).toBe(16);
  const expected = rows.map((r) => ({ ...r, status: 'done' as const, result: jobs.get(r.jobId!) }));
  expect(await csvOf(app.service.results(batchId))).toBe(await csvOf(expected));
  // Counts equal the stored items, and each company is paid for once (joined items cost nothing).
  expect(final.counts).toMatchObject({ done: 160, queued: 0, running: 0 });
  const items = await app.store.models.BatchItem.find({ batchId }, { costUsd: 1 }).lean();
  expect(Math.round(items.reduce((s, it) => s + (it.costUsd ?? 0), 0) * 1e6)).toBe(Math.round(16 * USD * 1e6));
  expect(final.costUsd).toBeCloseTo(16 * USD, 6);
}, 180_000);
