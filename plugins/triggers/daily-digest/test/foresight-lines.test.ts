// The digest's spend-foresight lines computed from stored facts on the real MongoDB-wire server:
// provider balances with days left at the last 7 days' rate, estimate vs actual for the batches
// finished that day, and cost per deliverable email (valid, not at a catch-all domain) by
// provider, then rendered by buildDigest.
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { buildDigest } from '../digest.js';

const DAY = '2026-03-01';
let app: Awaited<ReturnType<typeof startTestApp>>;

const ledger = (provider: string, costUsd: number, day = DAY, outcome = 'matched') => ({ workspace: 'T1', provider, outcome, costUsd, charged: costUsd > 0, day, at: new Date(`${day}T10:00:00Z`) });
const field = (value: unknown, provider: string, fetchedAt: string) => ({ value, provider, fetchedAt: new Date(fetchedAt), confidence: 0.9 });
const batch = (id: string, finishedAt: string, costUsd: number, estimate?: object) => ({
  _id: id, workspace: 'T1', label: `${id}.csv`, replyTo: { trigger: 'cli', address: {} }, total: 10, state: 'done', costUsd, finishedAt: new Date(finishedAt), expireAt: new Date('2027-01-01T00:00:00Z'), ...(estimate ? { estimate } : {}),
});

beforeAll(async () => {
  app = await startTestApp({ file: 'digest-foresight', role: 'web', plugins: {}, overrides: { plugins: { providers: [], triggers: [] } } });
  const { Ledger, Setting, Batch, Person, Company } = app.store.models;
  await Setting.insertMany([
    { _id: 'provider-balance:prospeo', value: JSON.stringify({ provider: 'prospeo', status: 'ok', credits: 1000, usdPerCredit: 0.01, usd: 10, at: `${DAY}T06:00:00Z`, floor: 2000 }) },
    { _id: 'provider-balance:leadmagic', value: JSON.stringify({ provider: 'leadmagic', status: 'ok', credits: 50, at: `${DAY}T06:00:00Z` }) },
    { _id: 'provider-balance:findymail', value: JSON.stringify({ provider: 'findymail', status: 'error', note: 'HTTP 500' }) },
    { _id: 'privacy-salt', value: 'not a balance' },
  ]);
  await Ledger.create([
    // prospeo: $2 today in 4 paid calls and a free miss, $12 three days before, $100 outside the 7 days.
    ...[1, 2, 3, 4].map(() => ledger('prospeo', 0.5)),
    ledger('prospeo', 0, DAY, 'no_match'),
    ledger('prospeo', 12, '2026-02-26'),
    ledger('prospeo', 100, '2026-02-22'),
    ledger('apollo', 0.3),
  ]);
  await Batch.insertMany([
    batch('bat_kept', `${DAY}T12:00:00Z`, 2, { expectedUsd: 1, worstUsd: 3, rows: 10 }),
    batch('bat_none', `${DAY}T13:00:00Z`, 1),
    batch('bat_yesterday', '2026-02-28T12:00:00Z', 5, { expectedUsd: 4, worstUsd: 6, rows: 10 }),
  ] as never);
  await Company.create([
    { workspace: 'T1', key: 'company:ok.com', fields: { domain: field('ok.com', 'prospeo', `${DAY}T10:00:00Z`) } },
    { workspace: 'T1', key: 'company:catch.com', fields: { domain: field('catch.com', 'prospeo', `${DAY}T10:00:00Z`), emailCatchAll: field(true, 'prospeo', `${DAY}T10:00:00Z`) } },
  ]);
  const person = (key: string, email: string, status: string, fetchedAt: string, companyKey: string) => ({
    workspace: 'T1', key, companyKey, enrichedDay: DAY, enrichedAt: new Date(`${DAY}T10:00:00Z`),
    fields: { workEmail: field(email, 'prospeo', fetchedAt), workEmailStatus: field(status, 'verifier', fetchedAt) },
  });
  await Person.create([
    person('p1', 'a@ok.com', 'valid', `${DAY}T10:00:00Z`, 'company:ok.com'),
    person('p2', 'b@catch.com', 'valid', `${DAY}T10:00:00Z`, 'company:catch.com'),
    person('p3', 'c@ok.com', 'invalid', `${DAY}T10:00:00Z`, 'company:ok.com'),
    person('p4', 'd@ok.com', 'valid', '2026-02-20T10:00:00Z', 'company:ok.com'),
  ]);
}, 120_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
});

test('each read balance shows its days left at the last 7 days\' spend rate; one without a USD value says it cannot tell', async () => {
  const r = await app.service.dailyReport(DAY);
  expect(r.balances).toEqual([
    { provider: 'leadmagic', credits: 50, usd: null, perDayUsd: 0, daysLeft: null, at: `${DAY}T06:00:00Z`, low: false },
    // $14 over 7 days = $2/day; $10 left = 5 days. 1,000 credits is under its floor of 2,000.
    { provider: 'prospeo', credits: 1000, usd: 10, perDayUsd: 2, daysLeft: 5, at: `${DAY}T06:00:00Z`, low: true },
  ]);
  const plain = buildDigest(r, { waiting: 0, active: 0, delayed: 0, failed: 0, succeeded: 0 }).plain;
  expect(plain).toContain('prospeo: 1,000 credits ($10.00) · about 5 days left at $2.00/day (last 7 days) · LOW: under its floor');
  expect(plain).toContain('leadmagic: 50 credits · days left unknown (no price per credit)');
});

test('batches finished that day with an estimate show expected and worst case vs actual; others are left out', async () => {
  const r = await app.service.dailyReport(DAY);
  expect(r.batchEstimates).toEqual({ count: 1, batches: [{ batchId: 'bat_kept', workspace: 'T1', label: 'bat_kept.csv', expectedUsd: 1, worstUsd: 3, actualUsd: 2 }] });
  const plain = buildDigest(r, { waiting: 0, active: 0, delayed: 0, failed: 0, succeeded: 0 }).plain;
  expect(plain).toContain('T1 · bat_kept.csv: expected $1.00, at most $3.00 · actual $2.00');
});

test('cost per deliverable email counts paid calls over emails found that day that are valid and not at a catch-all domain', async () => {
  const r = await app.service.dailyReport(DAY);
  expect(r.deliverableEmails).toEqual([
    { provider: 'apollo', paidCalls: 1, costUsd: 0.3, deliverable: 0, costPerDeliverableUsd: null },
    // 4 paid calls ($2); of its 4 emails only a@ok.com is deliverable (catch-all, invalid and an older email left out).
    { provider: 'prospeo', paidCalls: 4, costUsd: 2, deliverable: 1, costPerDeliverableUsd: 2 },
  ]);
  const plain = buildDigest(r, { waiting: 0, active: 0, delayed: 0, failed: 0, succeeded: 0 }).plain;
  expect(plain).toContain('prospeo: $2.00 ($2.00 on 4 paid calls, 1 deliverable)');
  expect(plain).toContain('apollo: none deliverable ($0.3000 on 1 paid call)');
});
