// Issue 22, failure test: two worker processes and a 500-row batch against a paid fake provider
// (answers in 50-300 ms, 2 % HTTP 503, both fixed per row and attempt by a seed), submitted by
// the real CLI. Once the victim has had its first KILL_AFTER answers, the fake holds its next
// calls until every one of its slots waits on one, then SIGKILLs it: it dies mid-call in each
// slot, and the fake answers (and bills) those calls to a dead socket. The survivor finishes the
// batch. Every row is answered once, in input order, and the invoice (the calls the fake
// billed) equals the cost ledger, the spend counters and what `enrichbot spend` reports.
import { once } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeReply, type FakeServer, type RecordedRequest } from '../support/fake-http.js';
import { startTestApp, dropTestData, type TestApp } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import { runCliBatch, expectBatchFinished, survivorOptions } from '../support/cli-batch.js';
import { drawFor } from '../support/seeded-random.js';
import { Invoice, readBooks } from '../support/books.js';

const SEED = 2201;
const ROWS = 500; // the size
const USD = 0.01;
const CONCURRENCY = 10;
const KILL_AFTER = 120;
const SERVER_ERROR_RATE = 0.02;

let fake: FakeServer;
let client: TestApp;
const workers: ChildProcessWithoutNullStreams[] = [];
const invoice = new Invoice();
let victim: ChildProcessWithoutNullStreams | undefined;

/** The victim's calls held once the kill is armed, each released (answered and billed) after it died. */
const held: { req: RecordedRequest; release: () => void }[] = [];
let armed = false;
let victimAnswers = 0;
let serverErrors = 0;
/** How many held calls were still open (the victim waiting on them) when it was killed. */
let openAtKill = -1;
const attempts = new Map<string, number>();

async function killVictim(): Promise<void> {
  openAtKill = held.filter((h) => h.req.clientClosedAt === undefined).length;
  victim!.kill('SIGKILL');
  await once(victim!, 'exit');
  for (const h of held.splice(0)) h.release();
}

async function paid(req: RecordedRequest): Promise<FakeReply> {
  const domain = (req.json as { domain: string }).domain;
  const by = String(req.headers['x-key']);
  const attempt = (attempts.get(domain) ?? 0) + 1;
  attempts.set(domain, attempt);
  const found = { json: { found: true, fields: { 'company.name': `Co ${domain}` }, confidence: 0.9 } };
  const bill = () => invoice.bill({ provider: 'paid', subject: domain, usd: USD, by });
  if (by === 'victim' && armed) {
    await new Promise<void>((release) => {
      held.push({ req, release });
      if (held.length === CONCURRENCY) void killVictim();
    });
    return { ...found, onAnswer: bill };
  }
  // An overloaded provider's 503 comes at once and bills nothing.
  if (drawFor(SEED, `503 ${domain}#${attempt}`) < SERVER_ERROR_RATE) {
    serverErrors++;
    return { status: 503, json: { error: 'overloaded, try again' } };
  }
  return {
    ...found,
    delayMs: 50 + Math.floor(drawFor(SEED, `latency ${domain}#${attempt}`) * 250),
    onAnswer: () => {
      bill();
      if (by === 'victim' && ++victimAnswers === KILL_AFTER) armed = true;
    },
  };
}

beforeAll(async () => {
  assertDistIsFresh();
  fake = await startFakeServer({ 'POST /paid': paid });
  client = await startTestApp({ file: 'faults-worker-killed', role: 'client' });
}, 60_000);
afterAll(async () => {
  for (const h of held.splice(0)) h.release();
  await Promise.all(workers.map(stopWorker));
  await client?.stop();
  if (client) await dropTestData(client.names);
  await fake?.close();
}, 60_000);

async function startWorker(apiKey: string, extra: Record<string, unknown> = {}): Promise<ChildProcessWithoutNullStreams> {
  const w = await spawnWorker({ mongodbUrl: client.names.mongodbUrl, redisUrl: client.names.redisUrl, prefix: client.names.prefix, provider: 'paid', baseUrl: fake.url, usd: USD, apiKey, concurrency: CONCURRENCY, ...extra });
  workers.push(w);
  return w;
}

test(`a worker SIGKILLed mid-call in a ${ROWS}-row batch (seed ${SEED}): every row answered once in input order, and invoice = ledger = spend counters = \`enrichbot spend\``, async () => {
  [victim] = await Promise.all([startWorker('victim'), startWorker('survivor', survivorOptions)]);
  const run = await runCliBatch(client, { workspace: 'KILL', rows: ROWS, timeoutS: 150 });

  // The victim died by SIGKILL, in a call in every one of its slots.
  expect(victim.signalCode).toBe('SIGKILL');
  expect(openAtKill).toBe(CONCURRENCY);
  expect(serverErrors).toBeGreaterThan(0); // the retry path ran
  await expectBatchFinished(client, run);

  // The fake billed every row once, and the calls the victim died in once more.
  const billedPerRow = new Map<string, number>();
  for (const l of invoice.lines) billedPerRow.set(l.subject, (billedPerRow.get(l.subject) ?? 0) + 1);
  expect([...billedPerRow.keys()].sort()).toEqual([...run.domains].sort());
  expect(invoice.count()).toBe(ROWS + CONCURRENCY);
  expect([...billedPerRow.values()].filter((n) => n === 2)).toHaveLength(CONCURRENCY);

  // The ledger has one charged row per billed call: the calls lost with the victim at their reserved price.
  const { Ledger } = client.store.models;
  expect(await Ledger.countDocuments({ charged: true })).toBe(invoice.count());
  expect(await Ledger.countDocuments({ outcome: 'lost' })).toBe(CONCURRENCY);
  const books = await readBooks(client, invoice.micros());
  const x = invoice.micros();
  expect(books).toEqual({ invoice: x, ledger: x, counters: x, spendTotal: x, spendLines: x, pending: 0, days: books.days });
}, 180_000);
