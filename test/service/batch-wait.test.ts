// Waiting for a batch ends with the batch's end, not with a progress event. A cancelled batch
// whose last jobs are still running publishes progress with state `cancelled`: a waiter woken by
// it got counts with rows still running (batch-queueing.test's cancel test failed that way when
// the machine was busy).
import { startTestApp, dropTestData } from '../support/test-app.js';
import { batchItemId } from '../../src/store/service-models.js';
import type { JobResult } from '../../src/engine/types.js';

let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  app = await startTestApp({ file: 'batch-wait', role: 'client' });
}, 60_000);
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
}, 60_000);

test('a waiter on a cancelled batch is not woken by its progress while a row still runs: it gets the finished batch', async () => {
  const { Batch, BatchItem } = app.store.models;
  const batchId = 'bat_wait00000000000000000001';
  const expireAt = new Date(Date.now() + 86400_000);
  await BatchItem.insertMany([
    { _id: batchItemId(batchId, 0), batchId, workspace: 'W', index: 0, columnsJson: '{}', input: 'a-wait.com', status: 'cancelled', expireAt },
    { _id: batchItemId(batchId, 1), batchId, workspace: 'W', index: 1, columnsJson: '{}', input: 'b-wait.com', status: 'queued', jobId: 'enr_wait1', expireAt },
  ]);
  await app.redis.hset(`${app.names.prefix}:batch:${batchId}`, { total: 2, queued: 1, cancelled: 1, rejected: 0, costMicros: 0, movedAt: Date.now() });
  await Batch.create({ _id: batchId, workspace: 'W', replyTo: { trigger: 'cli', address: {} }, total: 2, columns: [], state: 'cancelled', counts: { queued: 1, cancelled: 1 }, expireAt, queueing: false, queuedThrough: 2 });

  // The channel is subscribed first, so the waiter's listener is in place before the progress below.
  const unsubscribe = await app.service.onBatchProgress(batchId, () => undefined);
  const waiting = app.service.waitForBatch(batchId, 20_000);
  await app.service.batches.progress.maybeFinish(batchId, true);
  const result: JobResult = { jobId: 'enr_wait1', workspace: 'W', status: 'cancelled', display: 'b-wait.com', outcomes: [], costUsd: 0 };
  await app.service.batches.answerItems(result, [{ batchId, index: 1, starter: true }]);

  const final = await waiting;
  await unsubscribe();
  expect(final.state).toBe('cancelled');
  expect(final.finishedAt).toBeDefined();
  expect(final.counts).toMatchObject({ queued: 0, running: 0, paused: 0, cancelled: 2 });
}, 60_000);
