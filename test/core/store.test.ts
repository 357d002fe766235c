import { connectStore, type Store } from '../../src/store/store.js';
import { Ledger } from '../../src/engine/ledger.js';
import { testNames } from '../support/env.js';

const names = testNames('store');
let store: Store;

beforeAll(async () => {
  store = await connectStore(names.mongodbUrl);
});
afterAll(async () => {
  await store.connection.dropDatabase();
  await store.close();
});

test('company and person records round-trip with per-field provenance, unique per workspace', async () => {
  const { Company } = store.models;
  const fetchedAt = new Date('2026-11-23T10:00:00Z');
  await Company.create({ workspace: 'T1', key: 'company:acme.com', fields: { name: { value: 'Acme', provider: 'website', fetchedAt, confidence: 0.6, ledgerId: 'L1' } } });
  await Company.create({ workspace: 'T2', key: 'company:acme.com', fields: { name: { value: 'Other Acme', provider: 'apollo', fetchedAt, confidence: 0.9 } } });
  await expect(Company.create({ workspace: 'T1', key: 'company:acme.com' })).rejects.toMatchObject({ code: 11000 });
  const doc = await Company.findOne({ workspace: 'T1', key: 'company:acme.com' }).lean();
  const fields = doc!.fields as unknown as Record<string, { value: string; provider: string; fetchedAt: Date; confidence: number; ledgerId: string }>;
  expect(fields.name).toEqual({ value: 'Acme', provider: 'website', fetchedAt, confidence: 0.6, ledgerId: 'L1' });
  await Company.updateOne({ workspace: 'T1', key: 'company:acme.com' }, { $set: { 'fields.industry': { value: 'Widgets', provider: 'aiark', fetchedAt, confidence: 0.8 } } });
  const again = await Company.findOne({ workspace: 'T1', key: 'company:acme.com' }).lean();
  expect(Object.keys(again!.fields as object).sort()).toEqual(['industry', 'name']);
});

test('an enrichment job record keeps status and per-provider outcomes', async () => {
  const { Job } = store.models;
  await Job.create({ jobId: 'enr_1', workspace: 'T1', status: 'queued', request: { workspace: 'T1', input: 'acme.com' } });
  await expect(Job.create({ jobId: 'enr_1', workspace: 'T1', status: 'queued' })).rejects.toMatchObject({ code: 11000 });
  await expect(Job.create({ jobId: 'enr_2', workspace: 'T1', status: 'exploded' as never })).rejects.toThrow(/status/);
  await Job.updateOne({ jobId: 'enr_1' }, { $set: { status: 'done', outcomes: [{ group: 'companyProfile', provider: 'website', outcome: 'matched', costUsd: 0 }] } });
  const job = await Job.findOne({ jobId: 'enr_1' }).lean();
  expect(job?.status).toBe('done');
  expect(job?.outcomes[0]).toMatchObject({ provider: 'website', outcome: 'matched' });
});

test('the ledger answers what was spent per provider and outcome for a day, with $group and $sum only', async () => {
  const ledger = new Ledger(store.models, 100);
  const at = new Date('2026-11-20T12:00:00Z');
  await ledger.record({ workspace: 'T1', provider: 'prospeo', outcome: 'matched', costUsd: 0.039, charged: true, at, raw: { 'a.b': 1, $weird: 'x'.repeat(500) } });
  await ledger.record({ workspace: 'T1', provider: 'prospeo', outcome: 'matched', costUsd: 0.039, charged: true, at });
  await ledger.record({ workspace: 'T2', provider: 'exa', outcome: 'no_match', costUsd: 0.007, charged: true, at });
  await ledger.record({ workspace: 'T1', provider: 'exa', outcome: 'error', costUsd: 0, charged: false, at, error: 'HTTP 500' });
  await ledger.record({ workspace: 'T1', provider: 'exa', outcome: 'matched', costUsd: 5, charged: true, at: new Date('2026-11-21T00:00:01Z') });
  expect(await ledger.summary('2026-11-20', 'T1')).toEqual([
    { provider: 'exa', outcome: 'error', costUsd: 0, calls: 1 },
    { provider: 'prospeo', outcome: 'matched', costUsd: 0.078, calls: 2 },
  ]);
  expect((await ledger.summary('2026-11-20')).reduce((s, r) => s + r.costUsd, 0)).toBeCloseTo(0.085, 6);
  const raw = await store.models.Ledger.findOne({ provider: 'prospeo', rawTruncated: true }).lean();
  expect(raw?.raw?.length).toBe(100); // raw answers are capped, and odd keys are stored safely as text
});

test('the test database answers a lookup by _id from an index (FerretDB on PostgreSQL: scripts/ferretdb-pg-id-index.sql)', async () => {
  const { Company } = store.models;
  await Company.insertMany(Array.from({ length: 50 }, (_, i) => ({ workspace: 'T9', key: `company:idx${i}.com` })));
  const explain = (await store.connection.db!.command({ explain: { find: 'companies', filter: { _id: 'T9|company:idx7.com' } } })) as Record<string, unknown>;
  const plan = JSON.stringify(explain.queryPlanner ?? {});
  const ferretdb = (explain.serverInfo as { ferretdbVersion?: string } | undefined)?.ferretdbVersion;
  if (ferretdb && plan.includes('Relation Name')) {
    // FerretDB on PostgreSQL: without the GIN index every lookup by _id scans the table (#4646).
    expect(plan).not.toContain('Seq Scan');
    expect(plan).toMatch(/_id_gin/);
  } else if (!ferretdb) {
    // MongoDB: the _id index (IDHACK, EXPRESS_IXSCAN or IXSCAN).
    expect(plan).toMatch(/IDHACK|EXPRESS_IXSCAN|IXSCAN/);
  }
  // (FerretDB on SQLite, the fallback without PostgreSQL, has no such fix; only the read is checked.)
  expect(await Company.findOne({ _id: 'T9|company:idx7.com' }).lean()).toMatchObject({ key: 'company:idx7.com' });
});
