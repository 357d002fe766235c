// No TTL indexes (FerretDB has none): the sweeper deletes expired rows itself.
import { ManualClock } from '../../src/clock.js';
import { startTestApp, dropTestData } from '../support/test-app.js';

test('the sweeper deletes expired cache rows and old finished jobs, keeps live ones, and drops old raw answers', async () => {
  const clock = new ManualClock(new Date('2026-11-01T12:00:00Z'));
  const app = await startTestApp({ file: 'sweeper', clock, overrides: { sweeper: { jobRetentionDays: 7, ledgerRawRetentionDays: 30 } } });
  try {
    const { Job, Cache, Ledger } = app.store.models;
    const day = 86400_000;
    const now = clock.now().getTime();
    await Job.create([
      { jobId: 'old-done', workspace: 'W', status: 'done', expireAt: new Date(now - day) },
      { jobId: 'old-running', workspace: 'W', status: 'running', expireAt: new Date(now - day) },
      { jobId: 'new-done', workspace: 'W', status: 'done', expireAt: new Date(now + day) },
    ]);
    await Cache.create([
      { _id: 'W|p|o|company:a.com', key: 'company:a.com', identityKey: 'company:a.com', workspace: 'W', provider: 'p', operation: 'o', inputHash: 'a', outcome: 'matched', resultJson: '{}', fetchedAt: new Date(now - 40 * day), expireAt: new Date(now - 10 * day) },
      { _id: 'W|p|o|company:b.com', key: 'company:b.com', identityKey: 'company:b.com', workspace: 'W', provider: 'p', operation: 'o', inputHash: 'b', outcome: 'matched', resultJson: '{}', fetchedAt: new Date(now), expireAt: new Date(now + 10 * day) },
    ]);
    await Ledger.create([
      { workspace: 'W', provider: 'p', outcome: 'matched', day: '2026-09-01', at: new Date(now - 60 * day), raw: '{"old":1}' },
      { workspace: 'W', provider: 'p', outcome: 'matched', day: '2026-11-01', at: new Date(now), raw: '{"new":1}' },
    ]);
    const report = await app.sweeper!.runOnce();
    expect(report).toMatchObject({ jobsDeleted: 1, cacheDeleted: 1, rawDropped: 1 });
    expect((await Job.find({}).lean()).map((j) => j.jobId).sort()).toEqual(['new-done', 'old-running']);
    expect((await Cache.find({}).lean()).map((c) => c.inputHash)).toEqual(['b']);
    const ledger = await Ledger.find({}).sort({ at: 1 }).lean();
    expect(ledger.map((l) => l.raw)).toEqual([undefined, '{"new":1}']);
    expect(ledger).toHaveLength(2); // the ledger itself is kept: spend history stays answerable
  } finally {
    await app.stop();
    await dropTestData(app.names);
  }
});
