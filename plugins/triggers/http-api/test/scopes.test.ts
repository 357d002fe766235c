// Key scopes (enrich, read, privacy, admin), expiry and a key's own limits, through the API.
import { jest } from '@jest/globals';
import { ErrorCodes } from '../../../../src/errors.js';
import { ManualClock } from '../../../../src/clock.js';
import { createApiKey, hashKey } from '../api-keys.js';
import { startApi, problem, type ApiHarness } from './api-harness.js';
import { HttpApiErrors } from '../errors.js';

jest.setTimeout(60_000);

const clock = new ManualClock(Date.UTC(2026, 11, 7, 12, 0, 10));
let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ file: 'http-api-scopes', role: 'web', clock, api: { waitMs: 0 } });
}, 120_000);
afterAll(() => api.stop());

const make = async (opts: Partial<Parameters<typeof createApiKey>[1]> = {}) => (await createApiKey(api.keys, { workspace: 'WS', name: 'scoped', now: clock.now(), ...opts })).key;
const forget = (key: string) => api.call('/v1/companies/scoped-acme.com', { key, method: 'DELETE' });
const enrich = (key: string) => api.call('/v1/enrich', { key, body: { domain: 'scoped-enrich.com' } });
const list = (key: string) => api.call('/v1/jobs', { key });

test('a key without the privacy scope gets 403 on the forget routes, naming the scope; with privacy or admin it may', async () => {
  const plain = await make();
  for (const res of [await forget(plain), await api.call('/v1/people/jane%40scoped-acme.com', { key: plain, method: 'DELETE' })]) {
    const p = await problem(res, 403);
    expect(p.code).toBe(HttpApiErrors.API_KEY_SCOPE.code);
    expect(p.detail).toMatch(/needs "privacy".*--scope privacy/);
  }
  expect(await api.app.store.models.Tombstone.countDocuments({})).toBe(0);
  expect((await forget(await make({ scopes: ['privacy'] }))).status).toBe(200);
  expect((await forget(await make({ scopes: ['admin'] }))).status).toBe(200);
});

test('enrich and read are separate scopes; new keys and keys made before scopes have both', async () => {
  const readOnly = await make({ scopes: ['read'] });
  expect((await problem(await enrich(readOnly), 403)).detail).toMatch(/needs "enrich"/);
  expect((await problem(await api.call('/v1/enrich/batch', { key: readOnly, body: { items: [{ domain: 'a.com' }] } }), 403)).code).toBe(HttpApiErrors.API_KEY_SCOPE.code);
  expect((await list(readOnly)).status).toBe(200);
  const writeOnly = await make({ scopes: ['enrich'] });
  expect((await enrich(writeOnly)).status).toBe(202);
  for (const path of ['/v1/jobs', '/v1/batches', '/v1/usage', '/v1/jobs/enr_abc']) await problem(await api.call(path, { key: writeOnly }), 403);

  const plain = await make();
  expect([(await enrich(plain)).status, (await list(plain)).status]).toEqual([202, 200]);
  // A key document from before scopes existed: enrich and read, not privacy.
  const legacy = 'ebk_' + 'L'.repeat(43);
  await api.keys.insertOne({ _id: hashKey(legacy) as never, id: 'key_legacy000000', workspace: 'WS', name: 'old', createdAt: new Date(), revokedAt: null });
  expect([(await enrich(legacy)).status, (await list(legacy)).status, (await forget(legacy)).status]).toEqual([202, 200, 403]);
});

test('a key stops working when it expires (401 saying so); creating one that is already expired is refused', async () => {
  const key = await make({ expiresAt: new Date(clock.now().getTime() + 3600_000) });
  expect((await list(key)).status).toBe(200);
  clock.advance(3600_000);
  const p = await problem(await list(key), 401);
  expect(p.detail).toMatch(/expired at 2026-12-07T13:00:10/);
  await expect(make({ expiresAt: new Date(clock.now().getTime() - 1) })).rejects.toMatchObject({ code: ErrorCodes.INPUT_INVALID });
});

test('a key\'s own request and item limits replace the trigger\'s', async () => {
  const key = await make({ limits: { ratePerMinute: 3, itemsPerMinute: 4 } });
  const first = await list(key);
  expect(first.headers.get('ratelimit-limit')).toBe('3');
  await list(key);
  // The third request is a batch of 5 items: more than the key's 4 a minute can ever take.
  expect((await problem(await api.call('/v1/enrich/batch', { key, body: { items: Array.from({ length: 5 }, (_, i) => ({ domain: `own${i}-limit.com` })) } }), 413)).detail).toMatch(/at most 4 items a minute/);
  const refused = await problem(await list(key), 429);
  expect(refused.code).toBe(HttpApiErrors.RATE_LIMITED.code);
  // Another key keeps the trigger's limits.
  expect((await list(await make())).headers.get('ratelimit-limit')).toBe('100000');
});
