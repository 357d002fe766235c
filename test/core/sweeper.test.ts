// No TTL indexes (FerretDB has none): the sweeper deletes expired rows itself.
import { Redis } from 'ioredis';
import { z } from 'zod';
import { ManualClock } from '../../src/clock.js';
import { defineTrigger } from '../../src/plugin/contract.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { startFakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';

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

test('Redis loses its keys while jobs wait: the sweeper queues the open jobs again and they finish, each answered once', async () => {
  const fake = await startFakeServer({ 'POST /co': () => ({ json: { found: true, fields: { 'company.name': 'Lost Queue Co' }, confidence: 0.9 } }) });
  const delivered: string[] = [];
  const inbox = defineTrigger({ kind: 'trigger', id: 'inbox', description: 'collects delivered results', configSchema: z.object({}), async deliver(result, replyTo) { delivered.push(`${result.jobId}:${String(replyTo.address.n)}:${result.status}`); } });
  const plugins = { inbox, co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']] }) };
  const overrides = { plugins: { providers: ['co'], triggers: ['inbox'] }, providers: { co: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['co'] }, sweeper: { requeueAfterMs: 1 } };
  const client = await startTestApp({ file: 'sweeper-requeue', role: 'client', plugins, overrides });
  let worker: Awaited<ReturnType<typeof startTestApp>> | undefined;
  try {
    const jobs = await Promise.all(['lost-a.com', 'lost-b.com'].map((input, n) => client.service.submit({ workspace: 'W', input }, { trigger: 'inbox', address: { n } })));
    // Redis restarts empty: the queue, the runs' state, everything under the prefix is gone.
    const redis = new Redis(client.names.redisUrl);
    try {
      const keys = await redis.keys(`${client.names.prefix}:*`);
      expect(keys.some((k) => k.includes(':enrich:'))).toBe(true);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    worker = await startTestApp({ file: 'sweeper-requeue', names: client.names, role: 'worker', plugins, overrides });
    await new Promise((r) => setTimeout(r, 50)); // older than requeueAfterMs
    expect((await worker.sweeper!.runOnce()).requeued).toBe(2);
    const results = await Promise.all(jobs.map((j) => client.service.waitFor(j.jobId, 30_000)));
    expect(results.map((r) => r.status)).toEqual(['done', 'done']);
    expect(results[0].company?.fields.name?.value).toBe('Lost Queue Co');
    // Queued jobs that are in Redis are left alone.
    expect((await worker.sweeper!.runOnce()).requeued).toBe(0);
    expect(delivered.sort()).toEqual([`${jobs[0].jobId}:0:done`, `${jobs[1].jobId}:1:done`].sort());
  } finally {
    await worker?.stop();
    await client.stop();
    await dropTestData(client.names);
    await fake.close();
  }
});
