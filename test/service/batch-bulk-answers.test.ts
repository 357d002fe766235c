// A job asked for by many rows of a batch answers them in bulk: one claim round trip, one write
// for the rows that joined it, counts and progress once, so the tail of a batch (every job done,
// rows still to answer) costs milliseconds per row, not a database update, a Redis write and a
// progress check each (issue 27: a 1,000-row CSV naming a few identities took minutes).
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { BatchResultRow } from '../../src/plugin/service.js';

let fake: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
let openGate: () => void = () => undefined;
let gate = Promise.resolve();
const USD = 0.01;

beforeAll(async () => {
  // The provider holds its answers until every row is queued: each job then answers its 250 rows at once.
  fake = await startFakeServer({
    'POST /co': async (req) => {
      await gate;
      return { json: { found: true, fields: { 'company.name': `Name of ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } };
    },
  });
  // The store's client has command monitoring on: the test counts the writes to batch_items.
  app = await startTestApp({
    file: 'batch-bulk-answers',
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: USD }) },
    overrides: { plugins: { providers: ['co'] }, providers: { co: { baseUrl: fake.url, apiKey: 'k', timeoutMs: 180_000 } }, waterfalls: { companyProfile: ['co'] }, queue: { concurrency: 20 } },
  });
}, 120_000);
afterAll(async () => {
  openGate();
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
}, 60_000);

test('a 1,000-row batch naming 4 identities: each job answers its rows with a few database writes, and the batch ends soon after the last job', async () => {
  const writes: string[] = [];
  const client = app.store.connection.getClient();
  const listener = (e: { commandName: string; command: Record<string, unknown> }) => {
    if ((e.commandName === 'update' || e.commandName === 'findAndModify') && e.command[e.commandName] === 'batch_items') writes.push(e.commandName);
  };
  client.on('commandStarted', listener as never);
  try {
    gate = new Promise<void>((r) => (openGate = r));
    const domains = Array.from({ length: 1000 }, (_, i) => `bulk${i % 4}.com`);
    const { batchId, accepted } = await app.service.submitBatch(domains.map((d) => ({ input: d })), { trigger: 'cli', address: {} }, { workspace: 'W' });
    expect(accepted).toBe(1000);
    const { Batch, Job } = app.store.models;
    for (let i = 0; i < 1200 && (await Batch.findById(batchId, { queueing: 1 }).lean())?.queueing; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await Batch.findById(batchId, { queueing: 1 }).lean())?.queueing).toBe(false);
    openGate();
    const final = await app.service.waitForBatch(batchId, 120_000);
    expect(final.state).toBe('done');
    expect(final.counts).toMatchObject({ done: 1000, queued: 0 });
    expect(final.costUsd).toBeCloseTo(4 * USD, 6);

    const rows: BatchResultRow[] = [];
    for await (const row of app.service.results(batchId)) rows.push(row);
    expect(rows.filter((r) => r.status !== 'done' || r.result?.company?.fields.name?.value !== `Name of ${domains[r.index]}`).map((r) => r.index)).toEqual([]);

    // One run per identity, each answering its 250 rows: a write for the row that started it and
    // one per 50 of the 249 that joined (not one or two per row): 6 per job.
    const jobs = await Job.find({ _id: { $in: [...new Set(rows.map((r) => r.jobId!))] } }, { run: 1, finishedAt: 1 }).lean();
    expect(jobs.map((j) => j.run)).toEqual([1, 1, 1, 1]);
    expect(writes.length).toBeLessThanOrEqual(6 * jobs.length);
    // From the last job done to the batch's end: the bound, generous for a loaded machine.
    const lastJob = Math.max(...jobs.map((j) => new Date(j.finishedAt!).getTime()));
    expect(new Date(final.finishedAt!).getTime() - lastJob).toBeLessThan(5000);
  } finally {
    client.off('commandStarted', listener as never);
  }
}, 240_000);
