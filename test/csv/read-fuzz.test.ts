// Fuzz of the CSV reader (fast-check, seeded, 2,000 cases to stay fast in CI): hostile files,
// as strings, Buffers in UTF-8/UTF-16 with or without BOM, or streams cut anywhere, never crash
// it. A file is either refused with a CSV error code, or read with every refused row carrying
// its line and a reason, and the work stays within six characters examined per character.
// In-thread (readCsv): the worker runs this same function, and 2,000 worker starts would be slow.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { readCsv } from '../../src/csv/index.js';
import { ErrorCodes, isEnrichbotError } from '../../src/errors.js';

/** Fixed so a failure can be replayed; fast-check prints it (with the shrunk case) on failure. */
const SEED = Number(process.env.CSV_FC_SEED ?? 20261207);

const headerName = fc.constantFrom('Email', 'E-mail', 'Domain', 'Website', 'First Name', 'Last Name', 'Company', 'LinkedIn', 'Name', 'Notes', '', '"', '"Email"', '__proto__', 'Ünïcödé');
const piece = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'jane@acme.com', 'acme.com', 'Acme', 'é', ' ', ',', ';', '\t', '"', '""', '\n', '\r', '\r\n', '\uFEFF', 'a","', '"a', 'a"b', '",', '=1+1', '\u0000') },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '"', '",\n', 'a","\n', '\n"', ',', '\n'), fc.integer({ min: 1, max: 600 })).map(([s, n]) => s.repeat(n)) },
);
const file = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t'),
  header: fc.array(headerName, { minLength: 0, maxLength: 5 }),
  body: fc.array(piece, { maxLength: 50 }).map((p) => p.join('')),
  encoding: fc.constantFrom('string', 'utf8', 'utf8-bom', 'utf16le-bom', 'latin1'),
  asStream: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  maxRecordChars: fc.constantFrom(50, 500, 64 * 1024),
  maxRows: fc.constantFrom(5, 100, 10_000),
});

function bytesOf(text: string, encoding: string): Buffer {
  if (encoding === 'utf8-bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
  if (encoding === 'utf16le-bom') return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  if (encoding === 'latin1') return Buffer.from(text, 'latin1');
  return Buffer.from(text);
}

test('fuzz (2,000 cases): no crash; a file is refused with a CSV code or read with a line and reason on every refused row', async () => {
  await fc.assert(
    fc.asyncProperty(file, async (f) => {
      const text = `${f.header.join(f.delimiter)}\n${f.body}`;
      const bytes = bytesOf(text, f.encoding);
      const points = [...new Set(f.cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const pieces = [0, ...points].map((p, i, all) => bytes.subarray(p, all[i + 1] ?? bytes.length));
      const source = f.encoding === 'string' ? text : f.asStream ? Readable.from(pieces) : bytes;
      const probe = { examined: 0 };
      let index = 0;
      let line = 0;
      try {
        const read = await readCsv(source, { maxRows: f.maxRows, maxRecordChars: f.maxRecordChars, probe });
        expect(read.headers.length).toBeGreaterThan(0);
        // Plain checks per row (jest's expect per row would dominate the run).
        for await (const row of read.rows) {
          const bad =
            row.index !== index++ ? 'index out of order'
            : row.line <= line ? 'line not increasing'
            : row.input === null && !row.problem?.startsWith(`line ${row.line}: `) ? 'refused row without its line and reason'
            : row.input === null && row.problem!.length <= `line ${row.line}: `.length ? 'empty reason'
            : Object.keys(row.columns).join('\u0001') !== read.headers.join('\u0001') ? 'cells not keyed by the headers'
            : null;
          if (bad) throw new Error(`${bad}: ${JSON.stringify(row)}`);
          line = row.line;
        }
        expect(index).toBeLessThanOrEqual(f.maxRows);
      } catch (err) {
        if (!isEnrichbotError(err, ErrorCodes.CSV_INVALID) && !isEnrichbotError(err, ErrorCodes.CSV_TOO_LARGE)) throw err;
        expect(err.message.length).toBeGreaterThan(10);
      }
      // The count before reading and the read itself each split the text once at most.
      expect(probe.examined).toBeLessThanOrEqual(2 * 6 * (text.length + 1));
    }),
    { seed: SEED, numRuns: 2_000 },
  );
}, 120_000);
