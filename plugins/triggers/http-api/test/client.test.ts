// A client generated from the served OpenAPI document (openapi-typescript types, openapi-fetch)
// runs a job and a batch end to end. The committed types must equal what the served document
// generates now, and `npm run typecheck` compiles this file against them, so a route or schema
// change that breaks generated clients fails here.
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import createClient from 'openapi-fetch';
import type { z } from 'zod';
import type { paths } from '../client/openapi-types.js';
import { API_TYPES_FILE, apiTypes } from '../../../../scripts/api-client-types.js';
import { createApiKey } from '../api-keys.js';
import { startApi, type ApiHarness } from './api-harness.js';
import * as Documented from '../openapi-schemas.js';

jest.setTimeout(60_000);

let api: ApiHarness;
let key: string;
beforeAll(async () => {
  // Default waitMs and batch size: the served document is the one the committed types come from.
  api = await startApi({ file: 'http-api-client', api: { waitMs: 10_000 } });
  key = (await createApiKey(api.keys, { workspace: 'WT', name: 'client', scopes: ['admin'] })).key;
}, 120_000);
afterAll(() => api.stop());

test('the committed client types are what the served document generates', async () => {
  const served = (await (await fetch(`${api.base}/v1/openapi.json`)).json()) as object;
  expect(await apiTypes(served)).toBe(readFileSync(API_TYPES_FILE, 'utf8'));
});

test('the generated client runs a job and a batch, lists them, reads usage and gets typed problems', async () => {
  const client = createClient<paths>({ baseUrl: api.base, headers: { authorization: `Bearer ${key}` } });
  const enriched = await client.POST('/v1/enrich', { params: { header: { 'Idempotency-Key': 'client-1' } }, body: { domain: 'client-acme.com', enrich: ['company_name'] } });
  expect(enriched.response.status).toBe(200);
  expect(enriched.response.headers.get('ratelimit-remaining')).toMatch(/^\d+$/);
  const record = enriched.data as Extract<typeof enriched.data, { fromRecord: boolean }>;
  expect(record.fields.company_name?.value).toBe('Name of client-acme.com');

  const job = await client.GET('/v1/jobs/{id}', { params: { path: { id: record.jobId } } });
  expect(job.data).toMatchObject({ kind: 'job', status: 'done' });
  const listed = await client.GET('/v1/jobs', { params: { query: { state: 'done', limit: 5 } } });
  expect(listed.data?.items.map((j) => j.jobId)).toContain(record.jobId);

  const batch = await client.POST('/v1/enrich/batch', { body: { items: [{ domain: 'client-b1.com' }, { domain: 'client-b2.com' }] } });
  expect(batch.response.status).toBe(202);
  // The 200 of a dryRun is the other answer this operation documents.
  if (!batch.data || !('batchId' in batch.data)) throw new Error('expected the 202 BatchAccepted');
  const accepted = batch.data;
  await api.app.service.waitForBatch(accepted.batchId, 30_000);
  const counts = await client.GET('/v1/batches/{id}', { params: { path: { id: accepted.batchId } } });
  expect(counts.data).toMatchObject({ status: 'done', counts: { done: 2 } });
  expect((await client.GET('/v1/batches')).data?.items[0].batchId).toBe(accepted.batchId);

  const usage = await client.GET('/v1/usage');
  expect(usage.data?.byProvider[0]).toMatchObject({ provider: 'co', calls: 3, hits: 3 });

  // Each 2xx body fits the schema the document gives for it.
  const bodies: [z.ZodType, unknown][] = [
    [Documented.EnrichResult, enriched.data],
    [Documented.Job, job.data],
    [Documented.JobList, listed.data],
    [Documented.BatchAccepted, batch.data],
    [Documented.Batch, counts.data],
    [Documented.Usage, usage.data],
  ];
  for (const [schema, body] of bodies) expect(schema.safeParse(body).error?.issues).toBeUndefined();

  const bad = await client.POST('/v1/enrich', { body: { email: 'not-an-email' } });
  expect(bad.response.status).toBe(400);
  expect(bad.error?.errors?.[0].path).toBe('email');
});
