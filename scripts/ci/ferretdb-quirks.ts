// Probes the MongoDB-wire server at MONGODB_URL for the FerretDB 1.24 quirks the code works
// around, so each backend (PostgreSQL, SQLite) and each MongoDB version can be checked again:
//   node dist/scripts/ci/ferretdb-quirks.js        (after `npm run build`)
// 1. Several accumulators in one $group: are all computed, or only the first?
// 2. Concurrent $inc on one document from several connections: are increments lost?
// 3. findOneAndUpdate on a condition, raced from several connections: does exactly one win?
// 4. A key containing "." in a document: refused?
// 5. What one round trip costs: sequential findOne by _id, updateOne by _id, insertOne (ms each).
// 6. Does a lookup by _id use an index? findOne by _id at 200 and at 20,000 documents, and the
//    server's explain: FerretDB 1.24 on PostgreSQL scans (issue #4646) unless
//    scripts/ferretdb-pg-id-index.sql was run in its database.
// It works in a database of its own (quirks_<random>) and drops it at the end.
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';

const { MongoClient } = mongoose.mongo;
type Client = InstanceType<typeof MongoClient>;

const BASE = process.env.MONGODB_URL || 'mongodb://127.0.0.1:27017/enrichbot';
const DB = `quirks_${randomBytes(3).toString('hex')}`;
const CONNECTIONS = 8;
const INCS_PER_CONNECTION = 100;
const RACES = 100;

async function connect(): Promise<Client> {
  // One socket per client, so concurrency is across connections (as across worker processes).
  return new MongoClient(BASE, { maxPoolSize: 1, serverSelectionTimeoutMS: 5000 }).connect();
}

async function groupAccumulators(c: Client): Promise<string> {
  const col = c.db(DB).collection('group');
  await col.insertMany([
    { k: 'a', x: 1 },
    { k: 'a', x: 2 },
    { k: 'b', x: 5 },
  ]);
  const rows = await col.aggregate([{ $group: { _id: '$k', total: { $sum: '$x' }, n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
  const a = rows.find((r) => r._id === 'a');
  const ok = a?.total === 3 && a?.n === 2;
  return ok ? 'all accumulators computed' : `NOT all computed: got ${JSON.stringify(rows)}`;
}

async function concurrentInc(clients: Client[]): Promise<string> {
  await clients[0].db(DB).collection('inc').insertOne({ _id: 'counter' as never, n: 0 });
  await Promise.all(
    clients.map(async (c) => {
      const col = c.db(DB).collection('inc');
      // Each connection pipelines its increments: several in flight at once per connection pool
      // of one socket is not possible, so the concurrency is CONNECTIONS wide.
      for (let i = 0; i < INCS_PER_CONNECTION; i++) await col.updateOne({ _id: 'counter' as never }, { $inc: { n: 1 } });
    }),
  );
  const doc = await clients[0].db(DB).collection('inc').findOne({ _id: 'counter' as never });
  const expected = CONNECTIONS * INCS_PER_CONNECTION;
  const lost = expected - (doc?.n as number);
  return lost === 0 ? `no lost updates (${expected} of ${expected})` : `LOST ${lost} of ${expected} increments (${((lost / expected) * 100).toFixed(1)} %)`;
}

async function findOneAndUpdateRace(clients: Client[]): Promise<string> {
  let multiple = 0;
  let none = 0;
  let maxWinners = 0;
  for (let r = 0; r < RACES; r++) {
    const id = `lease${r}`;
    await clients[0].db(DB).collection('lease').insertOne({ _id: id as never, state: 'free' });
    const wins = await Promise.all(
      clients.map((c, i) => c.db(DB).collection('lease').findOneAndUpdate({ _id: id as never, state: 'free' }, { $set: { state: 'taken', by: i } }, { returnDocument: 'after' })),
    );
    const winners = wins.filter((w) => w !== null).length;
    maxWinners = Math.max(maxWinners, winners);
    if (winners > 1) multiple++;
    if (winners === 0) none++;
  }
  return multiple === 0 && none === 0
    ? `exclusive: exactly one winner in each of ${RACES} races of ${CONNECTIONS} connections`
    : `NOT exclusive: ${multiple} of ${RACES} races had more than one winner (up to ${maxWinners}), ${none} had none`;
}

async function dottedKey(c: Client): Promise<string> {
  try {
    await c.db(DB).collection('dots').insertOne({ 'a.b': 1 });
    return 'accepted';
  } catch (err) {
    return `refused (${(err as Error).message.split('\n')[0]})`;
  }
}

async function roundTrips(c: Client): Promise<string> {
  const col = c.db(DB).collection('latency');
  const N = 200;
  await col.insertOne({ _id: 'doc' as never, n: 0 });
  const time = async (fn: (i: number) => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await fn(i);
    return ((performance.now() - t0) / N).toFixed(2);
  };
  const find = await time(() => col.findOne({ _id: 'doc' as never }));
  const update = await time((i) => col.updateOne({ _id: 'doc' as never }, { $set: { n: i } }));
  const insert = await time((i) => col.insertOne({ _id: `d${i}` as never, n: i }));
  const ping = await time(() => c.db('admin').command({ ping: 1 }));
  return `ping ${ping} ms, findOne by _id ${find} ms, updateOne by _id ${update} ms, insertOne ${insert} ms`;
}

async function idLookupScale(c: Client): Promise<string> {
  // Two collections, so that neither's reads reuse a plan PostgreSQL made while it was small.
  const timeReads = async (n: number) => {
    const col = c.db(DB).collection(`scale${n}`);
    for (let i = 0; i < n; i += 1000) await col.insertMany(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ _id: `s${i + j}` as never, pad: 'x'.repeat(200) })));
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) await col.findOne({ _id: `s${(i * 37) % n}` as never });
    return (performance.now() - t0) / 50;
  };
  const small = await timeReads(200);
  const large = await timeReads(20_000);
  const explain = (await c.db(DB).command({ explain: { find: 'scale20000', filter: { _id: 's1' } } })) as Record<string, unknown>;
  const plan = JSON.stringify(explain.queryPlanner ?? {});
  const how = plan.includes('Seq Scan') ? 'a table scan' : plan.includes('Index') ? 'an index' : 'unknown (no PostgreSQL plan)';
  return `${small.toFixed(2)} ms at 200 documents, ${large.toFixed(2)} ms at 20,000 (x${(large / small).toFixed(1)}); the plan shows ${how}${how === 'a table scan' ? ': run scripts/ferretdb-pg-id-index.sql in its database' : ''}`;
}

async function main(): Promise<void> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, connect));
  try {
    const hello = await clients[0].db('admin').command({ buildInfo: 1 });
    const backend = (hello.ferretdbFeatures ?? hello.ferretdb ?? {}) as Record<string, unknown>;
    console.log(`server: ${hello.version}${hello.ferretdbVersion ? `, FerretDB ${hello.ferretdbVersion}` : ''}${Object.keys(backend).length ? ` ${JSON.stringify(backend)}` : ''}`);
    console.log(`1. several accumulators in one $group: ${await groupAccumulators(clients[0])}`);
    console.log(`2. concurrent $inc on one document, ${CONNECTIONS} connections x ${INCS_PER_CONNECTION}: ${await concurrentInc(clients)}`);
    console.log(`3. conditional findOneAndUpdate raced by ${CONNECTIONS} connections: ${await findOneAndUpdateRace(clients)}`);
    console.log(`4. a key containing ".": ${await dottedKey(clients[0])}`);
    console.log(`5. one round trip, sequential: ${await roundTrips(clients[0])}`);
    console.log(`6. findOne by _id as the collection grows: ${await idLookupScale(clients[0])}`);
  } finally {
    await clients[0].db(DB).dropDatabase().catch(() => undefined);
    await Promise.all(clients.map((c) => c.close()));
  }
}

await main();
