// The writer pulls rows only as fast as the destination takes them (it never holds all rows),
// and any cell text survives write -> read unchanged except the documented formula prefix.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { csvModule, readCsv } from '../../src/csv/index.js';
import type { BatchResultRow } from '../../src/plugin/service.js';
import { collector, list } from './csv-support.js';

test('200,000 rows to a slow consumer: the row source is never far ahead of what was written', async () => {
  const TOTAL = 200_000;
  let produced = 0;
  let consumedRows = -1; // the header line is not a row
  let maxAhead = 0;
  async function* rows(): AsyncGenerator<BatchResultRow> {
    for (let i = 0; i < TOTAL; i++) {
      produced++;
      maxAhead = Math.max(maxAhead, produced - consumedRows);
      yield { index: i, columns: { Email: `p${i}@acme.com` }, input: { email: `p${i}@acme.com` }, status: 'queued' };
    }
  }
  let writes = 0;
  const slow = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      for (const b of chunk) if (b === 0x0a) consumedRows++;
      // Every 500th write waits for a timer: meanwhile the writer must stop pulling rows.
      if (++writes % 500 === 0) setTimeout(cb, 2);
      else cb();
    },
  });
  const { rows: written } = await csvModule.write(rows(), slow, { inputColumns: ['Email'] });
  expect(written).toBe(TOTAL);
  expect(consumedRows).toBe(TOTAL);
  // Buffers between the generator and the consumer hold a few hundred rows at most; a writer
  // that ignored backpressure would be up to 200,000 ahead.
  expect(maxAhead).toBeLessThan(2_000);
}, 300_000); // about 15 s on an idle machine (csv-stringify, 95 columns a row); far more on a busy one

/** The documented rule, restated here so the test does not trust the code it checks. */
const formulaSafe = (cell: string) => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell);

const special = fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', '\r\n', '"', ',', ';', ' ', "'", 'a', 'é', '😀', '\uFEFF');
const cellText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: special, maxLength: 12 }));

test('property: any cell written and read back equals the original, with a quote prefixed only to formula starts', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(cellText, { minLength: 1, maxLength: 15 }), cellText, async (cells, headerName) => {
      // A second input column with an arbitrary name (the header is escaped like any cell).
      const other = headerName.trim() === '' || /e-?mail/i.test(headerName) ? 'Note' : headerName;
      const inputColumns = ['Email', other];
      async function* rows(): AsyncGenerator<BatchResultRow> {
        for (const [i, cell] of cells.entries()) yield { index: i, columns: { Email: 'jane@acme.com', [other]: cell }, input: null, status: 'rejected', reason: cell };
      }
      const sink = collector();
      await csvModule.write(rows(), sink.out, { inputColumns });
      // In-thread: 200 worker starts would cost more than the property (read-off-thread.test.ts
      // shows the worker gives the same rows).
      const read = await readCsv(sink.buffer());
      expect(read.headers.slice(0, 2)).toEqual(['Email', formulaSafe(other)]);
      const back = await list(read.rows);
      expect(back.map((r) => r.columns[formulaSafe(other)])).toEqual(cells.map(formulaSafe));
      expect(back.map((r) => r.columns.reason)).toEqual(cells.map(formulaSafe));
    }),
    { numRuns: 200 },
  );
}, 120_000);
