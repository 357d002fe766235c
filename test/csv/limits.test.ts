// Files over the row or size limit are refused with a message naming the limit: before any row
// is read when the whole file is given, from the row iterator when it is a stream.
import { Readable } from 'node:stream';
import { csvModule, readCsv } from '../../src/csv/index.js';
import { ErrorCodes, isEnrichbotError } from '../../src/errors.js';
import { list } from './csv-support.js';

const file = (rows: number) => `Email,Note\n${Array.from({ length: rows }, (_, i) => `p${i}@acme.com,"a ""quoted""\nnote"`).join('\n')}\n`;

test('a file of exactly maxRows rows is read in full', async () => {
  const read = await csvModule.read(file(50), { maxRows: 50 });
  expect(await list(read.rows)).toHaveLength(50);
});

test('a string or Buffer with more than maxRows rows is refused before any row is read, naming the limit', async () => {
  for (const source of [file(51), Buffer.from(file(51))]) {
    const err = await csvModule.read(source, { maxRows: 50 }).catch((e: unknown) => e);
    expect(isEnrichbotError(err, ErrorCodes.CSV_TOO_LARGE)).toBe(true);
    expect((err as Error).message).toContain('the limit is 50 rows');
    expect((err as Error).message).toContain('has more than 50 rows');
  }
});

test('the default limit is 10,000 rows', async () => {
  await expect(csvModule.read(file(10_001))).rejects.toMatchObject({ code: ErrorCodes.CSV_TOO_LARGE, message: expect.stringContaining('10,000') });
});

test('a stream with more than maxRows rows fails from the row iterator, with the same code, after maxRows rows', async () => {
  const read = await csvModule.read(Readable.from([file(80)]), { maxRows: 50 });
  let seen = 0;
  const err = await (async () => {
    for await (const _ of read.rows) seen++;
  })().catch((e: unknown) => e);
  expect(isEnrichbotError(err, ErrorCodes.CSV_TOO_LARGE)).toBe(true);
  expect((err as Error).message).toContain('the limit is 50 rows');
  expect(seen).toBe(50);
});

test('a file over maxBytes is refused, as a Buffer and as a stream', async () => {
  const big = file(200);
  await expect(csvModule.read(big, { maxBytes: 1000 })).rejects.toMatchObject({ code: ErrorCodes.CSV_TOO_LARGE });
  const chunks = big.match(/[\s\S]{1,100}/g)!;
  const err = await (async () => {
    const read = await csvModule.read(Readable.from(chunks), { maxBytes: 1000 });
    await list(read.rows);
  })().catch((e: unknown) => e);
  expect(isEnrichbotError(err, ErrorCodes.CSV_TOO_LARGE)).toBe(true);
});

test('a string or Buffer over maxRows is refused as soon as the limit is passed: the rows after it are not read', async () => {
  // 51 rows, then 20,000 more: refusing needs only the first 52 records (header included) and
  // the 16 KiB slice they end in.
  const rest = Array.from({ length: 20_000 }, (_, i) => `q${i}@acme.com,x`).join('\n');
  for (const source of [file(51) + rest, Buffer.from(file(51) + rest)]) {
    const probe = { examined: 0 };
    const err = await readCsv(source, { maxRows: 50, probe }).catch((e: unknown) => e);
    expect(isEnrichbotError(err, ErrorCodes.CSV_TOO_LARGE)).toBe(true);
    expect((err as Error).message).toContain('more than 50 rows');
    expect(probe.examined).toBeGreaterThan(0);
    // Six characters examined per character read, at most: the 20,000 rows after are 400 kB.
    expect(probe.examined).toBeLessThanOrEqual(6 * (file(52).length + 16 * 1024));
  }
});

test('a stream over maxBytes is refused once its bytes pass the limit, without pulling the rest of the source', async () => {
  let pulled = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    yield Buffer.from('Email,Note\n');
    for (let i = 0; i < 10_000; i++) {
      pulled++;
      yield Buffer.from(`p${i}@acme.com,${'x'.repeat(80)}\n`);
    }
  }
  const source = Readable.from(chunks(), { objectMode: false, highWaterMark: 1024 });
  const err = await (async () => list((await csvModule.read(source, { maxBytes: 5_000 })).rows))().catch((e: unknown) => e);
  expect(isEnrichbotError(err, ErrorCodes.CSV_TOO_LARGE)).toBe(true);
  // About 55 chunks make 5,000 bytes; the stream's own buffer adds a few.
  expect(pulled).toBeLessThan(80);
  expect(source.destroyed).toBe(true);
});
