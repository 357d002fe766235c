// The tail of a batch (issue 27): rows per second from "all jobs done" to "batch finished". A
// batch of `rows` rows naming `identities` companies is queued while the provider holds its
// answers; once every row waits on its job, the provider answers, and the clock runs from the
// first job done (the record's finishedAt) to the batch's finishedAt. Goal: >= 500 rows/s.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../src/app.js';
import { companyProvider } from './providers.js';

export interface BatchTail {
  rows: number;
  identities: number;
  /** From the first job done to the batch finished. */
  seconds: number;
  rowsPerSecond: number;
  /** Writes to batch_items while answering (update and findAndModify commands). */
  itemWrites: number;
}

type StartApp = (opts: { plugins: Record<string, ReturnType<typeof companyProvider>>; baseUrl: string }) => Promise<App>;

export async function batchTail(startApp: StartApp, rows = 2000, identities = 4): Promise<BatchTail> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => void held.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"found":true}')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app = await startApp({ plugins: { tail: companyProvider('tail', { path: '/held' }) }, baseUrl });
  try {
    const { Batch, Job } = app.store.models;
    const domains = Array.from({ length: rows }, (_, i) => `tail${i % identities}-bench.com`);
    const { batchId } = await app.service.submitBatch(domains.map((input) => ({ input })), { trigger: 'cli', address: {} }, { workspace: 'bench', groups: ['companyProfile'] });
    while ((await Batch.findById(batchId, { queueing: 1 }).lean())?.queueing) await new Promise((r) => setTimeout(r, 200));
    let itemWrites = 0;
    const client = app.store.connection.getClient();
    const count = (e: { commandName: string; command: Record<string, unknown> }) => {
      if ((e.commandName === 'update' || e.commandName === 'findAndModify') && e.command[e.commandName] === 'batch_items') itemWrites++;
    };
    client.on('commandStarted', count as never);
    release();
    const final = await app.service.waitForBatch(batchId, 600_000);
    client.off('commandStarted', count as never);
    if (final.counts.done !== rows) throw new Error(`batch tail: ${final.counts.done} of ${rows} rows done (${JSON.stringify(final.counts)})`);
    const jobs = await Job.find({ workspace: 'bench' }, { finishedAt: 1 }).lean();
    const first = Math.min(...jobs.map((j) => new Date(j.finishedAt!).getTime()));
    const seconds = (new Date(final.finishedAt!).getTime() - first) / 1000;
    return { rows, identities, seconds, rowsPerSecond: rows / Math.max(seconds, 0.001), itemWrites };
  } finally {
    await app.stop();
    server.close();
  }
}
