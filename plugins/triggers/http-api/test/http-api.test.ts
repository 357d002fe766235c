// The HTTP API through the real App (registry, MongoDB, Redis, queue, worker) on port 0, with a
// fake provider over HTTP and real fetch calls: validation, keys, limits, isolation, the sync
// and 202 paths, batches, CSV and the OpenAPI document.
import type { Collection } from 'mongodb';
import { jest } from '@jest/globals';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { ManualClock } from '../../../../src/clock.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { jobIdFor, jobLeaseKey } from '../../../../src/queue/enrich-queue.js';
import httpApi, { API_KEYS_COLLECTION } from '../index.js';
import { createApiKey, revokeApiKey } from '../api-keys.js';
import { HttpApiErrors } from '../errors.js';

// Several tests start a second App; on a loaded machine start-up alone can take seconds.
jest.setTimeout(90_000);

let fake: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
let base: string;
let keys: Collection;
let keyA: string;
let keyB: string;
let release: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();

const providers = () => ({ co: httpProvider({ id: 'co', returns: ['company.name', 'company.industry', 'company.description'], needs: [['domain']], usd: 0.01 }) });
const overrides = (fakeUrl: string, api: Record<string, unknown> = {}) => ({
  plugins: { providers: ['co'], triggers: ['http-api'] },
  providers: { co: { baseUrl: fakeUrl, apiKey: 'co-key' } },
  waterfalls: { companyProfile: ['co'] },
  queue: { concurrency: 20 },
  // A long wait, so a loaded machine does not turn the synchronous tests into 202s.
  triggers: { 'http-api': { waitMs: 30000, bodyLimit: '200kb', ratePerMinute: 100000, ratePerDay: 1000000, ...api } },
});

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /co': async (req) => {
      const domain = (req.json as { domain: string }).domain;
      if (domain.startsWith('slow-')) await gate;
      if (domain.startsWith('nomatch-')) return { json: { found: false } };
      const name = domain.startsWith('formula-') ? '=HYPERLINK("http://evil.example","x")' : `Name of ${domain}`;
      // Industry as the provider words it: the engine stores the canonical value and the raw text.
      return { json: { found: true, fields: { 'company.name': name, 'company.industry': 'Computer Software' }, confidence: 0.9 } };
    },
  });
  app = await startTestApp({ file: 'http-api', plugins: { ...providers(), 'http-api': httpApi as never }, overrides: overrides(fake.url) });
  base = `http://127.0.0.1:${app.port}`;
  keys = (app.registry.context('http-api') as TriggerContext).collection(API_KEYS_COLLECTION);
  keyA = (await createApiKey(keys, { workspace: 'WA', name: 'a' })).key;
  keyB = (await createApiKey(keys, { workspace: 'WB', name: 'b' })).key;
}, 120_000);
afterAll(async () => {
  release();
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
}, 60_000);

const call = (path: string, init: { method?: string; key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${base}${path}`, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers: { ...(init.key === null ? {} : { authorization: `Bearer ${init.key ?? keyA}` }), ...(init.body !== undefined || init.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.raw ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });

async function problem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const p = (await res.json()) as { type: string; title: string; status: number; detail: string; instance: string; code?: string; errors?: { path: string; message: string }[] };
  expect(p).toMatchObject({ status, type: expect.stringMatching(/^urn:enrichbot:problem:/), title: expect.any(String), detail: expect.any(String), instance: expect.stringMatching(/^\/v1\//) });
  return p;
}

describe('validation', () => {
  test('each bad body shape is a 400 problem naming what to fix', async () => {
    const cases: { body: unknown; path: string; says: RegExp }[] = [
      { body: {}, path: '', says: /at least one of email, domain, company_name, linkedin_url/ },
      { body: { name: 'Jane Doe' }, path: '', says: /name alone is not enough/ },
      { body: { domain: 'acme.com', emial: 'x@y.com' }, path: 'emial', says: /unknown field "emial"/ },
      { body: { domain: 42 }, path: 'domain', says: /string/ },
      { body: { domain: 'acme.com', enrich: ['title', 'shoe_size'] }, path: 'enrich/1', says: /unknown field name; use one of: .*person\.title.*company_industry/ },
      { body: { domain: 'acme.com', enrich: 'title' }, path: 'enrich', says: /array/ },
      { body: { domain: 'acme.com', refresh: 'yes' }, path: 'refresh', says: /boolean/ },
      { body: { domain: 'acme.com', name: 'Cher' }, path: 'name', says: /first and last name/ },
      { body: ['acme.com'], path: '', says: /object/ },
    ];
    for (const c of cases) {
      const p = await problem(await call('/v1/enrich', { body: c.body }), 400);
      expect(p.code).toBe(ErrorCodes.INPUT_INVALID);
      expect(p.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: c.path, message: expect.stringMatching(c.says) })]));
    }
  });

  test('malformed JSON is a 400 problem and a non-JSON body a 415', async () => {
    expect((await problem(await call('/v1/enrich', { raw: '{"domain": ' }), 400)).detail).toMatch(/not valid JSON/);
    await problem(await call('/v1/enrich', { raw: 'domain=acme.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
  });

  test('a body over the limit is a 413 problem', async () => {
    const p = await problem(await call('/v1/enrich/batch', { body: { items: Array.from({ length: 5000 }, (_, i) => ({ domain: `toolarge-${i}-padding-padding-padding.com` })) } }), 413);
    expect(p.code).toBe(ErrorCodes.BODY_TOO_LARGE);
    expect(p.detail).toMatch(/200kb/);
  });

  test('a batch over the item limit is refused whole with 413, naming the limit', async () => {
    const small = await startTestApp({ file: 'http-api', names: app.names, role: 'web', plugins: { ...providers(), 'http-api': httpApi as never }, overrides: overrides(fake.url, { maxBatchItems: 3 }) });
    try {
      const res = await fetch(`http://127.0.0.1:${small.port}/v1/enrich/batch`, { method: 'POST', headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ domain: 'a.com' }, { domain: 'b.com' }, { domain: 'c.com' }, { domain: 'd.com' }] }) });
      expect((await problem(res, 413)).detail).toMatch(/at most 3 items/);
    } finally {
      await small.stop();
    }
  });
});

test('each bad batch body shape is a 400 problem naming what to fix, and nothing is queued', async () => {
  const cases: { body: unknown; path: string; says: RegExp }[] = [
    { body: {}, path: 'items', says: /array/ },
    { body: { items: 'acme.com' }, path: 'items', says: /array/ },
    { body: { items: [] }, path: 'items', says: /at least one item/ },
    { body: { items: [{ domain: 'a.com' }], priority: 'high' }, path: 'priority', says: /unknown field "priority"/ },
    { body: { items: [{ domain: 'a.com' }], enrich: ['shoe_size'] }, path: 'enrich/0', says: /unknown field name/ },
    { body: { items: [{ domain: 'a.com' }], refresh: 1 }, path: 'refresh', says: /boolean/ },
    { body: { items: [{ domain: 'a.com' }], label: '' }, path: 'label', says: /.+/ },
  ];
  const batches = await app.store.models.Batch.countDocuments({});
  for (const c of cases) {
    const p = await problem(await call('/v1/enrich/batch', { body: c.body }), 400);
    expect(p.code).toBe(ErrorCodes.INPUT_INVALID);
    expect(p.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: c.path, message: expect.stringMatching(c.says) })]));
  }
  expect(await app.store.models.Batch.countDocuments({})).toBe(batches);
});

describe('access', () => {
  test('no key, a wrong key and a revoked key are each a 401 problem with WWW-Authenticate', async () => {
    const none = await call('/v1/jobs/enr_abc', { key: null });
    expect((await problem(none, 401)).detail).toMatch(/Authorization: Bearer/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await problem(await call('/v1/jobs/enr_abc', { key: 'ebk_' + 'x'.repeat(43) }), 401);
    await problem(await call('/v1/jobs/enr_abc', { key: 'not-even-close' }), 401);
    const { key, record } = await createApiKey(keys, { workspace: 'WA', name: 'to-revoke' });
    expect((await call('/v1/jobs/enr_abc', { key })).status).toBe(404);
    await revokeApiKey(keys, record.id);
    const p = await problem(await call('/v1/jobs/enr_abc', { key }), 401);
    expect(p.detail).toMatch(/revoked/);
    expect(p.code).toBe(HttpApiErrors.API_KEY_INVALID.code);
  });

  test('keys are stored as hashes only', async () => {
    const { key, record } = await createApiKey(keys, { workspace: 'WA', name: 'stored' });
    const doc = await keys.findOne({ id: record.id });
    expect(JSON.stringify(doc)).not.toContain(key);
    expect(doc).toMatchObject({ workspace: 'WA', name: 'stored', revokedAt: null });
  });

  test('a key sees only its own workspace: another workspace gets 404 for the job, the batch and the CSV', async () => {
    const res = await call('/v1/enrich', { body: { domain: 'isolated-a.com' } });
    expect(res.status).toBe(200);
    const { jobId } = (await res.json()) as { jobId: string };
    const batch = (await (await call('/v1/enrich/batch', { body: { items: [{ domain: 'isolated-b.com' }] } })).json()) as { batchId: string };
    expect((await call(`/v1/jobs/${jobId}`)).status).toBe(200);
    for (const path of [`/v1/jobs/${jobId}`, `/v1/jobs/${jobId}/results.csv`, `/v1/jobs/${batch.batchId}`, `/v1/jobs/${batch.batchId}/results.csv`]) {
      const p = await problem(await call(path, { key: keyB }), 404);
      expect([ErrorCodes.JOB_NOT_FOUND, ErrorCodes.BATCH_NOT_FOUND]).toContain(p.code);
    }
  });
});

describe('rate limits', () => {
  test('past the per-minute limit: 429 with Retry-After and RateLimit headers; the next minute it recovers; the day limit holds across minutes', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 12, 0, 15));
    const limited = await startTestApp({ file: 'http-api', names: app.names, role: 'web', clock, plugins: { ...providers(), 'http-api': httpApi as never }, overrides: overrides(fake.url, { ratePerMinute: 3, ratePerDay: 5 }) });
    try {
      const { key } = await createApiKey(keys, { workspace: 'WA', name: 'limited' });
      const get = () => fetch(`http://127.0.0.1:${limited.port}/v1/jobs/enr_nothing`, { headers: { authorization: `Bearer ${key}` } });
      const first = await get();
      expect(first.status).toBe(404);
      expect(first.headers.get('ratelimit-limit')).toBe('3');
      expect(first.headers.get('ratelimit-remaining')).toBe('2');
      expect(first.headers.get('ratelimit-reset')).toBe('45');
      expect(first.headers.get('ratelimit-policy')).toBe('3;w=60, 5;w=86400');
      await get();
      expect((await get()).headers.get('ratelimit-remaining')).toBe('0');
      const refused = await get();
      const p = await problem(refused, 429);
      expect(p.code).toBe(HttpApiErrors.RATE_LIMITED.code);
      expect(refused.headers.get('retry-after')).toBe('45');
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');

      clock.advance(60_000);
      const again = await get();
      expect(again.status).toBe(404);
      // 4 of the day's 5 used: the day window binds now.
      expect(again.headers.get('ratelimit-limit')).toBe('5');
      expect(again.headers.get('ratelimit-remaining')).toBe('1');
      expect((await get()).status).toBe(404);
      const dayRefused = await get();
      expect((await problem(dayRefused, 429)).detail).toMatch(/today/);
      expect(Number(dayRefused.headers.get('retry-after'))).toBe((Date.UTC(2026, 10, 30) - clock.now().getTime()) / 1000);

      clock.set(Date.UTC(2026, 10, 30, 0, 0, 1));
      expect((await get()).status).toBe(404);
    } finally {
      await limited.stop();
    }
  });
});

describe('enrich', () => {
  test('a synchronous answer: every requested field present, null when not found, with source, confidence, cost and outcomes', async () => {
    const res = await call('/v1/enrich', { body: { domain: 'sync-acme.com', enrich: ['company.name', 'industry', 'company_description', 'company_employee_count'] } });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-remaining')).toMatch(/^\d+$/);
    const body = (await res.json()) as Record<string, any>;
    expect(Object.keys(body.fields)).toEqual(['company.name', 'industry', 'company_description', 'company_employee_count']);
    expect(body.fields['company.name']).toEqual({ value: 'Name of sync-acme.com', source: expect.objectContaining({ provider: 'co', fetchedAt: expect.any(String) }), confidence: 0.9 });
    expect(body.fields.industry).toMatchObject({ value: 'COMPUTER_SOFTWARE', raw: 'Computer Software', source: { provider: 'co' } });
    expect(body.fields.company_description).toBeNull();
    expect(body.fields.company_employee_count).toBeNull();
    expect(body.cost.usd).toBeCloseTo(0.01, 6);
    expect(body.outcomes).toEqual([expect.objectContaining({ group: 'companyProfile', provider: 'co', outcome: 'matched', costUsd: 0.01 })]);
    expect(body.jobId).toMatch(/^enr_/);
  });

  test('nothing found is nulls and the provider outcome that says why, never made-up values', async () => {
    const res = await call('/v1/enrich', { body: { domain: 'nomatch-zzz.com', enrich: ['company_name', 'industry'] } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.fields).toEqual({ company_name: null, industry: null });
    expect(body.outcomes).toEqual([expect.objectContaining({ provider: 'co', outcome: 'no_match' })]);
  });

  test('past the wait: 202 with the job id and a Location; polling it gives the result once the provider answers', async () => {
    gate = new Promise<void>((r) => (release = r));
    const quick = await startTestApp({ file: 'http-api', names: app.names, role: 'web', plugins: { ...providers(), 'http-api': httpApi as never }, overrides: overrides(fake.url, { waitMs: 300 }) });
    try {
      const url = `http://127.0.0.1:${quick.port}`;
      const res = await fetch(`${url}/v1/enrich`, { method: 'POST', headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'slow-acme.com', enrich: ['company_name', 'company_summary'] }) });
      expect(res.status).toBe(202);
      const accepted = (await res.json()) as { jobId: string; requestId: string; status: string };
      expect(accepted.requestId).toMatch(/^req_[a-f0-9]{24}$/);
      expect(res.headers.get('location')).toBe(`/v1/jobs/${accepted.jobId}?request=${accepted.requestId}`);
      expect(['queued', 'running']).toContain(accepted.status);
      const pending = (await (await call(res.headers.get('location')!)).json()) as Record<string, any>;
      expect(pending).toMatchObject({ kind: 'job', jobId: accepted.jobId, progress: { done: 0, total: 1 } });
      expect(pending.result).toBeUndefined();
      release();
      await app.service.waitFor(accepted.jobId, 20_000);
      const done = (await (await call(res.headers.get('location')!)).json()) as Record<string, any>;
      expect(done).toMatchObject({ status: 'done', progress: { done: 1, total: 1 } });
      // The same shape as the synchronous answer, with the fields asked for.
      expect(done.result.fields).toEqual({ company_name: expect.objectContaining({ value: 'Name of slow-acme.com' }), company_summary: null });
      // Without the request id: every field found, by canonical name; a wrong request id is a 404.
      const all = (await (await call(`/v1/jobs/${accepted.jobId}`)).json()) as Record<string, any>;
      expect(Object.keys(all.result.fields)).toEqual(expect.arrayContaining(['company.industry', 'company.name']));
      expect(all.result.fields).not.toHaveProperty('company_summary');
      await problem(await call(`/v1/jobs/${accepted.jobId}?request=req_${'0'.repeat(24)}`), 404);
      await problem(await call(`/v1/jobs/${accepted.jobId}?request=nope`), 400);
    } finally {
      release();
      await quick.stop();
    }
  });
});

describe('requested fields', () => {
  test('two requests that join one job with different enrich lists: polling each Location shows exactly the fields that request asked for', async () => {
    gate = new Promise<void>((r) => (release = r));
    const quick = await startTestApp({ file: 'http-api', names: app.names, role: 'web', plugins: { ...providers(), 'http-api': httpApi as never }, overrides: overrides(fake.url, { waitMs: 300 }) });
    try {
      const post = (enrich: string[]) =>
        fetch(`http://127.0.0.1:${quick.port}/v1/enrich`, { method: 'POST', headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'slow-twice.com', enrich }) });
      const first = await post(['company_name', 'company_description']);
      const second = await post(['industry']);
      expect([first.status, second.status]).toEqual([202, 202]);
      const [a, b] = (await Promise.all([first.json(), second.json()])) as { jobId: string }[];
      // Both name fields of the companyProfile group: one job, joined.
      expect(b.jobId).toBe(a.jobId);
      release();
      await app.service.waitFor(a.jobId, 60_000);
      const viewA = (await (await call(first.headers.get('location')!)).json()) as Record<string, any>;
      const viewB = (await (await call(second.headers.get('location')!)).json()) as Record<string, any>;
      expect(viewA.result.fields).toEqual({ company_name: expect.objectContaining({ value: 'Name of slow-twice.com' }), company_description: null });
      expect(viewB.result.fields).toEqual({ industry: expect.objectContaining({ value: 'COMPUTER_SOFTWARE' }) });
    } finally {
      release();
      await quick.stop();
    }
  });
});

describe('batches and CSV', () => {
  test('a batch of 1,000 with a few invalid items: those reported by index at once, the other 996 queued', async () => {
    // A web-only App on its own database and queue, with no worker anywhere: the batch stays
    // queued, so the test checks acceptance without waiting on 996 enrichments.
    const web = await startTestApp({ file: 'http-api-batch', role: 'web', plugins: { ...providers(), 'http-api': httpApi as never }, overrides: overrides(fake.url) });
    try {
      const webKeys = (web.registry.context('http-api') as TriggerContext).collection(API_KEYS_COLLECTION);
      const { key } = await createApiKey(webKeys, { workspace: 'WA', name: 'batch' });
      const url = `http://127.0.0.1:${web.port}`;
      const bad = new Map<number, unknown>([
        [3, {}],
        [250, { domain: 'x.com', bogus: 1 }],
        [500, 'just-a-string'],
        [999, { domain: 17 }],
      ]);
      const items = Array.from({ length: 1000 }, (_, i) => (bad.has(i) ? bad.get(i) : { domain: `b${i}-big.com` }));
      // Item 0's job is held busy by another "process": queueing cannot get past the first chunk,
      // so the answer below can only have come before the items were queued.
      const { request, identity } = web.service.validate({ workspace: 'WA', input: { domain: 'b0-big.com' } });
      const busy = (await web.leases.acquire(jobLeaseKey(jobIdFor(request, identity)), 60_000))!;
      const res = await fetch(`${url}/v1/enrich/batch`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
      expect(res.status).toBe(202);
      const sub = (await res.json()) as { batchId: string; total: number; accepted: number; rejected: { index: number; code: string; reason: string; errors?: { path: string; message: string }[] }[] };
      expect(res.headers.get('location')).toBe(`/v1/jobs/${sub.batchId}`);
      expect(sub).toMatchObject({ total: 1000, accepted: 996 });
      expect(sub.rejected.map((r) => r.index)).toEqual([3, 250, 500, 999]);
      expect(sub.rejected.every((r) => r.code === ErrorCodes.INPUT_INVALID && r.reason.length > 10)).toBe(true);
      expect(sub.rejected.find((r) => r.index === 3)!.reason).toMatch(/at least one of email, domain/);
      expect(sub.rejected.find((r) => r.index === 250)!.errors).toEqual([expect.objectContaining({ path: 'items/250/bogus', message: expect.stringMatching(/unknown field "bogus"/) })]);
      expect(sub.rejected.find((r) => r.index === 500)!.errors).toEqual([expect.objectContaining({ path: 'items/500' })]);
      expect(sub.rejected.find((r) => r.index === 999)!.errors).toEqual([expect.objectContaining({ path: 'items/999/domain' })]);

      const status = (await (await fetch(`${url}/v1/jobs/${sub.batchId}?offset=249&limit=3`, { headers: { authorization: `Bearer ${key}` } })).json()) as Record<string, any>;
      // Not yet on the queue, and counted as queued all the same.
      expect(status).toMatchObject({ kind: 'batch', status: 'running', total: 1000, counts: { queued: 996, rejected: 4 }, progress: { done: 4, total: 1000 }, queueing: { through: 0 } });
      expect(status.items.map((i: { index: number; status: string }) => [i.index, i.status])).toEqual([[249, 'queued'], [250, 'rejected'], [251, 'queued']]);
      expect(status.items[1].input).toEqual({ domain: 'x.com' });
      expect(status.page.next).toBe(`/v1/jobs/${sub.batchId}?offset=252&limit=3`);
      expect(await web.store.models.Job.countDocuments({ _id: jobIdFor(request, identity) })).toBe(0);

      // Once the job is free, the queueing goes on in the background and puts all 996 on the queue.
      await busy.release();
      const deadline = Date.now() + 240_000;
      let later: Record<string, any>;
      do {
        await new Promise((r) => setTimeout(r, 500));
        later = (await (await fetch(`${url}/v1/jobs/${sub.batchId}?limit=1`, { headers: { authorization: `Bearer ${key}` } })).json()) as Record<string, any>;
      } while (later.queueing && Date.now() < deadline);
      expect(later.queueing).toBeUndefined();
      expect(later.counts).toMatchObject({ queued: 996, rejected: 4 });
      expect(await web.store.models.Job.countDocuments({})).toBe(996);
      expect((await web.service.queueHealth()).waiting).toBe(996);
    } finally {
      await web.stop();
      await dropTestData(web.names);
    }
  }, 300_000);

  test('a finished batch: pages of items with results, and a CSV with BOM, the input columns and formula-escaped cells', async () => {
    const items = Array.from({ length: 30 }, (_, i) => (i === 7 ? { domain: 'x.com', bogus: true } : i === 10 ? { domain: 'formula-co.com' } : { domain: `b${i}-batch.com` }));
    const res = await call('/v1/enrich/batch', { body: { items, enrich: ['company_name', 'industry'], label: 'api batch' } });
    expect(res.status).toBe(202);
    const sub = (await res.json()) as { batchId: string; accepted: number };
    expect(sub.accepted).toBe(29);
    await app.service.waitForBatch(sub.batchId, 120_000);

    const first = (await (await call(`/v1/jobs/${sub.batchId}?limit=20`)).json()) as Record<string, any>;
    expect(first).toMatchObject({ kind: 'batch', status: 'done', total: 30, counts: { done: 29, rejected: 1 }, progress: { done: 30, total: 30 }, label: 'api batch' });
    expect(first.items).toHaveLength(20);
    expect(first.items[7]).toMatchObject({ index: 7, status: 'rejected', reason: expect.stringMatching(/bogus/) });
    expect(first.items[4]).toMatchObject({ index: 4, status: 'done', input: { domain: 'b4-batch.com' }, result: { fields: { company_name: { value: 'Name of b4-batch.com' }, industry: { value: 'COMPUTER_SOFTWARE' } } } });
    expect(first.page).toEqual({ offset: 0, limit: 20, returned: 20, next: `/v1/jobs/${sub.batchId}?offset=20&limit=20` });
    const last = (await (await call(`/v1/jobs/${sub.batchId}?offset=20&limit=20`)).json()) as Record<string, any>;
    expect(last.items.map((i: { index: number }) => i.index)).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect(last.page.next).toBeNull();
    await problem(await call(`/v1/jobs/${sub.batchId}?limit=100000`), 400);

    const csv = await call(`/v1/jobs/${sub.batchId}/results.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    // Streamed as written, not built whole first: chunked, with no length known up front.
    expect(csv.headers.get('transfer-encoding')).toBe('chunked');
    expect(csv.headers.get('content-length')).toBeNull();
    const bytes = new Uint8Array(await csv.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes.slice(3)).trim().split(/\r?\n/);
    expect(lines).toHaveLength(31);
    expect(lines[0].startsWith('email,domain,company_name,linkedin_url,name,')).toBe(true);
    const header = lines[0].split(',');
    const row4 = lines[5].split(',');
    expect(row4[1]).toBe('b4-batch.com');
    expect(row4[header.indexOf('company.name')]).toBe('Name of b4-batch.com');
    expect(row4[header.indexOf('company.name source')]).toMatch(/^co \d{4}-/);
    expect(lines[8]).toMatch(/,rejected,.*bogus/);
    // The provider's formula is written as text.
    expect(lines[11]).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(lines[11]).not.toMatch(/,"=HYPERLINK/);
  }, 180_000);

  test('the CSV of a single job is its one row', async () => {
    const { jobId } = (await (await call('/v1/enrich', { body: { domain: 'onerow-acme.com' } })).json()) as { jobId: string };
    await app.service.waitFor(jobId, 60_000);
    const text = (await (await call(`/v1/jobs/${jobId}/results.csv`)).text()).replace(/^\uFEFF/, '');
    const lines = text.trim().split(/\r?\n/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('Name of onerow-acme.com');
  });
});

describe('cancel', () => {
  test('DELETE /v1/jobs/:id cancels a job and a batch of the key\'s workspace; another workspace gets 404 and changes nothing; a second DELETE gives the same answer', async () => {
    // A web-only App on its own database and queue with no worker: what is queued stays queued.
    const web = await startTestApp({ file: 'http-api-cancel', role: 'web', plugins: { ...providers(), 'http-api': httpApi as never }, overrides: overrides(fake.url, { waitMs: 0 }) });
    try {
      const webKeys = (web.registry.context('http-api') as TriggerContext).collection(API_KEYS_COLLECTION);
      const mine = (await createApiKey(webKeys, { workspace: 'WA', name: 'mine' })).key;
      const theirs = (await createApiKey(webKeys, { workspace: 'WB', name: 'theirs' })).key;
      const url = `http://127.0.0.1:${web.port}`;
      const req = (path: string, key: string, init: { method?: string; body?: unknown } = {}) =>
        fetch(`${url}${path}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) }, body: init.body ? JSON.stringify(init.body) : undefined });

      const accepted = await req('/v1/enrich', mine, { method: 'POST', body: { domain: 'cancel-me.com' } });
      expect(accepted.status).toBe(202);
      const { jobId } = (await accepted.json()) as { jobId: string };
      const other = await problem(await req(`/v1/jobs/${jobId}`, theirs, { method: 'DELETE' }), 404);
      expect(other.code).toBe(ErrorCodes.JOB_NOT_FOUND);
      expect(((await (await req(`/v1/jobs/${jobId}`, mine)).json()) as { status: string }).status).toBe('queued');

      for (let i = 0; i < 2; i++) {
        const res = await req(`/v1/jobs/${jobId}`, mine, { method: 'DELETE' });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ kind: 'job', jobId, status: 'cancelled' });
      }

      const batch = (await (await req('/v1/enrich/batch', mine, { method: 'POST', body: { items: [{ domain: 'c1-cancel.com' }, { domain: 'c2-cancel.com' }, { bogus: 1 }] } })).json()) as { batchId: string };
      await problem(await req(`/v1/jobs/${batch.batchId}`, theirs, { method: 'DELETE' }), 404);
      // Its two items on the queue (in the background, after the answer).
      for (let i = 0; i < 600; i++) {
        const view = (await (await req(`/v1/jobs/${batch.batchId}`, mine)).json()) as { status: string; queueing?: unknown };
        expect(view.status).toBe('running');
        if (!view.queueing) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      for (let i = 0; i < 2; i++) {
        const res = await req(`/v1/jobs/${batch.batchId}`, mine, { method: 'DELETE' });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ kind: 'batch', batchId: batch.batchId, status: 'cancelled', total: 3 });
      }
      // The batch's jobs were cancelled with it.
      const { Job, Activity } = web.store.models;
      expect((await Job.find({ workspace: 'WA' }, { status: 1 }).lean()).map((j) => j.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
      expect(await Activity.countDocuments({ action: 'cancel', subject: { $in: [jobId, batch.batchId] } })).toBe(4);

      await problem(await req('/v1/jobs/enr_doesnotexist', mine, { method: 'DELETE' }), 404);
      await problem(await req('/v1/jobs/not-an-id', mine, { method: 'DELETE' }), 404);
      await problem(await req(`/v1/jobs/${jobId}`, 'ebk_wrong', { method: 'DELETE' }), 401);
    } finally {
      await web.stop();
      await dropTestData(web.names);
    }
  }, 120_000);
});

test('openapi.json is valid JSON describing every route, with request schemas generated from zod', async () => {
  const res = await fetch(`${base}/v1/openapi.json`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as Record<string, any>;
  expect(doc.openapi).toBe('3.1.0');
  expect(Object.keys(doc.paths).sort()).toEqual(['/v1/batches', '/v1/batches/{id}', '/v1/companies/{domain}', '/v1/enrich', '/v1/enrich/batch', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/results.csv', '/v1/openapi.json', '/v1/people/{identifier}', '/v1/usage']);
  // Every operation: a unique operationId and a tag; every authenticated 2xx declares the RateLimit headers.
  const ops = Object.values(doc.paths).flatMap((item: any) => Object.values(item)) as any[];
  expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
  expect(ops.every((o) => typeof o.operationId === 'string' && o.tags?.length === 1)).toBe(true);
  for (const o of ops.filter((o) => o.operationId !== 'getOpenApi')) {
    for (const [status, r] of Object.entries(o.responses) as [string, any][]) if (status.startsWith('2')) expect(Object.keys(r.headers)).toEqual(expect.arrayContaining(['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy']));
    expect(Object.keys(o.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
  }
  expect(doc.servers).toEqual([{ url: '/' }]);
  expect(doc.paths['/v1/enrich/batch'].post.callbacks.completed['{$request.body#/callbackUrl}'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/WebhookEvent' });
  expect(Object.keys(doc.paths['/v1/jobs/{id}']).sort()).toEqual(['delete', 'get']);
  expect(Object.keys(doc.paths['/v1/jobs/{id}'].delete.responses)).toEqual(expect.arrayContaining(['200', '202', '404', '401', '429', '503']));
  expect(doc.components.schemas.Accepted.required).toContain('requestId');
  const req = doc.components.schemas.EnrichRequest;
  expect(req.additionalProperties).toBe(false);
  expect(Object.keys(req.properties)).toEqual(expect.arrayContaining(['email', 'domain', 'company_name', 'linkedin_url', 'name', 'enrich', 'refresh']));
  expect(req.properties.enrich.items.enum).toEqual(expect.arrayContaining(['person.title', 'company_industry']));
  expect(doc.paths['/v1/enrich'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/EnrichRequest' });
  expect(doc.components.schemas.BatchRequest.properties.items.items).toEqual({ $ref: '#/components/schemas/EnrichItem' });
});

test('an unknown route under /v1 is a 404 problem', async () => {
  const p = await problem(await call('/v1/nope'), 404);
  expect(p.detail).toMatch(/openapi\.json/);
});
