// The EnrichService through the real App: validation, batches with bad rows, results in input
// order, pub/sub waits, manual corrections, forgetting, roles and what a trigger's context holds.
import { z } from 'zod';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { defineTrigger, type TriggerContext } from '../../src/plugin/contract.js';
import type { BatchStatus, BatchResultRow } from '../../src/plugin/service.js';
import type { JobResult, ReplyTo } from '../../src/engine/types.js';
import { ErrorCodes } from '../../src/errors.js';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';

let fake: FakeServer;
const delivered: { result: JobResult; replyTo: ReplyTo }[] = [];
const finishedBatches: BatchStatus[] = [];
let inboxCtx: TriggerContext | undefined;
const inbox = defineTrigger({
  kind: 'trigger',
  id: 'inbox',
  description: 'collects delivered results',
  configSchema: z.object({}).loose(),
  start(ctx) {
    // The plugin object is shared by every App a test starts: keep the main app's context.
    inboxCtx ??= ctx;
  },
  async deliver(result, replyTo) {
    delivered.push({ result, replyTo });
  },
  async deliverBatch(status) {
    finishedBatches.push(status);
  },
});
const webStarts: string[] = [];
const webOnly = defineTrigger({
  kind: 'trigger',
  id: 'web-only',
  description: 'a trigger that runs on the web role only',
  configSchema: z.object({}).loose(),
  roles: ['web'],
  start(ctx) {
    webStarts.push(ctx.role);
  },
});

/** The company name the fake answers for a domain, so rows can be checked one by one. */
const nameFor = (domain: string) => `Name of ${domain}`;
let companyName = nameFor;

let app: Awaited<ReturnType<typeof startTestApp>>;
const providers = () => ({ co: httpProvider({ id: 'co', returns: ['company.name', 'company.industry'], needs: [['domain']], usd: 0.01 }) });
const overrides = (fakeUrl: string) => ({
  plugins: { providers: ['co'], triggers: ['inbox', 'web-only'] },
  providers: { co: { baseUrl: fakeUrl, apiKey: 'co-secret-key-123' } },
  waterfalls: { companyProfile: ['co'] },
  queue: { concurrency: 20 },
  service: { batch: { progressIntervalMs: 200 } },
});

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /co': (req) => {
      const domain = (req.json as { domain: string }).domain;
      return { json: { found: true, fields: { 'company.name': companyName(domain), 'company.industry': 'Software' }, confidence: 0.9 } };
    },
  });
  app = await startTestApp({ file: 'enrich-service', plugins: { ...providers(), inbox, 'web-only': webOnly }, overrides: overrides(fake.url) });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});

test('submit refuses an unknown replyTo trigger and invalid input with their own codes, and queues nothing', async () => {
  const svc = inboxCtx!.service;
  await expect(svc.submit({ workspace: 'W', input: 'acme.com' }, { trigger: 'nope', address: {} })).rejects.toMatchObject({ code: ErrorCodes.TRIGGER_UNKNOWN });
  await expect(svc.submit({ workspace: 'W', input: {} }, { trigger: 'inbox', address: {} })).rejects.toMatchObject({ code: ErrorCodes.INPUT_INVALID });
  await expect(svc.submit({ workspace: 'bad workspace!', input: 'acme.com' }, { trigger: 'inbox', address: {} })).rejects.toMatchObject({ code: ErrorCodes.INPUT_INVALID });
  expect(await app.store.models.Job.countDocuments({})).toBe(0);
});

// 1,000 rows: the test is about reporting and order, and each row is a real job on FerretDB
// (2,000 took over 300 s on a loaded 2-core machine). Throughput is the bench's job.
test('a batch of 1,000 with 25 bad rows: bad rows reported by index, the rest done, results streamed in input order', async () => {
  const svc = inboxCtx!.service;
  const bad = new Set(Array.from({ length: 25 }, (_, i) => i * 40 + 7));
  const badShapes: unknown[] = ['', 12345, {}, { firstName: 'Only' }, 'x'.repeat(600)];
  const items = Array.from({ length: 1000 }, (_, i) =>
    bad.has(i) ? { input: badShapes[i % badShapes.length] as never, columns: { row: String(i) } } : { input: `co${i}-batch.com`, columns: { row: String(i) } },
  );
  const progress: BatchStatus[] = [];
  const submitted = await svc.submitBatch(items, { trigger: 'inbox', address: { channel: 'C1' } }, { workspace: 'W', label: 'big.csv', actor: 'tester' });
  const unsubscribe = await svc.onBatchProgress(submitted.batchId, (s) => progress.push(s));
  expect(submitted.total).toBe(1000);
  expect(submitted.accepted).toBe(975);
  expect(submitted.rejected.map((r) => r.index)).toEqual([...bad].sort((a, b) => a - b));
  expect(submitted.rejected.every((r) => r.code === ErrorCodes.INPUT_INVALID && r.reason.length > 10)).toBe(true);

  const final = await svc.waitForBatch(submitted.batchId, 240_000);
  await unsubscribe();
  expect(final.state).toBe('done');
  expect(final.counts).toMatchObject({ done: 975, rejected: 25, failed: 0, queued: 0 });
  expect(final.costUsd).toBeCloseTo(975 * 0.01, 6);
  // Progress events came by push, with counts that only grow.
  expect(progress.length).toBeGreaterThan(0);
  for (let i = 1; i < progress.length; i++) expect(progress[i].counts.done).toBeGreaterThanOrEqual(progress[i - 1].counts.done);
  // The trigger heard of the finished batch once.
  for (let i = 0; i < 50 && !finishedBatches.some((b) => b.batchId === submitted.batchId); i++) await new Promise((r) => setTimeout(r, 100));
  expect(finishedBatches.filter((b) => b.batchId === submitted.batchId)).toHaveLength(1);

  const rows: BatchResultRow[] = [];
  for await (const row of svc.results(submitted.batchId)) rows.push(row);
  expect(rows.map((r) => r.index)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  for (const row of rows) {
    expect(row.columns.row).toBe(String(row.index));
    if (bad.has(row.index)) {
      expect(row.status).toBe('rejected');
      expect(row.reason).toBeTruthy();
    } else {
      expect(row.status).toBe('done');
      expect(row.result?.company?.fields.name?.value).toBe(nameFor(`co${row.index}-batch.com`));
    }
  }
  // Another workspace cannot read it.
  await expect(svc.status(submitted.batchId, 'OTHER')).rejects.toMatchObject({ code: ErrorCodes.BATCH_NOT_FOUND });
}, 300_000);

test('batch counts survive Redis losing them: rebuilt from the items', async () => {
  const svc = inboxCtx!.service;
  const b = await svc.submitBatch([{ input: 'lost1-batch.com' }, { input: 'lost2-batch.com' }, { input: '' }], { trigger: 'inbox', address: {} }, { workspace: 'W' });
  await svc.waitForBatch(b.batchId, 30_000);
  const { Redis } = await import('ioredis');
  const r = new Redis(app.names.redisUrl);
  await r.del(`${app.names.prefix}:batch:${b.batchId}`);
  r.disconnect();
  const s = await svc.status(b.batchId);
  expect(s).toMatchObject({ kind: 'batch', state: 'done', total: 3, counts: { done: 2, rejected: 1 } });
});

test('waitFor wakes on the completion event: the waiting process reads the database once, not in a loop', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  companyName = (d) => nameFor(d);
  fake.on('POST /co', async (req) => {
    await gate;
    const domain = (req.json as { domain: string }).domain;
    return { json: { found: true, fields: { 'company.name': nameFor(domain) }, confidence: 0.9 } };
  });
  // A separate client process (like `enrichbot enrich --no-worker`) waits; the worker app does the job.
  const client = await startTestApp({ file: 'enrich-service', names: app.names, role: 'client', plugins: { ...providers(), inbox, 'web-only': webOnly }, overrides: overrides(fake.url) });
  try {
    const commands: string[] = [];
    const mongoClient = client.store.connection.getClient();
    const onCommand = (e: { commandName: string }) => commands.push(e.commandName);
    const { jobId } = await client.enqueue({ workspace: 'W', input: 'waiting-svc.com', replyTo: { trigger: 'inbox', address: {} } });
    mongoClient.on('commandStarted', onCommand);
    const waiting = client.service.waitFor(jobId, 30_000);
    // Hold the job open long enough that a poller (the old loop polled every 2 s) would have read again.
    await new Promise((r) => setTimeout(r, 2500));
    release();
    const result = await waiting;
    mongoClient.off('commandStarted', onCommand);
    expect(result.status).toBe('done');
    expect(result.company?.fields.name?.value).toBe(nameFor('waiting-svc.com'));
    expect(commands).toEqual(['find']);
  } finally {
    fake.on('POST /co', (req) => {
      const domain = (req.json as { domain: string }).domain;
      return { json: { found: true, fields: { 'company.name': companyName(domain), 'company.industry': 'Software' }, confidence: 0.9 } };
    });
    await client.stop();
  }
});

test('a manual correction survives a refresh whose provider answers differently, and only another correction replaces it', async () => {
  const svc = inboxCtx!.service;
  const first = await app.enrichAndWait({ workspace: 'W', input: 'corrected-svc.com' });
  expect(first.company?.fields.name?.value).toBe(nameFor('corrected-svc.com'));
  const view = await svc.correct({ workspace: 'W', subject: 'corrected-svc.com', field: 'company.name', value: 'Corrected Inc', by: 'U-ALICE' });
  expect(view.fields.name).toMatchObject({ value: 'Corrected Inc', provider: 'manual', by: 'U-ALICE' });

  companyName = () => 'Provider Says Otherwise';
  try {
    const again = await app.enrichAndWait({ workspace: 'W', input: 'corrected-svc.com', refresh: true });
    expect(again.status).toBe('done');
    expect(again.company?.fields.name).toMatchObject({ value: 'Corrected Inc', provider: 'manual' });
    const stored = await svc.record('W', 'corrected-svc.com');
    expect(stored.company?.fields.name?.value).toBe('Corrected Inc');
  } finally {
    companyName = nameFor;
  }
  const second = await svc.correct({ workspace: 'W', subject: 'corrected-svc.com', field: 'company.name', value: 'Corrected Again', by: 'U-BOB' });
  expect(second.fields.name).toMatchObject({ value: 'Corrected Again', by: 'U-BOB' });
  await expect(svc.correct({ workspace: 'W', subject: 'corrected-svc.com', field: 'company.nope', value: 1, by: 'U' })).rejects.toMatchObject({ code: ErrorCodes.FIELD_INVALID });
  await expect(svc.correct({ workspace: 'W', subject: 'corrected-svc.com', field: 'company.employeeCount', value: 'many', by: 'U' })).rejects.toMatchObject({ code: ErrorCodes.FIELD_INVALID });
  const log = await svc.activity('W', new Date(0));
  expect(log.filter((e) => e.action === 'correct').map((e) => e.actor)).toEqual(expect.arrayContaining(['U-ALICE', 'U-BOB']));
});

test('forget leaves no trace of the identity in any collection, and every later request for it is refused until un-forgotten', async () => {
  const svc = inboxCtx!.service;
  const domain = 'forgetme-7f3a.com';
  await app.enrichAndWait({ workspace: 'W', input: domain });
  const b = await svc.submitBatch([{ input: domain, columns: { site: domain } }, { input: 'kept-svc.com' }], { trigger: 'inbox', address: {} }, { workspace: 'W' });
  await svc.waitForBatch(b.batchId, 30_000);
  await svc.correct({ workspace: 'W', subject: domain, field: 'company.industry', value: 'Computer Software', by: 'U1' });

  const report = await svc.forget('W', domain, 'U-DPO');
  expect(report.removed.companies).toBe(1);

  // Scan every collection of the database for the identity in any form.
  const conn = await mongoose.createConnection(app.names.mongodbUrl).asPromise();
  try {
    const needles = ['forgetme-7f3a', nameFor(domain)];
    const collections = await conn.db!.listCollections().toArray();
    expect(collections.length).toBeGreaterThan(5);
    for (const c of collections) {
      const docs = await conn.db!.collection(c.name).find({}).toArray();
      const text = JSON.stringify(docs);
      for (const n of needles) expect({ collection: c.name, found: text.includes(n) }).toEqual({ collection: c.name, found: false });
    }
  } finally {
    await conn.close();
  }
  // The ledger still adds up: amounts and outcomes stay.
  const spend = await svc.spend(new Date().toISOString().slice(0, 10), 'W');
  expect(spend.totalUsd).toBeGreaterThan(0);

  await expect(svc.submit({ workspace: 'W', input: `https://www.${domain}/about` }, { trigger: 'inbox', address: {} })).rejects.toMatchObject({ code: ErrorCodes.IDENTITY_FORGOTTEN });
  const again = await svc.submitBatch([{ input: domain }, { input: 'otherkept-svc.com' }], { trigger: 'inbox', address: {} }, { workspace: 'W' });
  expect(again.rejected).toEqual([expect.objectContaining({ index: 0, code: ErrorCodes.IDENTITY_FORGOTTEN })]);
  expect(again.accepted).toBe(1);
  // Forgotten in W only.
  await expect(svc.submit({ workspace: 'W2', input: domain }, { trigger: 'inbox', address: {} })).resolves.toMatchObject({ display: domain });

  expect(await svc.unforget('W', domain, 'U-DPO')).toBe(true);
  await expect(svc.submit({ workspace: 'W', input: domain }, { trigger: 'inbox', address: {} })).resolves.toMatchObject({ display: domain });
  // It reads every document of every collection (the 1,000-row batch's too): minutes on a loaded machine.
}, 180_000);

test('a batch row refused for a forgotten identity keeps no copy of it: the reason code and the salted hash only', async () => {
  const svc = inboxCtx!.service;
  const email = 'jane.forgotten-9c1@acme-forgot.com';
  await svc.forget('W', email, 'U-DPO');
  const b = await svc.submitBatch([{ input: email, columns: { email, note: `row for ${email}` } }, { input: 'kept2-svc.com' }], { trigger: 'inbox', address: {} }, { workspace: 'W' });
  expect(b.rejected).toEqual([expect.objectContaining({ index: 0, code: ErrorCodes.IDENTITY_FORGOTTEN })]);
  await svc.waitForBatch(b.batchId, 30_000);
  const items = await app.store.models.BatchItem.find({ batchId: b.batchId }).lean();
  expect(JSON.stringify(items)).not.toMatch(/jane\.forgotten-9c1|acme-forgot/);
  const [refused] = items.filter((it) => it.index === 0);
  const tombstone = await app.store.models.Tombstone.findOne({ workspace: 'W' }).sort({ at: -1 }).lean();
  expect(refused).toMatchObject({ status: 'rejected', code: ErrorCodes.IDENTITY_FORGOTTEN, identityHash: tombstone!._id });
  const rows: BatchResultRow[] = [];
  for await (const row of svc.results(b.batchId)) rows.push(row);
  expect(rows[0]).toMatchObject({ index: 0, status: 'rejected', input: null, columns: {} });
  expect(rows[1]).toMatchObject({ index: 1, status: 'done' });
  expect(await svc.unforget('W', email, 'U-DPO')).toBe(true);
});

test('a forget in one process refuses the next submit in another, also after Redis lost the tombstone generation; repeated checks read no database', async () => {
  const svc = inboxCtx!.service;
  const client = await startTestApp({ file: 'enrich-service', names: app.names, role: 'client', plugins: { ...providers(), inbox, 'web-only': webOnly }, overrides: overrides(fake.url) });
  try {
    const replyTo = { trigger: 'inbox', address: {} };
    const submit = (input: string) => client.service.submit({ workspace: 'W', input }, replyTo);
    await submit('cache-one-svc.com'); // the client now holds W's tombstone set
    const commands: string[] = [];
    const onCommand = (e: { commandName: string; command: Record<string, unknown> }) => commands.push(`${e.commandName} ${String(e.command[e.commandName])}`);
    const mongoClient = client.store.connection.getClient();
    mongoClient.on('commandStarted', onCommand);
    await submit('cache-two-svc.com');
    mongoClient.off('commandStarted', onCommand);
    expect(commands.filter((c) => c.includes('tombstones'))).toEqual([]);

    await svc.forget('W', 'cache-gone-svc.com', 'U-DPO');
    await expect(submit('cache-gone-svc.com')).rejects.toMatchObject({ code: ErrorCodes.IDENTITY_FORGOTTEN });
    await svc.unforget('W', 'cache-gone-svc.com', 'U-DPO');
    await expect(submit('cache-gone-svc.com')).resolves.toMatchObject({ display: 'cache-gone-svc.com' });

    // Redis loses the generation while a tombstone is added behind the cache's back (the
    // document written directly, as a restore from backup would): the next check reads again.
    const tombstones = client.store.connection.db!.collection('tombstones');
    const before = new Set((await tombstones.find({ workspace: 'W' }).toArray()).map((d) => String(d._id)));
    await svc.forget('W', 'cache-lost-svc.com', 'U-DPO');
    const ids = (await tombstones.find({ workspace: 'W' }).toArray()).filter((d) => !before.has(String(d._id)));
    expect(ids).toHaveLength(1);
    await svc.unforget('W', 'cache-lost-svc.com', 'U-DPO');
    await expect(submit('cache-lost-svc.com')).resolves.toBeDefined();
    await tombstones.insertMany(ids);
    const redis = new Redis(app.names.redisUrl);
    try {
      const keys = await redis.keys(`${app.names.prefix}:tombstones:generation:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    await expect(submit('cache-lost-svc.com')).rejects.toMatchObject({ code: ErrorCodes.IDENTITY_FORGOTTEN });
  } finally {
    await client.stop();
  }
});

test('a record stored before canonical values existed reads canonical through the service, as the engine reads it', async () => {
  const svc = inboxCtx!.service;
  const at = new Date('2026-01-01T00:00:00Z');
  await app.store.models.Company.create({
    _id: 'W|company:legacy-svc.com',
    workspace: 'W',
    key: 'company:legacy-svc.com',
    display: 'legacy-svc.com',
    fields: { country: { value: 'Deutschland', provider: 'apollo', fetchedAt: at, confidence: 0.9 }, name: { value: 'Legacy GmbH', provider: 'apollo', fetchedAt: at, confidence: 0.9 } },
    enrichedAt: at,
  });
  const view = await svc.record('W', 'legacy-svc.com');
  expect(view.company?.fields.country).toMatchObject({ value: 'DE', raw: 'Deutschland', fetchedAt: at.toISOString() });
  expect(view.company?.fields.name?.value).toBe('Legacy GmbH');
});

test("a trigger's context holds its own settings only: no path from it leads to another plugin's API key", () => {
  const ctx = inboxCtx!;
  expect(Object.keys(ctx).sort()).toEqual(['clock', 'collection', 'config', 'csv', 'id', 'lease', 'logger', 'metrics', 'redis', 'role', 'router', 'safeFetch', 'schedule', 'service']);
  const seen = new Set<unknown>();
  const found: string[] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (v === null || v === undefined || depth > 8) return;
    if (typeof v === 'string') {
      if (v.includes('co-secret-key-123')) found.push(path);
      return;
    }
    if ((typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) return;
    seen.add(v);
    for (const k of Reflect.ownKeys(v as object)) {
      let child: unknown;
      try {
        child = (v as Record<PropertyKey, unknown>)[k as string];
      } catch {
        continue;
      }
      walk(child, `${path}.${String(k)}`, depth + 1);
    }
  };
  walk(ctx, 'ctx', 0);
  expect(found).toEqual([]);
  // The reachable service is only methods.
  expect(Object.values(ctx.service).every((v) => typeof v === 'function')).toBe(true);
  expect(Object.isFrozen(ctx.service)).toBe(true);
});

test('a trigger declared for the web role starts on web, not in a worker', async () => {
  expect(webStarts).toEqual(['all']);
  const worker = await startTestApp({ file: 'enrich-service', names: app.names, overrides: { ...overrides(fake.url), role: 'worker' }, plugins: { ...providers(), inbox, 'web-only': webOnly } });
  const web = await startTestApp({ file: 'enrich-service', names: app.names, overrides: { ...overrides(fake.url), role: 'web' }, plugins: { ...providers(), inbox, 'web-only': webOnly } });
  await worker.stop();
  await web.stop();
  expect(webStarts).toEqual(['all', 'web']);
});

test('spend sums the ledger by provider for a day and shows the caps', async () => {
  const svc = inboxCtx!.service;
  await app.enrichAndWait({ workspace: 'W', input: 'spend-svc.com' });
  const day = new Date().toISOString().slice(0, 10);
  const report = await svc.spend(day, 'W');
  const co = report.byProvider.find((p) => p.provider === 'co')!;
  const ledgerSum = (await app.store.models.Ledger.find({ day, workspace: 'W', provider: 'co' }).lean()).reduce((s, r) => s + (r.costUsd ?? 0), 0);
  expect(co.costUsd).toBeCloseTo(ledgerSum, 6);
  expect(co.calls).toBeGreaterThan(0);
  expect(report.caps).toHaveProperty('dailyUsd');
});

test('spend shows calls lost with a worker apart, at their reserved price, as an upper bound', async () => {
  const svc = inboxCtx!.service;
  const day = new Date().toISOString().slice(0, 10);
  const ledger = app.ledger;
  // A paid call whose worker died mid-call: its pending row becomes lost at the reserved price.
  await ledger.begin(`lost-svc-${Date.now()}`, { workspace: 'WL', jobId: 'enr_lostsvc', provider: 'co', operation: 'lookup', outcome: 'pending', costUsd: 0.05, reservedUsd: 0.05, charged: false, at: new Date() });
  expect(await ledger.markLost({ jobId: 'enr_lostsvc' })).toBe(1);
  const report = await svc.spend(day, 'WL');
  expect(report.lost).toEqual({ calls: 1, costUsd: 0.05 });
  expect(report.totalUsd).toBeCloseTo(0.05, 6);
});

test('the sweeper expires batches, their rows and activity entries past their retention, and leaves the rest', async () => {
  const svc = inboxCtx!.service;
  const b = await svc.submitBatch([{ input: 'sweep-svc.com' }], { trigger: 'inbox', address: {} }, { workspace: 'W' });
  await svc.waitForBatch(b.batchId, 30_000);
  const { Batch, BatchItem, Activity } = app.store.models;
  const past = new Date(Date.now() - 1000);
  await Batch.updateOne({ _id: b.batchId }, { $set: { expireAt: past } });
  await BatchItem.updateMany({ batchId: b.batchId }, { $set: { expireAt: past } });
  await Activity.create({ workspace: 'W', at: past, actor: 'old', action: 'enrich', subject: 'old.example', expireAt: past });
  const keptActivity = await Activity.countDocuments({ expireAt: { $gt: new Date() } });
  expect(keptActivity).toBeGreaterThan(0);
  await app.sweeper!.runOnce();
  expect(await Batch.countDocuments({ _id: b.batchId })).toBe(0);
  expect(await BatchItem.countDocuments({ batchId: b.batchId })).toBe(0);
  expect(await Activity.countDocuments({ actor: 'old' })).toBe(0);
  expect(await Activity.countDocuments({ expireAt: { $gt: new Date() } })).toBe(keptActivity);
});
