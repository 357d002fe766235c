// The API's spend foresight, through the real App and a fake provider ("co", $0.01 a call):
// a request budget (maxCostUsd) stops the call that would pass it, a batch dry run answers the
// estimate and asks no provider, a batch-wide budget holds across the batch's jobs, and a submitted batch
// keeps its estimate beside its actual cost.
import { jest } from '@jest/globals';
import { createApiKey } from '../api-keys.js';
import { problem, startApi, type ApiHarness } from './api-harness.js';

jest.setTimeout(60_000);

let h: ApiHarness;
let key: string;

beforeAll(async () => {
  h = await startApi({ file: 'http-api-foresight' });
  key = (await createApiKey(h.keys, { workspace: 'WF', name: 'foresight' })).key;
}, 90_000);
afterAll(async () => h?.stop());

const providerCalls = () => h.fake.requests.filter((r) => r.path === '/co').length;

test('POST /v1/enrich with maxCostUsd below one call stops before the call: budget_reached, no charge, budgetReached in the answer', async () => {
  const before = providerCalls();
  const res = await h.call('/v1/enrich', { key, body: { domain: 'budget-zero.com', maxCostUsd: 0.005 } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { cost: { usd: number }; outcomes: { outcome: string; costUsd: number }[]; budgetReached?: { maxUsd: number; spentUsd: number } };
  expect(body.budgetReached).toEqual({ maxUsd: 0.005, spentUsd: 0 });
  expect(body.outcomes.find((o) => o.outcome === 'budget_reached')?.costUsd).toBe(0);
  expect(body.cost.usd).toBe(0);
  expect(providerCalls()).toBe(before);
});

test('POST /v1/enrich with enough maxCostUsd runs as usual and shows no budgetReached', async () => {
  const res = await h.call('/v1/enrich', { key, body: { domain: 'budget-enough.com', maxCostUsd: 1 } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { cost: { usd: number }; budgetReached?: unknown };
  expect(body.budgetReached).toBeUndefined();
  expect(body.cost.usd).toBeCloseTo(0.01);
});

test('a negative maxCostUsd is a 400 naming the field', async () => {
  const p = await problem(await h.call('/v1/enrich', { key, body: { domain: 'neg.com', maxCostUsd: -1 } }), 400);
  expect(p.errors?.map((e) => e.path)).toContain('maxCostUsd');
});

test('a batch dry run answers the estimate, lists bad items, submits nothing and asks no provider', async () => {
  const before = providerCalls();
  const batches = await h.app.store.models.Batch.countDocuments({});
  const items = [{ domain: 'dry-a.com' }, { domain: 'dry-b.com' }, { domain: 'dry-a.com' }, { domain: 'not a domain' }];
  const res = await h.call('/v1/enrich/batch', { key, body: { items, dryRun: true } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { dryRun: boolean; estimate: { rows: number; duplicates: number; rejected: number; toRun: number; worstUsd: number; expectedUsd: number }; rejected: { index: number }[] };
  expect(body.dryRun).toBe(true);
  expect(body.estimate).toMatchObject({ rows: 4, duplicates: 1, rejected: 1, toRun: 2 });
  expect(body.estimate.worstUsd).toBeCloseTo(0.02);
  expect(body.estimate.expectedUsd).toBeLessThanOrEqual(body.estimate.worstUsd);
  expect(body.rejected.map((r) => r.index)).toEqual([3]);
  expect(providerCalls()).toBe(before);
  expect(await h.app.store.models.Batch.countDocuments({})).toBe(batches);
});

test('a batch-wide maxCostUsd holds across the batch: 5 items, a budget for 2 calls, exactly 2 paid calls, the rest budget_reached at no charge, the batch done', async () => {
  const before = providerCalls();
  const items = ['bb-1.com', 'bb-2.com', 'bb-3.com', 'bb-4.com', 'bb-5.com'].map((domain) => ({ domain }));
  const res = await h.call('/v1/enrich/batch', { key, body: { items, maxCostUsd: 0.025 } });
  expect(res.status).toBe(202);
  const { batchId } = (await res.json()) as { batchId: string };
  expect((await h.app.store.models.Batch.findById(batchId).lean())?.maxCostUsd).toBe(0.025);
  const status = await h.app.service.waitForBatch(batchId, 30_000);
  expect(status.state).toBe('done');
  const rows = [];
  for await (const row of h.app.service.results(batchId)) rows.push(row);
  const outcomes = rows.map((r) => r.result?.outcomes.find((o) => o.provider === 'co'));
  expect(outcomes.filter((o) => o?.outcome === 'budget_reached')).toHaveLength(3);
  expect(outcomes.filter((o) => o?.outcome === 'budget_reached').every((o) => o?.costUsd === 0)).toBe(true);
  expect(providerCalls() - before).toBe(2);
  expect(rows.every((r) => r.status === 'done')).toBe(true);
});

test('a submitted batch keeps the estimate made before it ran on its record, beside its cost', async () => {
  const res = await h.call('/v1/enrich/batch', { key, body: { items: [{ domain: 'kept-a.com' }, { domain: 'kept-b.com' }, { domain: 'kept-c.com' }] } });
  expect(res.status).toBe(202);
  const { batchId } = (await res.json()) as { batchId: string };
  const doc = (await h.app.store.models.Batch.findById(batchId).lean()) as { estimate?: { worstUsd: number; rows: number } } | null;
  expect(doc?.estimate?.rows).toBe(3);
  expect(doc?.estimate?.worstUsd).toBeCloseTo(0.03);
});
