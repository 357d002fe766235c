// Reads an uploaded or local CSV lazily: rows come out of an async generator as the source is
// read, so a 50 MB file is never held as rows. read-cells.ts turns bytes into cells (record
// boundaries from RecordSplitter, so a broken row costs one line, not the rest of the file);
// here the header names the cells and each row becomes an enrichment input or a reason why not.
// ctx.csv.read runs the cells half on a worker thread (read-off-thread.ts) and this half here.
import type { Readable } from 'node:stream';
import type { CsvReadResult } from '../plugin/service.js';
import { ACCEPTED_HEADERS, detectColumns, rowInput } from './header-map.js';
import { invalid, readCells, type CellReadOptions, type CellRecord } from './read-cells.js';

export { DEFAULT_MAX_BYTES, type CsvReadProbe } from './read-cells.js';
export type CsvReadOptions = CellReadOptions;
export type CsvRow = CsvReadResult extends { rows: AsyncIterable<infer R> } ? R : never;

export async function readCsv(source: Readable | Buffer | string, options: CsvReadOptions = {}): Promise<CsvReadResult> {
  const read = await readCells(source, options);
  return fromCells(read.header, read.delimiter, read.records, () => read.release());
}

/**
 * Names the cells by the header and maps each record to a row; refuses a file with no column
 * that can be enriched (calling `release` first, so the source is let go).
 */
export function fromCells(header: string[], delimiter: string, records: AsyncIterable<CellRecord>, release: () => void): CsvReadResult {
  const headers = uniqueHeaders(header);
  const columns = detectColumns(headers);
  if (Object.keys(columns).length === 0) {
    release();
    const found = headers.map((h) => `"${h}"`).join(', ');
    throw invalid(`No column this file has can be enriched. Columns found: ${found}. Name at least one of: ${ACCEPTED_HEADERS}.`);
  }
  /** A broken row's cells, split naively, so the export still shows what the row held. */
  const roughCells = (text: string): Record<string, string> => {
    const cells = text.split(delimiter).map((c) => c.trim().replace(/^"|"$/g, '').replace(/""/g, '"'));
    return cellMap(headers, cells);
  };
  async function* rows(): AsyncGenerator<CsvRow> {
    let index = 0;
    for await (const rec of records) {
      const i = index++;
      if (!('cells' in rec)) {
        yield { index: i, line: rec.line, columns: roughCells(rec.text), input: null, problem: `line ${rec.line}: ${rec.reason}` };
        continue;
      }
      const { line, cells } = rec;
      const map = cellMap(headers, cells);
      const extra = cells.slice(headers.length).filter((c) => c.trim() !== '');
      if (extra.length) {
        const problem = `line ${line}: the row has ${cells.length} cells but the header has ${headers.length}; a value containing "${delimiter === '\t' ? 'tab' : delimiter}" must be in double quotes`;
        yield { index: i, line, columns: map, input: null, problem };
        continue;
      }
      const { input, problem } = rowInput(columns, map, line);
      yield problem === undefined ? { index: i, line, columns: map, input } : { index: i, line, columns: map, input, problem };
    }
  }
  return { headers, columns, delimiter, rows: rows() };
}

function cellMap(headers: string[], cells: string[]): Record<string, string> {
  // fromEntries defines own properties, even for a header such as "__proto__" (a plain
  // assignment would set the prototype).
  return Object.fromEntries(headers.map((h, j) => [h, cells[j] ?? '']));
}

/** Empty names become "column N"; a repeated name gets " (2)", so every cell has a key. */
function uniqueHeaders(raw: string[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((h, i) => {
    const name = h.trim() === '' ? `column ${i + 1}` : h;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} (${n})`;
  });
}
