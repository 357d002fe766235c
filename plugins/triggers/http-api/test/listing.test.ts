// GET /v1/jobs, /v1/batches (workspace-scoped, newest first, cursor pages, state and date
// filters) and GET /v1/batches/:id (counts and state, no items). A web-only App: nothing runs,
// so what is listed is exactly what the test made.
import { jest } from '@jest/globals';
import { ErrorCodes } from '../../../../src/errors.js';
import { createApiKey } from '../api-keys.js';
import { startApi, problem, type ApiHarness } from './api-harness.js';

jest.setTimeout(60_000);

let api: ApiHarness;
let keyA: string;
let keyB: string;
let keyC: string;
beforeAll(async () => {
  api = await startApi({ file: 'http-api-list', role: 'web', api: { waitMs: 0 } });
  keyA = (await createApiKey(api.keys, { workspace: 'WA', name: 'a' })).key;
  keyB = (await createApiKey(api.keys, { workspace: 'WB', name: 'b' })).key;
  keyC = (await createApiKey(api.keys, { workspace: 'WC', name: 'c' })).key;
}, 120_000);
afterAll(() => api.stop());

const json = async (res: Response) => {
  expect(res.status).toBe(200);
  return (await res.json()) as { items: Record<string, any>[]; page: { limit: number; cursor: string | null; next: string | null } };
};
const tick = () => new Promise((r) => setTimeout(r, 5));

async function walk(path: string, key: string) {
  const seen: Record<string, any>[] = [];
  let next: string | null = path;
  let pages = 0;
  while (next) {
    const page = await json(await api.call(next, { key }));
    seen.push(...page.items);
    next = page.page.next;
    pages++;
  }
  return { seen, pages };
}

test('GET /v1/jobs lists the workspace\'s jobs newest first, page by page, filtered by state and date', async () => {
  const made: string[] = [];
  let mid = new Date();
  for (let i = 0; i < 5; i++) {
    if (i === 3) {
      await tick();
      mid = new Date();
      await tick();
    }
    const res = await api.call('/v1/enrich', { key: keyA, body: { domain: `list-${i}.com` } });
    expect(res.status).toBe(202);
    made.push(((await res.json()) as { jobId: string }).jobId);
    await tick();
  }
  await api.call('/v1/enrich', { key: keyB, body: { domain: 'list-other.com' } });

  const { seen, pages } = await walk('/v1/jobs?limit=2', keyA);
  expect(pages).toBe(3);
  expect(seen.map((j) => j.jobId)).toEqual([...made].reverse());
  expect(seen[0]).toMatchObject({ kind: 'job', status: 'queued', input: 'list-4.com', cost: { usd: 0 }, createdAt: expect.any(String) });

  const since = await json(await api.call(`/v1/jobs?from=${encodeURIComponent(mid.toISOString())}`, { key: keyA }));
  expect(since.items.map((j) => j.jobId)).toEqual([made[4], made[3]]);
  const before = await json(await api.call(`/v1/jobs?to=${encodeURIComponent(mid.toISOString())}`, { key: keyA }));
  expect(before.items.map((j) => j.jobId)).toEqual([made[2], made[1], made[0]]);

  expect((await api.call(`/v1/jobs/${made[1]}`, { key: keyA, method: 'DELETE' })).status).toBe(200);
  const cancelled = await json(await api.call('/v1/jobs?state=cancelled', { key: keyA }));
  expect(cancelled.items.map((j) => j.jobId)).toEqual([made[1]]);
  expect((await json(await api.call('/v1/jobs', { key: keyB }))).items.map((j) => j.input)).toEqual(['list-other.com']);

  for (const q of ['state=finished', 'cursor=bm90LWEtY3Vyc29y', 'from=yesterday', 'limit=0', 'sort=asc']) {
    expect((await problem(await api.call(`/v1/jobs?${q}`, { key: keyA }), 400)).code).toBe(ErrorCodes.INPUT_INVALID);
  }
});

test('GET /v1/batches lists batches with counts; GET /v1/batches/:id answers counts and state without items', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await api.call('/v1/enrich/batch', { key: keyC, body: { items: [{ domain: `lb${i}-a.com` }, { domain: `lb${i}-b.com` }, { email: 'not-an-email' }], label: `batch ${i}` } });
    expect(res.status).toBe(202);
    ids.push(((await res.json()) as { batchId: string }).batchId);
    await tick();
  }
  const { seen } = await walk('/v1/batches?limit=2', keyC);
  expect(seen.map((b) => b.batchId)).toEqual([...ids].reverse());
  expect(seen[0]).toMatchObject({ kind: 'batch', status: 'running', label: 'batch 2', total: 3, counts: { queued: 2, rejected: 1 } });
  expect((await json(await api.call('/v1/batches?state=done', { key: keyC }))).items).toEqual([]);
  expect((await json(await api.call('/v1/batches', { key: keyA }))).items).toEqual([]);

  const one = await api.call(`/v1/batches/${ids[0]}`, { key: keyC });
  expect(one.status).toBe(200);
  const view = (await one.json()) as Record<string, unknown>;
  expect(view).toMatchObject({ kind: 'batch', batchId: ids[0], total: 3, counts: { queued: 2, rejected: 1 }, progress: { done: 1, total: 3 } });
  expect(view).not.toHaveProperty('items');
  expect((await problem(await api.call(`/v1/batches/${ids[0]}`, { key: keyA }), 404)).code).toBe(ErrorCodes.BATCH_NOT_FOUND);
  await problem(await api.call('/v1/batches/enr_abc', { key: keyC }), 404);
});
