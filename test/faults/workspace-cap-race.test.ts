// Issue 22, failure test: six worker processes race for one workspace's daily spend cap. The
// provider holds every call until all the calls the cap allows are in flight at once, so no job
// can finish mid-race: the cap is decided by the reservations alone, while the refused jobs
// pause. Spend passes the cap by at most one call's price (with honest prices: not at all); the
// jobs past it end `paused` until the next UTC midnight, and the workers' sweepers resume them
// once the day turns, paying each lookup once. Time is injected: every process (this one and
// the children, through the fixture's `clockMs` and setWorkerClock) runs on a ManualClock.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeServer, type FakeServer, type RecordedRequest } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData, type TestApp } from '../support/test-app.js';
import { assertDistIsFresh, setWorkerClock, spawnWorker, stopWorker } from '../support/worker-child.js';
import { jobsSettled, until } from '../support/wait.js';
import { Invoice, micros, readBooks } from '../support/books.js';
import { ManualClock, nextUtcMidnight, utcDay } from '../../src/clock.js';
import type { JobResult } from '../../src/engine/types.js';

const WORKERS = 6;
const CONCURRENCY = 5; // 30 slots racing for 20 calls
const PRICE = 0.01;
const CAP = 0.2;
const ALLOWED = Math.round(CAP / PRICE);
const JOBS = 36; // what the cap refuses on day 1 fits in day 2's cap
const WORKSPACE = 'racers';
const DAY1 = Date.UTC(2031, 2, 14, 12, 0);
const DAY2 = nextUtcMidnight(new Date(DAY1)).getTime() + 60_000;
/** A gate that never fills (a cap refusing too early) is given up after this, and the test fails on maxInFlight. */
const GATE_GIVE_UP_MS = 20_000;

let fake: FakeServer;
let app: TestApp;
const clock = new ManualClock(DAY1);
const children: ChildProcessWithoutNullStreams[] = [];
const invoice = new Invoice();

/** Calls are held until `gateAt` of them are in flight at once; then the gate stays open until re-armed. */
let gateAt = ALLOWED;
let openGate: () => void = () => undefined;
let gate = Promise.resolve();
let inFlight = 0;
let maxInFlight = 0;
function armGate(at: number): void {
  gateAt = at;
  maxInFlight = 0;
  gate = new Promise<void>((r) => (openGate = r));
}

async function paid(req: RecordedRequest) {
  const domain = (req.json as { domain: string }).domain;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  if (inFlight >= gateAt) openGate();
  await Promise.race([gate, new Promise((r) => setTimeout(r, GATE_GIVE_UP_MS).unref())]);
  inFlight--;
  return {
    delayMs: 20,
    json: { found: true, fields: { 'company.name': `Co ${domain}` }, confidence: 0.9 },
    onAnswer: () => invoice.bill({ provider: 'paid', subject: domain, usd: PRICE, by: String(req.headers['x-key']) }),
  };
}

beforeAll(async () => {
  assertDistIsFresh();
  armGate(ALLOWED);
  fake = await startFakeServer({ 'POST /paid': paid });
  // This process only enqueues (and reads the books); its clock dates the jobs like the workers'.
  app = await startTestApp({
    file: 'faults-workspace-cap-race',
    role: 'web',
    clock,
    plugins: { paid: httpProvider({ id: 'paid', returns: ['company.name'], needs: [['domain']], usd: PRICE }) },
    overrides: { plugins: { providers: ['paid'] }, providers: { paid: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['paid'] } },
  });
  const common = {
    mongodbUrl: app.names.mongodbUrl,
    redisUrl: app.names.redisUrl,
    prefix: app.names.prefix,
    provider: 'paid',
    baseUrl: fake.url,
    usd: PRICE,
    concurrency: CONCURRENCY,
    spendCaps: { workspaces: { [WORKSPACE]: CAP } },
    clockMs: DAY1,
    // Sweeps often, so paused jobs resume soon after the day turns. Open jobs' updatedAt is the
    // database's real time, years before the injected clock: the lost-job requeue is kept out.
    sweeper: { intervalMs: 500, requeueAfterMs: 3650 * 86400_000 },
  };
  children.push(...(await Promise.all(Array.from({ length: WORKERS }, (_, i) => spawnWorker({ ...common, apiKey: `child-${i}` })))));
}, 120_000);

afterAll(async () => {
  openGate();
  await Promise.all(children.map(stopWorker));
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
}, 60_000);

const jobs = () => app.store.models.Job.find({ workspace: WORKSPACE }, { status: 1, run: 1, resumeAt: 1, result: 1, display: 1 }).lean();
const tally = (values: string[]) => values.reduce<Record<string, number>>((t, v) => ({ ...t, [v]: (t[v] ?? 0) + 1 }), {});
const billedBy = () => new Set(invoice.lines.map((l) => l.by));

test(`${WORKERS} worker processes racing one workspace cap: spend stops at the cap, the jobs past it pause, and resume once the day turns`, async () => {
  const domains = Array.from({ length: JOBS }, (_, i) => `race-${i}.com`);
  await Promise.all(domains.map((input) => app.enqueue({ workspace: WORKSPACE, input, groups: ['companyProfile'] })));
  await jobsSettled(app.store.models, 90_000);

  // Day 1: every call the cap allows was in flight at once, and the cap refused the rest meanwhile.
  expect(maxInFlight).toBe(ALLOWED);
  expect(billedBy().size).toBeGreaterThanOrEqual(3);
  const day1 = await jobs();
  const paused = day1.filter((j) => j.status === 'paused');
  expect(tally(day1.map((j) => j.status))).toEqual({ done: ALLOWED, paused: JOBS - ALLOWED });
  expect(paused.map((j) => j.resumeAt?.toISOString())).toEqual(paused.map(() => nextUtcMidnight(new Date(DAY1)).toISOString()));
  expect(paused.map((j) => (j.result as JobResult).outcomes.map((o) => o.outcome))).toEqual(paused.map(() => ['cap_reached']));
  // Overshoot at most one call's price (the bound); with honest prices, none.
  const books1 = await readBooks(app, invoice.micros(), { workspace: WORKSPACE, days: [utcDay(new Date(DAY1))] });
  expect(books1.ledger).toBeLessThanOrEqual(micros(CAP + PRICE));
  const x1 = micros(CAP);
  expect(books1).toEqual({ invoice: x1, ledger: x1, counters: x1, spendTotal: x1, spendLines: x1, pending: 0, days: books1.days });

  // The day turns in every process at once: no sweep runs while the clocks move (the sweep lease is held here).
  const sweepLease = await until('the sweep lease', () => app.leases.acquire('sweep', 30_000));
  try {
    armGate(JOBS - ALLOWED);
    clock.set(DAY2);
    await Promise.all(children.map((c) => setWorkerClock(c, DAY2)));
  } finally {
    await sweepLease.release();
  }
  await until('the paused jobs to resume and finish', async () => (await jobs()).every((j) => j.status === 'done'), 90_000);
  expect(tally((await jobs()).map((j) => j.status))).toEqual({ done: JOBS });

  // Day 2: each paused job ran once more and paid its lookup then; nothing was paid twice.
  const day2 = await jobs();
  const resumed = new Set(paused.map((j) => String(j._id)));
  expect(day2.map((j) => [j.display, j.run])).toEqual(day2.map((j) => [j.display, resumed.has(String(j._id)) ? 2 : 1]));
  expect(invoice.lines.map((l) => l.subject).sort()).toEqual([...domains].sort());
  expect(maxInFlight).toBe(JOBS - ALLOWED);
  const day2Rows = await app.store.models.Ledger.find({ workspace: WORKSPACE, day: utcDay(new Date(DAY2)) }, { jobId: 1 }).lean();
  expect(day2Rows.map((r) => r.jobId).sort()).toEqual([...resumed].sort());
  const x2 = micros(PRICE * (JOBS - ALLOWED));
  const books2 = await readBooks(app, invoice.micros() - x1, { workspace: WORKSPACE, days: [utcDay(new Date(DAY2))] });
  expect(books2).toEqual({ invoice: x2, ledger: x2, counters: x2, spendTotal: x2, spendLines: x2, pending: 0, days: books2.days });
}, 240_000);
