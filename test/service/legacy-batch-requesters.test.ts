// Batch rows used to be requesters of a placeholder trigger, `{ trigger: 'enrichbot:batch',
// address: { batchId, index } }`; they now have a route of their own (`batchItem`). Job records
// stored before keep the old form in MongoDB (and their requests in Redis): they are still
// answered on their rows.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { companyNameAnswer, oneCompanyProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { jobIdFor } from '../../src/queue/enrich-queue.js';
import { LEGACY_BATCH_TRIGGER, requestersOf } from '../../src/delivery/requesters.js';
import { identityOfInput } from '../../src/engine/identity.js';
import { EnrichRequestSchema } from '../../src/engine/types.js';
import { batchItemId } from '../../src/store/service-models.js';
import type { BatchResultRow } from '../../src/plugin/service.js';

let fake: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
const USD = 0.01;

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /co': companyNameAnswer,
  });
  app = await startTestApp({
    file: 'legacy-batch-requesters',
    ...oneCompanyProvider(fake.url, USD),
  });
}, 120_000);
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
}, 60_000);

test('requesters are read in every stored form: a trigger address, a batch row, and a batch row under the old placeholder trigger; malformed ones are left out', () => {
  const doc = {
    requesters: [
      { id: 'a', replyTo: { trigger: 'slack', address: { channel: 'C1' } } },
      { id: 'b', batchItem: { batchId: 'bat_1', index: 3 } },
      { id: 'c', replyTo: { trigger: LEGACY_BATCH_TRIGGER, address: { batchId: 'bat_1', index: 4 } } },
      { id: 'd', replyTo: { trigger: LEGACY_BATCH_TRIGGER, address: {} } },
      { id: 'e', batchItem: { batchId: 'bat_1' } },
      { replyTo: { trigger: 'slack', address: {} } },
      null,
    ],
  };
  expect(requestersOf(doc)).toEqual([
    { id: 'a', replyTo: { trigger: 'slack', address: { channel: 'C1' } } },
    { id: 'b', batchItem: { batchId: 'bat_1', index: 3 } },
    { id: 'c', batchItem: { batchId: 'bat_1', index: 4 } },
  ]);
});

test('a job stored with requesters of the old placeholder trigger answers its batch rows: each row gets the result, the row that started it pays, and the batch finishes', async () => {
  const { Batch, BatchItem, Job } = app.store.models;
  const batchId = 'bat_legacy000000000000000001';
  const expireAt = new Date(Date.now() + 86400_000);
  // As the queue stored it then: the starter's request named the placeholder trigger too.
  const request = EnrichRequestSchema.parse({ workspace: 'W', input: 'legacy.com', groups: ['companyProfile'], replyTo: { trigger: LEGACY_BATCH_TRIGGER, address: { batchId, index: 0 } } });
  const identity = identityOfInput(request.input);
  const jobId = jobIdFor(request, identity);
  const legacy = (index: number) => ({ id: `legacy-${index}`, replyTo: { trigger: LEGACY_BATCH_TRIGGER, address: { batchId, index } } });
  await BatchItem.insertMany([0, 1].map((index) => ({ _id: batchItemId(batchId, index), batchId, workspace: 'W', index, columnsJson: '{}', input: 'legacy.com', status: 'queued', jobId, identityKey: identity.key, expireAt })));
  await app.redis.hset(`${app.names.prefix}:batch:${batchId}`, { total: 2, queued: 2, rejected: 0, costMicros: 0, movedAt: Date.now() });
  await Batch.create({ _id: batchId, workspace: 'W', replyTo: { trigger: 'cli', address: {} }, total: 2, columns: [], state: 'running', counts: { queued: 2 }, expireAt, queueing: false, queuedThrough: 2 });
  await Job.create({ _id: jobId, jobId, workspace: 'W', identityKey: identity.key, display: identity.display, request, status: 'queued', run: 1, requesters: [legacy(0), legacy(1)], expireAt, createdDay: '2026-12-07' });

  await app.queue.push(jobId, 1, request, true);
  const final = await app.service.waitForBatch(batchId, 30_000);

  expect(final).toMatchObject({ state: 'done', counts: { done: 2, queued: 0 } });
  expect(final.costUsd).toBeCloseTo(USD, 6);
  const rows: BatchResultRow[] = [];
  for await (const row of app.service.results(batchId)) rows.push(row);
  expect(rows.map((r) => [r.index, r.status, r.result?.company?.fields.name?.value])).toEqual([
    [0, 'done', 'Name of legacy.com'],
    [1, 'done', 'Name of legacy.com'],
  ]);
  const items = await BatchItem.find({ batchId }, { index: 1, costUsd: 1 }).sort({ _id: 1 }).lean();
  expect(items.map((it) => it.costUsd)).toEqual([USD, 0]);
}, 60_000);
