// Idempotency-Key on POST /v1/enrich and /v1/enrich/batch: a retry with the same key and body
// gets the first answer (no second batch, no second paid call); another body is a 409.
import { jest } from '@jest/globals';
import { createApiKey } from '../api-keys.js';
import { startApi, problem, type ApiHarness } from './api-harness.js';
import { HttpApiErrors } from '../errors.js';

jest.setTimeout(60_000);

let api: ApiHarness;
let key: string;
beforeAll(async () => {
  api = await startApi({ file: 'http-api-idem' });
  key = (await createApiKey(api.keys, { workspace: 'WI', name: 'idem' })).key;
}, 120_000);
afterAll(() => api.stop());

const coCalls = () => api.fake.requests.filter((r) => r.path === '/co').length;

test('a retried batch POST with the same Idempotency-Key gets the first answer: one batch, one paid call per item', async () => {
  const body = { items: [{ domain: 'idem-one.com' }, { domain: 'idem-two.com' }, { email: 'not-an-email' }] };
  const headers = { 'idempotency-key': 'batch-7f3c' };
  const first = await api.call('/v1/enrich/batch', { key, body, headers });
  expect(first.status).toBe(202);
  const a = (await first.json()) as { batchId: string };
  await api.app.service.waitForBatch(a.batchId, 30_000);
  expect(coCalls()).toBe(2);

  const again = await api.call('/v1/enrich/batch', { key, body, headers });
  expect(again.status).toBe(202);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(again.headers.get('location')).toBe(`/v1/jobs/${a.batchId}`);
  expect(await again.json()).toEqual(a);
  expect(await api.app.store.models.Batch.countDocuments({})).toBe(1);
  expect(coCalls()).toBe(2);

  // The same key with another body: refused, nothing made.
  const other = await problem(await api.call('/v1/enrich/batch', { key, body: { items: [{ domain: 'idem-three.com' }] }, headers }), 409);
  expect(other.code).toBe(HttpApiErrors.IDEMPOTENCY_CONFLICT.code);
  expect(other.detail).toMatch(/another request body/);
  expect(await api.app.store.models.Batch.countDocuments({})).toBe(1);
  // Without the header, the same body is a new batch.
  expect(((await (await api.call('/v1/enrich/batch', { key, body })).json()) as { batchId: string }).batchId).not.toBe(a.batchId);
});

test('a retried POST /v1/enrich with the same key replays the record; keys are per API key; a bad key header is a 400', async () => {
  const headers = { 'idempotency-key': 'one-enrich' };
  const first = await api.call('/v1/enrich', { key, body: { domain: 'idem-single.com' }, headers });
  expect(first.status).toBe(200);
  const record = await first.json();
  const calls = coCalls();
  const again = await api.call('/v1/enrich', { key, body: { domain: 'idem-single.com' }, headers });
  expect(again.status).toBe(200);
  expect(await again.json()).toEqual(record);
  expect(coCalls()).toBe(calls);
  // Another API key's slot is its own: the same header value is a fresh request there.
  const other = (await createApiKey(api.keys, { workspace: 'WI', name: 'other' })).key;
  const theirs = await api.call('/v1/enrich', { key: other, body: { domain: 'idem-other.com' }, headers });
  expect(theirs.status).toBe(200);
  expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  await problem(await api.call('/v1/enrich', { key, body: { domain: 'idem-single.com' }, headers: { 'idempotency-key': 'é' } }), 400);
});

test('a request that failed does not hold its key: the corrected retry with the same key runs', async () => {
  const headers = { 'idempotency-key': 'fix-and-retry' };
  await problem(await api.call('/v1/enrich', { key, body: { domain: 'not a domain' }, headers }), 400);
  // A 4xx is not kept: the key is free again, so another body under it is no conflict.
  const fixed = await api.call('/v1/enrich', { key, body: { domain: 'idem-fixed.com' }, headers });
  expect(fixed.status).toBe(200);
  expect(fixed.headers.get('idempotent-replayed')).toBeNull();
});

test('a retry while the first request is still being answered is a 409 with Retry-After, then gets the answer', async () => {
  let release = () => undefined as void;
  const gate = new Promise<void>((r) => (release = r));
  api.fake.on('POST /co', async (req) => {
    if ((req.json as { domain: string }).domain === 'idem-slow.com') await gate;
    return { json: { found: true, fields: { 'company.name': 'Slow Co' }, confidence: 0.9 } };
  });
  const headers = { 'idempotency-key': 'slow-one' };
  const first = api.call('/v1/enrich', { key, body: { domain: 'idem-slow.com' }, headers });
  for (let i = 0; i < 500 && !api.fake.requests.some((r) => (r.json as { domain?: string })?.domain === 'idem-slow.com'); i++) await new Promise((r) => setTimeout(r, 10));
  const during = await api.call('/v1/enrich', { key, body: { domain: 'idem-slow.com' }, headers });
  expect((await problem(during, 409)).code).toBe(HttpApiErrors.IDEMPOTENCY_CONFLICT.code);
  expect(during.headers.get('retry-after')).toBe('1');
  release();
  const answered = await first;
  expect(answered.status).toBe(200);
  const after = await api.call('/v1/enrich', { key, body: { domain: 'idem-slow.com' }, headers });
  expect(after.headers.get('idempotent-replayed')).toBe('true');
  expect(await after.json()).toEqual(await answered.json());
});
