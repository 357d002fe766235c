// Files over the row or size limit are refused with a message naming the limit: before any row
// is read when the whole file is given, from the row iterator when it is a stream.
import { Readable } from 'node:stream';
import { csvModule } from '../../src/csv/index.js';
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
    expect((err as Error).message).toContain('has 51 rows');
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
