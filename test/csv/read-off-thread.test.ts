// ctx.csv.read (csvModule.read, what app.ts hands every trigger; the Slack DM upload calls it
// with the downloaded bytes) reads on a worker thread: while a hostile upload is read, the
// calling process keeps answering HTTP. Rows are the same as read in-thread.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { csvModule, readCsv, readCsvOffThread } from '../../src/csv/index.js';
import { ErrorCodes, isEnrichbotError } from '../../src/errors.js';
import { assertDistIsFresh } from '../support/worker-child.js';
import { list } from './csv-support.js';

beforeAll(() => assertDistIsFresh()); // the worker runs dist/src/csv/read-worker.js

/** The review's reproducer, grown to 1 MB: every line opens a quote that never closes. */
const hostile = Buffer.from(`email\n${'a","\n'.repeat(200_000)}`);

test('while a hostile 1 MB upload is read through ctx.csv.read, the calling process answers /healthz before the read finishes', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  const events: string[] = [];
  let readDone = false;
  let turns = 0;
  const countTurns = () => {
    turns++;
    if (!readDone) setImmediate(countTurns);
  };
  try {
    setImmediate(countTurns);
    const reading = (async () => {
      const read = await csvModule.read(hostile, { maxRows: 1_000_000, maxBytes: 10_000_000 });
      const rows = await list(read.rows);
      readDone = true;
      events.push('read finished');
      return rows;
    })();
    const asking = (async () => {
      while (!readDone) {
        const res = await fetch(url);
        await res.text();
        if (!readDone) events.push('healthz answered');
      }
    })();
    const [rows] = await Promise.all([reading, asking]);
    expect(rows).toHaveLength(200_000);
    expect(rows.every((r) => r.input === null && /never closed|longer than/.test(r.problem ?? ''))).toBe(true);
    // Read in-thread, the whole read ran before the first answer: events were ['read finished'].
    expect(events[0]).toBe('healthz answered');
    expect(events.at(-1)).toBe('read finished');
    expect(turns).toBeGreaterThan(1);
  } finally {
    readDone = true;
    await new Promise((resolve) => server.close(resolve));
  }
}, 60_000);

test('rows read on the worker equal rows read in-thread: broken quotes with their reasons, a "__proto__" header, a stream in small chunks', async () => {
  const text = 'Email;__proto__;Note\r\njane@acme.com;x;"two\r\nlines"\r\nbob@acme.com;"open;y\r\nann@acme.com;z;a "b" c\r\n;;\r\n';
  const inThread = await list((await readCsv(text)).rows);
  expect(inThread.map((r) => r.problem)).toEqual([undefined, 'line 4: a quote (") opened on this line is never closed', undefined, expect.stringMatching(/^line 6: no email/)]);
  for (const source of [text, Buffer.from(text), Readable.from(Buffer.from(text).toString('utf8').match(/[\s\S]{1,5}/g)!)]) {
    const read = await csvModule.read(source);
    expect(read.headers).toEqual(['Email', '__proto__', 'Note']);
    const rows = await list(read.rows);
    expect(rows).toEqual(inThread);
    expect(Object.hasOwn(rows[0].columns, '__proto__')).toBe(true);
  }
});

test('a worker step that takes longer than stepTimeoutMs is stopped with CSV_TOO_LARGE', async () => {
  // 1 ms is less than counting the rows of 1 MB takes (or starting a worker), so the header step runs over.
  const err = await readCsvOffThread(hostile, { maxRows: 1_000_000, stepTimeoutMs: 1 }).catch((e: unknown) => e);
  expect(isEnrichbotError(err, ErrorCodes.CSV_TOO_LARGE)).toBe(true);
  expect((err as Error).message).toContain('took longer than');
});

test('refusals made on the worker keep their code and message: too many rows, no usable column', async () => {
  await expect(csvModule.read(hostile)).rejects.toMatchObject({ code: ErrorCodes.CSV_TOO_LARGE, message: expect.stringContaining('more than 10,000 rows') });
  await expect(csvModule.read('Foo,Bar\n1,2\n')).rejects.toMatchObject({ code: ErrorCodes.CSV_INVALID, message: expect.stringContaining('"Foo", "Bar"') });
});

test('files read one after another each get their own rows: after a refusal, after a caller broke off, as a stream', async () => {
  const file = (tag: string, n: number) => `Email,Note\n${Array.from({ length: n }, (_, i) => `${tag}${i}@acme.com,"x${i}"`).join('\n')}\n`;
  await expect(csvModule.read(file('a', 20), { maxRows: 10 })).rejects.toMatchObject({ code: ErrorCodes.CSV_TOO_LARGE });
  const b = await list((await csvModule.read(file('b', 300))).rows);
  expect(b.map((r) => r.input?.email)).toEqual(Array.from({ length: 300 }, (_, i) => `b${i}@acme.com`));
  for await (const row of (await csvModule.read(Buffer.from(file('c', 600)))).rows) if (row.index === 3) break;
  const d = await list((await csvModule.read(Readable.from([file('d', 5)]))).rows);
  expect(d.map((r) => r.columns)).toEqual(Array.from({ length: 5 }, (_, i) => ({ Email: `d${i}@acme.com`, Note: `x${i}` })));
  const e = await list((await csvModule.read(file('e', 2))).rows);
  expect(e.map((r) => r.line)).toEqual([2, 3]);
});
