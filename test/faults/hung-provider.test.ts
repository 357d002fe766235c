// Issue 22, failure test: a paid provider that takes requests and then hangs without answering
// for 30 s. Its time limit (providers.hang.timeoutMs, shortened by config to 400 ms) trips on
// each attempt, our side closes the connection, and the waterfall goes on to the next paid
// provider, which answers. Nothing is lost or billed twice: the hung calls are not billed (the
// fake bills only what it answers, and it never answered them), the ledger says exactly what
// the fakes billed, the spend reservations of the hung calls are given back, and every job ends.
import { startFakeServer, type FakeServer, type RecordedRequest } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData, type TestApp } from '../support/test-app.js';
import { Invoice, readBooks } from '../support/books.js';
import type { JobResult } from '../../src/engine/types.js';

const HANG_MS = 30_000;
const TIMEOUT_MS = 400;
const MAX_RETRIES = 1;
const HANG_USD = 0.05;
const BACKUP_USD = 0.02;

let fake: FakeServer;
let app: TestApp;
const invoice = new Invoice();

const domainOf = (req: RecordedRequest) => (req.json as { domain: string }).domain;
const requestsTo = (id: string) => fake.requests.filter((r) => r.path === `/${id}`);
const outcomeOf = (r: JobResult, provider: string) => r.outcomes.find((o) => o.provider === provider);

beforeAll(async () => {
  fake = await startFakeServer({
    // Would answer (and bill) after 30 s; the fake is closed before, so it never does.
    'POST /hang': (req) => ({ delayMs: HANG_MS, json: { found: true, fields: { 'company.name': `Hung ${domainOf(req)}` }, confidence: 0.9 }, onAnswer: () => invoice.bill({ provider: 'hang', subject: domainOf(req), usd: HANG_USD }) }),
    'POST /backup': (req) => ({ delayMs: 20, json: { found: true, fields: { 'company.name': `Backup ${domainOf(req)}` }, confidence: 0.9 }, onAnswer: () => invoice.bill({ provider: 'backup', subject: domainOf(req), usd: BACKUP_USD }) }),
  });
  const providers = {
    hang: httpProvider({ id: 'hang', returns: ['company.name'], needs: [['domain']], usd: HANG_USD }),
    backup: httpProvider({ id: 'backup', returns: ['company.name'], needs: [['domain']], usd: BACKUP_USD }),
  };
  app = await startTestApp({
    file: 'faults-hung-provider',
    plugins: providers,
    overrides: {
      plugins: { providers: Object.keys(providers) },
      providers: { hang: { baseUrl: fake.url, timeoutMs: TIMEOUT_MS }, backup: { baseUrl: fake.url } },
      waterfalls: { companyProfile: ['hang', 'backup'] },
      resilience: { maxRetries: MAX_RETRIES, backoffBaseMs: 20 },
      queue: { concurrency: 6 },
    },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close(); // drops the hung requests, unanswered
}, 60_000);

test('a provider that hangs for 30 s: its time limit trips on each attempt, the waterfall goes on, and the hung calls cost nothing', async () => {
  const r = await app.enrichAndWait({ workspace: 'w', input: 'hung-first.com', groups: ['companyProfile'] }, 20_000);

  expect(r.status).toBe('done');
  expect(r.company?.fields.name).toMatchObject({ value: 'Backup hung-first.com', provider: 'backup' });
  expect(outcomeOf(r, 'hang')).toMatchObject({ outcome: 'timeout', costUsd: 0 });
  expect(outcomeOf(r, 'hang')?.reason).toContain(`${TIMEOUT_MS} ms`);
  expect(outcomeOf(r, 'backup')).toMatchObject({ outcome: 'matched', costUsd: BACKUP_USD });
  // One request per attempt, each given up by our side (the connection closed) while the fake still held it.
  const hung = requestsTo('hang');
  expect(hung).toHaveLength(1 + MAX_RETRIES);
  expect(hung.map((q) => [q.clientClosedAt !== undefined, q.answeredAt])).toEqual(hung.map(() => [true, undefined]));
  expect(requestsTo('backup')).toHaveLength(1);
  const rows = await app.store.models.Ledger.find({ jobId: r.jobId }).lean();
  expect(rows.map((row) => [row.provider, row.outcome, row.attempts, row.costUsd, row.charged]).sort()).toEqual([
    ['backup', 'matched', 1, BACKUP_USD, true],
    ['hang', 'timeout', 1 + MAX_RETRIES, 0, false],
  ]);
}, 30_000);

test('six jobs at once against the hung provider: each finishes from the next provider, and invoice = ledger = spend counters = `enrichbot spend`', async () => {
  const domains = Array.from({ length: 6 }, (_, i) => `hung-${i}.com`);
  const results = await Promise.all(domains.map((d) => app.enrichAndWait({ workspace: 'w', input: d, groups: ['companyProfile'] }, 20_000)));

  expect(results.map((r) => [r.status, r.company?.fields.name?.value])).toEqual(domains.map((d) => ['done', `Backup ${d}`]));
  // After enough time-outs in a row the breaker opens and the hung provider is not even asked; either way it is no answer.
  expect(results.map((r) => ['timeout', 'circuit_open'].includes(outcomeOf(r, 'hang')?.outcome ?? ''))).toEqual(domains.map(() => true));
  // Every request the hung provider took is one its caller gave up on, and is in the ledger as an attempt.
  const hung = requestsTo('hang');
  expect(hung.filter((q) => q.clientClosedAt === undefined || q.answeredAt !== undefined)).toEqual([]);
  const { Ledger } = app.store.models;
  const hangRows = await Ledger.find({ provider: 'hang' }).lean();
  expect(hangRows.reduce((s, row) => s + (row.attempts ?? 0), 0)).toBe(hung.length);
  expect(hangRows.filter((row) => row.charged || row.costUsd !== 0)).toEqual([]);
  // Each input billed once, by the provider that answered; nothing pending, nothing lost.
  expect(invoice.lines.map((l) => `${l.provider} ${l.subject}`).sort()).toEqual(['hung-first.com', ...domains].map((d) => `backup ${d}`).sort());
  expect(await Ledger.countDocuments({ outcome: { $in: ['pending', 'lost'] } })).toBe(0);
  const books = await readBooks(app, invoice.micros());
  const x = invoice.micros();
  expect(books).toEqual({ invoice: x, ledger: x, counters: x, spendTotal: x, spendLines: x, pending: 0, days: books.days });
}, 60_000);
