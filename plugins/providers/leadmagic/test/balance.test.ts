// Credit balances from the providers' own account endpoints, against local fakes in their
// documented wire format: LeadMagic's GET /v1/credits and Prospeo's POST /account-information
// are read and stored; a provider with no such endpoint says so; a balance under its floor
// alerts once a day, however often it is read.
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import leadmagic from '../index.js';
import prospeo from '../../prospeo/index.js';
import findymail from '../../findymail/index.js';
import { ManualClock } from '../../../../src/clock.js';
import type { App } from '../../../../src/app.js';

let fake: FakeServer;
let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
let leadmagicCredits = 40;
const clock = new ManualClock(Date.UTC(2031, 2, 3, 9, 0));

beforeAll(async () => {
  fake = await startFakeServer({
    'GET /v1/credits': () => ({ json: { credits: leadmagicCredits } }),
    'POST /account-information': () => ({
      json: { error: false, response: { current_plan: 'STARTER', remaining_credits: 999, used_credits: 1, next_quota_renewal_days: 25, next_quota_renewal_date: '2031-03-28 20:52:28+00:00' } },
    }),
  });
  app = await startTestApp({
    file: 'provider-balances',
    clock,
    plugins: { leadmagic, prospeo, findymail },
    overrides: {
      plugins: { providers: ['leadmagic', 'prospeo', 'findymail'] },
      providers: {
        leadmagic: { baseUrl: fake.url, apiKey: 'lm-key', balanceFloor: 100, usdPerCredit: 0.024 },
        prospeo: { baseUrl: fake.url, apiKey: 'pr-key', balanceFloor: 100 },
        findymail: { baseUrl: fake.url, apiKey: 'fm-key' },
      },
      waterfalls: { workEmail: ['leadmagic', 'prospeo', 'findymail'] },
      // The schedule stays out of the way (its last occurrence is far older than the grace): reads happen when the test says.
      providerBalances: { cron: '0 0 1 1 *' },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake.close();
});

test('balances are read from the documented endpoints with each key, stored, and a provider without one says so', async () => {
  const { rows } = await app.refreshBalances();
  expect(rows).toEqual([
    expect.objectContaining({ provider: 'leadmagic', status: 'ok', credits: 40, usdPerCredit: 0.024, usd: 0.96, floor: 100 }),
    expect.objectContaining({ provider: 'prospeo', status: 'ok', credits: 999, plan: 'STARTER', renewsAt: '2031-03-28T20:52:28.000Z' }),
    expect.objectContaining({ provider: 'findymail', status: 'none', note: expect.stringContaining('no free account endpoint') }),
  ]);
  const lm = fake.requests.find((r) => r.path === '/v1/credits')!;
  expect(lm.method).toBe('GET');
  expect(lm.headers['x-api-key']).toBe('lm-key');
  const pr = fake.requests.find((r) => r.path === '/account-information')!;
  expect(pr.method).toBe('POST');
  expect(pr.headers['x-key']).toBe('pr-key');
  // Stored: `enrichbot credits` shows the last read without asking the providers again.
  const before = fake.requests.length;
  expect((await app.balances()).map((r) => [r.provider, r.status, r.credits])).toEqual([['leadmagic', 'ok', 40], ['prospeo', 'ok', 999], ['findymail', 'none', undefined]]);
  expect(fake.requests.length).toBe(before);
});

test('a balance under its floor alerts once a day per provider, however often it is read', async () => {
  await app.redis.del(`${app.names.prefix}:balance-alert:leadmagic`);
  expect((await app.refreshBalances()).alerted).toEqual(['leadmagic']);
  expect((await app.refreshBalances()).alerted).toEqual([]);
  leadmagicCredits = 500; // topped up: nothing to say
  await app.redis.del(`${app.names.prefix}:balance-alert:leadmagic`); // a day later
  expect((await app.refreshBalances()).alerted).toEqual([]);
});
