// GET /v1/usage from the cost ledger (per day and provider, the key's workspace only) and the
// privacy routes DELETE /v1/people/:identifier, /v1/companies/:domain running forget.
import { jest } from '@jest/globals';
import { ErrorCodes } from '../../../../src/errors.js';
import { ManualClock } from '../../../../src/clock.js';
import { createApiKey } from '../api-keys.js';
import { startApi, problem, type ApiHarness } from './api-harness.js';

jest.setTimeout(60_000);

// Noon on a fixed day: the ledger's day and the default range never straddle a midnight.
const clock = new ManualClock(Date.UTC(2026, 11, 7, 12));
let api: ApiHarness;
let keyA: string;
let keyB: string;
beforeAll(async () => {
  api = await startApi({ file: 'http-api-usage', clock });
  keyA = (await createApiKey(api.keys, { workspace: 'WA', name: 'a', scopes: ['enrich', 'read', 'privacy'] })).key;
  keyB = (await createApiKey(api.keys, { workspace: 'WB', name: 'b' })).key;
}, 120_000);
afterAll(() => api.stop());

test('GET /v1/usage: calls, hits and spend per provider and day for the key\'s workspace, from the ledger', async () => {
  for (const domain of ['usage-one.com', 'usage-two.com', 'nomatch-usage.com']) expect((await api.call('/v1/enrich', { key: keyA, body: { domain } })).status).toBe(200);
  // Asked again with refresh: the provider's cached answer is reused, which is no call.
  expect((await api.call('/v1/enrich', { key: keyA, body: { domain: 'usage-one.com', refresh: true } })).status).toBe(200);
  expect((await api.call('/v1/enrich', { key: keyB, body: { domain: 'usage-b.com' } })).status).toBe(200);
  const today = '2026-12-07';
  const res = await api.call(`/v1/usage?from=${today}&to=${today}`, { key: keyA });
  expect(res.status).toBe(200);
  const usage = (await res.json()) as Record<string, any>;
  expect(usage).toMatchObject({ workspace: 'WA', from: today, to: today, byProvider: [{ provider: 'co', calls: 3, hits: 2, cached: 1 }] });
  expect(usage.costUsd).toBeCloseTo(0.02, 6);
  expect(usage.days).toEqual([{ day: today, costUsd: expect.closeTo(0.02, 6), providers: [expect.objectContaining({ provider: 'co', calls: 3, hits: 2, cached: 1 })] }]);
  // The default range is the last 7 days, today included.
  const week = (await (await api.call('/v1/usage', { key: keyB })).json()) as Record<string, any>;
  expect(week.days).toHaveLength(7);
  expect(week.to).toBe(today);
  expect(week.byProvider).toEqual([expect.objectContaining({ calls: 1, hits: 1 })]);
  for (const q of ['from=2026-12-10&to=2026-12-01', 'from=2026-01-01&to=2026-12-01', 'from=12/01/2026', 'day=2026-12-01']) {
    expect((await problem(await api.call(`/v1/usage?${q}`, { key: keyA }), 400)).code).toBe(ErrorCodes.INPUT_INVALID);
  }
});

test('DELETE /v1/companies/:domain forgets the company: its record goes, and it is refused from then on (451)', async () => {
  expect((await api.call('/v1/enrich', { key: keyA, body: { domain: 'forget-me.com' } })).status).toBe(200);
  expect(await api.app.store.models.Company.countDocuments({ workspace: 'WA' })).toBeGreaterThan(0);
  const before = await api.app.store.models.Company.countDocuments({ workspace: 'WA' });
  const res = await api.call('/v1/companies/www.forget-me.com', { key: keyA, method: 'DELETE' });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ forgotten: 'forget-me.com', removed: { companies: 1 } });
  expect(await api.app.store.models.Company.countDocuments({ workspace: 'WA' })).toBe(before - 1);
  expect((await problem(await api.call('/v1/enrich', { key: keyA, body: { domain: 'forget-me.com' } }), 451)).code).toBe(ErrorCodes.IDENTITY_FORGOTTEN);
  // Only in the key's workspace.
  expect((await api.call('/v1/enrich', { key: keyB, body: { domain: 'forget-me.com' } })).status).toBe(200);
});

test('DELETE /v1/people/:identifier takes an email or a LinkedIn profile, and refuses an identifier of another kind', async () => {
  const email = await api.call(`/v1/people/${encodeURIComponent('Jane@Forget-Acme.com')}`, { key: keyA, method: 'DELETE' });
  expect(email.status).toBe(200);
  expect(await email.json()).toMatchObject({ forgotten: 'jane@forget-acme.com', removed: { people: 0 } });
  expect((await api.call(`/v1/people/${encodeURIComponent('https://www.linkedin.com/in/jane-forget')}`, { key: keyA, method: 'DELETE' })).status).toBe(200);
  expect((await problem(await api.call('/v1/enrich', { key: keyA, body: { email: 'jane@forget-acme.com' } }), 451)).code).toBe(ErrorCodes.IDENTITY_FORGOTTEN);
  for (const bad of ['forget-acme.com', encodeURIComponent('https://www.linkedin.com/company/acme')]) {
    expect((await problem(await api.call(`/v1/people/${bad}`, { key: keyA, method: 'DELETE' }), 400)).errors![0].path).toBe('identifier');
  }
  await problem(await api.call('/v1/companies/not%20a%20domain', { key: keyA, method: 'DELETE' }), 400);
});
