// What the API refuses before any work is queued: typed fields whose value does not fit their
// type, request charsets it cannot decode, and a key's item budget. A web-only App (no worker):
// accepted work stays queued, so each test checks the answer and what was stored, nothing more.
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import fc from 'fast-check';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { ManualClock } from '../../../../src/clock.js';
import { createLogger } from '../../../../src/logger.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import httpApi, { API_KEYS_COLLECTION } from '../index.js';
import { createApiKey } from '../api-keys.js';
import { HttpApiErrors } from '../errors.js';

jest.setTimeout(60_000);

const clock = new ManualClock(Date.UTC(2026, 11, 7, 10, 0, 5));
// Every log line at warn and above, to prove client errors are never logged as failures.
const logged: { level: number; msg: string }[] = [];
const logger = createLogger({ level: 'warn', stream: new Writable({ write: (c, _e, cb) => (logged.push(JSON.parse(c.toString())), cb()) }) });

let app: Awaited<ReturnType<typeof startTestApp>>;
let base: string;
let key: string;
let budgetKey: string;
let otherKey: string;

beforeAll(async () => {
  app = await startTestApp({
    file: 'http-api-input',
    role: 'web',
    clock,
    logger,
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: 0.01 }), 'http-api': httpApi as never },
    overrides: {
      plugins: { providers: ['co'], triggers: ['http-api'] },
      providers: { co: { baseUrl: 'http://127.0.0.1:9', apiKey: 'k' } },
      waterfalls: { companyProfile: ['co'] },
      triggers: { 'http-api': { waitMs: 0, ratePerMinute: 100000, ratePerDay: 1000000, itemsPerMinute: 10, itemsPerDay: 25, maxBatchItems: 20 } },
    },
  });
  base = `http://127.0.0.1:${app.port}`;
  const keys = (app.registry.context('http-api') as TriggerContext).collection(API_KEYS_COLLECTION);
  key = (await createApiKey(keys, { workspace: 'WI', name: 'input' })).key;
  budgetKey = (await createApiKey(keys, { workspace: 'WI', name: 'budget' })).key;
  otherKey = (await createApiKey(keys, { workspace: 'WI', name: 'other' })).key;
}, 120_000);
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
});

const post = (path: string, body: string, contentType = 'application/json', k = key) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${k}`, 'content-type': contentType }, body });

async function problem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { type: string; detail: string; code?: string; errors?: { path: string; message: string }[] };
}

const errorLines = () => logged.filter((l) => l.level >= 50);

describe('typed fields', () => {
  test('an email, LinkedIn URL or domain that is not one is a 400 naming the field, and no job is made', async () => {
    const cases: { body: Record<string, string>; path: string; says: RegExp }[] = [
      { body: { email: 'not-an-email' }, path: 'email', says: /not an email address/ },
      { body: { email: 'jane@' }, path: 'email', says: /not an email address/ },
      { body: { linkedin_url: 'not a url' }, path: 'linkedin_url', says: /not a LinkedIn profile URL/ },
      { body: { linkedin_url: 'https://example.com/in/jane' }, path: 'linkedin_url', says: /not a LinkedIn profile URL/ },
      { body: { domain: 'not a domain' }, path: 'domain', says: /not a domain|registrable/ },
    ];
    for (const c of cases) {
      const p = await problem(await post('/v1/enrich', JSON.stringify(c.body)), 400);
      expect(p.code).toBe(ErrorCodes.INPUT_INVALID);
      expect(p.errors).toEqual([expect.objectContaining({ path: c.path, message: expect.stringMatching(c.says) })]);
    }
    expect(await app.store.models.Job.countDocuments({})).toBe(0);
  });

  test('well-typed values still go through: an email, a LinkedIn profile, a domain given as a URL', async () => {
    for (const body of [{ email: 'jane@typed-acme.com' }, { linkedin_url: 'linkedin.com/in/jane-doe' }, { domain: 'https://www.typed-acme.com/about' }]) {
      expect((await post('/v1/enrich', JSON.stringify(body))).status).toBe(202);
    }
  });

  test('in a batch a mistyped item is rejected by index with the reason, and the rest are accepted', async () => {
    const items = [{ email: 'not-an-email' }, { domain: 'ok-typed.com' }, { linkedin_url: 'not a url' }, { email: 'joe@ok-typed.com' }];
    const res = await post('/v1/enrich/batch', JSON.stringify({ items }));
    expect(res.status).toBe(202);
    const sub = (await res.json()) as { accepted: number; rejected: { index: number; reason: string; errors: { path: string }[] }[] };
    expect(sub.accepted).toBe(2);
    expect(sub.rejected.map((r) => [r.index, r.errors.map((e) => e.path)])).toEqual([
      [0, ['items/0/email']],
      [2, ['items/2/linkedin_url']],
    ]);
    expect(sub.rejected[0].reason).toMatch(/not an email address/);
  });
});

describe('charsets and content types', () => {
  test('an unsupported charset is a 415 problem, never a 500, and nothing is logged as an error', async () => {
    const before = errorLines().length;
    const p = await problem(await post('/v1/enrich', JSON.stringify({ domain: 'charset.com' }), 'application/json; charset=latin1'), 415);
    expect(p.type).toBe('urn:enrichbot:problem:unsupported-media-type');
    expect(p.code).toBe(ErrorCodes.INPUT_INVALID);
    expect(p.detail).toMatch(/utf-8/i);
    expect(errorLines().length).toBe(before);
  });

  test('fuzz: any content type and body gets an answer below 500, and no error is logged', async () => {
    const before = errorLines().length;
    const contentType = fc.oneof(
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-16', 'application/json; charset=latin1', 'application/json; charset=', 'application/json;;', 'text/plain', 'application/x-www-form-urlencoded', 'application/*', '*/*', 'application/problem+json', 'multipart/form-data; boundary=x'),
      fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
      fc.string({ maxLength: 20 }).map((s) => `application/json; charset=${s.replace(/[^\x21-\x7e]/g, '')}`),
    );
    const body = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 200 }),
      fc.record({ email: fc.string({ maxLength: 40 }), linkedin_url: fc.string({ maxLength: 40 }) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      fc.record({ items: fc.array(fc.record({ domain: fc.string({ maxLength: 30 }), email: fc.string({ maxLength: 30 }) }, { requiredKeys: [] }), { maxLength: 3 }) }).map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/enrich', '/v1/enrich/batch'), contentType, body, async (path, type, text) => {
        const res = await post(path, text, type);
        await res.arrayBuffer();
        expect(res.status).toBeLessThan(500);
      }),
      { seed: 20261207, numRuns: 150 },
    );
    expect(errorLines().slice(before)).toEqual([]);
  });
});

test('fuzz: any path, query and method under /v1 gets an answer below 500, and no error is logged', async () => {
  const before = errorLines().length;
  const segment = fc.oneof(fc.constantFrom('%', '%E0%A4%A', '%00', '..', 'enr_abc', 'bat_x', '%2F', 'a%20b', '%ZZ'), fc.string({ maxLength: 20 }).map(encodeURIComponent));
  const route = fc.constantFrom('/v1/jobs/', '/v1/batches/', '/v1/people/', '/v1/companies/', '/v1/jobs?cursor=', '/v1/jobs?state=', '/v1/usage?from=', '/v1/jobs/enr_x/results.csv?x=', '/v1/');
  await fc.assert(
    fc.asyncProperty(route, segment, fc.constantFrom('GET', 'DELETE', 'PUT', 'PATCH'), async (prefix, seg, method) => {
      const res = await fetch(`${base}${prefix}${seg}`, { method, headers: { authorization: `Bearer ${otherKey}` } });
      await res.arrayBuffer();
      expect(res.status).toBeLessThan(500);
    }),
    { seed: 20261207, numRuns: 150 },
  );
  expect(errorLines().slice(before)).toEqual([]);
});

describe('item budget', () => {
  test('a key\'s items per minute and per day count batch items: past them 429 with Retry-After, the next minute it recovers, the day holds', async () => {
    const items = (n: number, tag: string) => JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ domain: `${tag}${i}-budget.com` })) });
    expect((await post('/v1/enrich/batch', items(8, 'a'), 'application/json', budgetKey)).status).toBe(202);
    expect((await post('/v1/enrich', JSON.stringify({ domain: 'one-budget.com' }), 'application/json', budgetKey)).status).toBe(202);
    // 9 of 10 used this minute: 2 more do not fit, and nothing of them is queued.
    const jobs = await app.store.models.Batch.countDocuments({});
    const refused = await post('/v1/enrich/batch', items(2, 'b'), 'application/json', budgetKey);
    const p = await problem(refused, 429);
    expect(p.code).toBe(HttpApiErrors.RATE_LIMITED.code);
    expect(p.detail).toMatch(/10 items .* minute.*1 left/);
    expect(refused.headers.get('retry-after')).toBe('55');
    expect(await app.store.models.Batch.countDocuments({})).toBe(jobs);
    expect((await post('/v1/enrich', JSON.stringify({ domain: 'two-budget.com' }), 'application/json', budgetKey)).status).toBe(202);

    clock.advance(60_000);
    expect((await post('/v1/enrich/batch', items(10, 'c'), 'application/json', budgetKey)).status).toBe(202);
    clock.advance(60_000);
    // 20 of the day's 25 used: 6 do not fit today.
    const day = await post('/v1/enrich/batch', items(6, 'd'), 'application/json', budgetKey);
    expect((await problem(day, 429)).detail).toMatch(/25 items .* today.*5 left/);
    expect(Number(day.headers.get('retry-after'))).toBe((Date.UTC(2026, 11, 8) - clock.now().getTime()) / 1000);
    // A batch larger than the minute's whole budget can never pass: 413, split it.
    const never = await problem(await post('/v1/enrich/batch', items(11, 'e'), 'application/json', budgetKey), 413);
    expect(never.detail).toMatch(/at most 10 items a minute/);
    // Another key's budget is its own.
    expect((await post('/v1/enrich/batch', items(10, 'f'), 'application/json', otherKey)).status).toBe(202);
  });
});
