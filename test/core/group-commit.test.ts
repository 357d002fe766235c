// Group commit (src/store/group-commit.ts) on the real MongoDB-wire server: concurrent writes
// share commands, each write settles with its own outcome, and a lone write goes at once.
import type { CommandStartedEvent } from 'mongodb';
import { connectStore, type Store } from '../../src/store/store.js';
import { groupCommit } from '../../src/store/group-commit.js';
import { recordId } from '../../src/store/models.js';
import { testNames } from '../support/env.js';

const names = testNames('group-commit');
let store: Store;
const commands: CommandStartedEvent[] = [];

beforeAll(async () => {
  store = await connectStore(names.mongodbUrl);
  store.connection.getClient().on('commandStarted', (e) => commands.push(e));
});
afterAll(async () => {
  await store.connection.dropDatabase();
  await store.close();
});

const writesTo = (collection: string) => commands.filter((c) => ['insert', 'update'].includes(c.commandName) && c.command[c.commandName] === collection);

test('fifty concurrent upserts share a few commands, and every one is stored when its promise resolves', async () => {
  const { Company } = store.models;
  commands.length = 0;
  const writer = groupCommit(Company);
  const keys = Array.from({ length: 50 }, (_, i) => `company:gc${i}.com`);
  await Promise.all(
    keys.map((key, i) =>
      writer
        .write({ updateOne: { filter: { _id: recordId('T1', key) }, update: { $set: { lastJobId: `job${i}` }, $setOnInsert: { workspace: 'T1', key } }, upsert: true } })
        .then(async () => {
          // Stored by the time this write resolves, under the filter's _id (no schema default).
          const doc = await Company.findOne({ _id: recordId('T1', key) }).lean();
          expect(doc).toMatchObject({ workspace: 'T1', key, lastJobId: `job${i}` });
        }),
    ),
  );
  const updates = writesTo('companies');
  // The first write goes alone at once; the 49 that arrived meanwhile go in the next command.
  expect(updates.length).toBeLessThanOrEqual(3);
  expect(updates.reduce((n, c) => n + (c.command.updates as unknown[]).length, 0)).toBe(50);
  expect(await Company.countDocuments({ workspace: 'T1', key: { $in: keys } })).toBe(50);
});

test('a duplicate key fails only its own write, with code 11000; the others in its group are stored', async () => {
  const { Ledger } = store.models;
  const writer = groupCommit(Ledger);
  const row = (id: string) => ({ insertOne: { document: { _id: id, workspace: 'T1', provider: 'p', outcome: 'pending', day: '2026-11-29', at: new Date() } as never } });
  await writer.write(row('dup-1'));
  commands.length = 0;
  const results = await Promise.allSettled([writer.write(row('fresh-1')), writer.write(row('dup-1')), writer.write(row('fresh-2')), writer.write(row('fresh-3'))]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 11000 });
  expect(await Ledger.countDocuments({ _id: { $in: ['fresh-1', 'fresh-2', 'fresh-3'] } })).toBe(3);
  // fresh-1 went alone; the other three shared one insert.
  expect(writesTo('ledger').length).toBe(2);
});

test('a write the schema refuses fails alone with the reason; the rest of its group is stored', async () => {
  const { Job } = store.models;
  const writer = groupCommit(Job);
  const job = (id: string, status: string) => ({ insertOne: { document: { _id: id, jobId: id, workspace: 'T1', status } as never } });
  const first = writer.write(job('gc-a', 'queued'));
  const results = await Promise.allSettled([first, writer.write(job('gc-b', 'exploded')), writer.write(job('gc-c', 'done'))]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/status/);
  expect((await Job.find({ _id: { $in: ['gc-a', 'gc-b', 'gc-c'] } }).lean()).map((d) => d._id).sort()).toEqual(['gc-a', 'gc-c']);
});

test('an insert gets the schema defaults and timestamps a create would (the sweeper finds stale jobs by updatedAt)', async () => {
  const { Job } = store.models;
  const before = Date.now();
  await groupCommit(Job).write({ insertOne: { document: { _id: 'gc-ts', jobId: 'gc-ts', workspace: 'T1', status: 'queued', run: 1 } as never } });
  const doc = await Job.findOne({ _id: 'gc-ts' }).lean();
  expect(doc).toMatchObject({ attempts: 0, stalls: 0, costUsd: 0, requesters: [] });
  expect(doc!.updatedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
  expect(doc!.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
});

test('when the whole command fails, every write of the group rejects (none is reported stored)', async () => {
  const { Cache } = store.models;
  const writer = groupCommit(Cache);
  // A command the server refuses as a whole: an update operator that does not exist.
  const bad = { updateOne: { filter: { _id: 'x' }, update: { $frobnicate: { a: 1 } } as never } };
  const results = await Promise.allSettled([writer.write(bad), writer.write(bad)]);
  expect(results.every((r) => r.status === 'rejected')).toBe(true);
  // The writer is not stuck afterwards.
  const ok = { updateOne: { filter: { _id: 'gc-ok' }, update: { $set: { workspace: 'T1', provider: 'p', operation: 'o', key: 'k', identityKey: 'k', outcome: 'matched', resultJson: '{}', fetchedAt: new Date(), expireAt: new Date() } }, upsert: true } };
  await writer.write(ok);
  expect(await Cache.countDocuments({ _id: 'gc-ok' })).toBe(1);
});
