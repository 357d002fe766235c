// Reads an uploaded or local CSV lazily: rows come out of an async generator as the source is
// read, so a 50 MB file is never held as rows. Fields are parsed by csv-parse; record
// boundaries come from RecordSplitter so a broken row costs one line, not the rest of the file.
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import type { CsvReadResult } from '../plugin/service.js';
import { ACCEPTED_HEADERS, detectColumns, rowInput } from './header-map.js';
import { decodeBuffer, decodeStream, tooManyBytes } from './decode-text.js';
import { detectDelimiter, RecordSplitter, type SplitRecord } from './record-splitter.js';

export interface CsvReadOptions {
  /** Data rows allowed (default 10,000); a file with more is refused. */
  maxRows?: number;
  /** Bytes allowed (default 50 MB). */
  maxBytes?: number;
  /** Characters allowed in one row (default 64 KiB); a longer row is kept as broken. */
  maxRecordChars?: number;
  /** Counts the characters the record splitter examined: the work reading this file took. */
  probe?: CsvReadProbe;
}

export interface CsvReadProbe {
  examined: number;
}

export type CsvRow = CsvReadResult extends { rows: AsyncIterable<infer R> } ? R : never;

const DEFAULT_MAX_ROWS = 10_000;
export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
const DEFAULT_MAX_RECORD_CHARS = 64 * 1024;
/** Rows parsed per csv-parse call: one call per row costs about five times more. */
const PARSE_BATCH = 256;
/** Slices a Buffer or string source is fed in, so split records stay few at a time. */
const SLICE_CHARS = 256 * 1024;
/** Slices the row count reads, small so it stops soon after the row limit. */
const COUNT_SLICE_CHARS = 16 * 1024;

export async function readCsv(source: Readable | Buffer | string, options: CsvReadOptions = {}): Promise<CsvReadResult> {
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;

  let chunks: AsyncIterator<string>;
  if (typeof source === 'string' || Buffer.isBuffer(source)) {
    const bytes = typeof source === 'string' ? Buffer.byteLength(source) : source.length;
    if (bytes > maxBytes) throw tooManyBytes(maxBytes);
    const text = stripBom(typeof source === 'string' ? source : decodeBuffer(source));
    // Counting records is one cheap pass, stopped once the limit is passed; it refuses an
    // oversized file before any row is used.
    if (countRecords(text, maxRecordChars, maxRows + 1, options.probe) - 1 > maxRows) throw tooManyRows(maxRows);
    chunks = slices(text)[Symbol.asyncIterator]();
  } else {
    chunks = decodeStream(source, maxBytes, () => source.destroy())[Symbol.asyncIterator]();
  }

  const records = splitRecords(chunks, maxRecordChars, options.probe);
  const release = () => {
    if (typeof source !== 'string' && !Buffer.isBuffer(source) && !source.readableEnded) source.destroy();
  };
  const refuse = (err: EnrichbotError) => {
    release();
    return err;
  };
  const first = await records.next();
  if (first.done) throw refuse(invalid('The file is empty: expected a header line such as "Email,First Name,Last Name,Company".'));
  const { delimiter, record: head } = first.value;
  if (head.kind === 'broken') throw refuse(invalid(`The header line cannot be read: ${head.reason}.`));
  const headers = uniqueHeaders(parseFields([head.text], delimiter)[0] ?? []);
  const columns = detectColumns(headers);
  if (Object.keys(columns).length === 0) {
    const found = headers.map((h) => `"${h}"`).join(', ');
    throw refuse(invalid(`No column this file has can be enriched. Columns found: ${found}. Name at least one of: ${ACCEPTED_HEADERS}.`));
  }

  async function* rows(): AsyncGenerator<CsvRow> {
    let index = 0;
    let batch: SplitRecord[] = [];
    const emit = function* (pending: SplitRecord[]): Generator<CsvRow> {
      const good = pending.filter((r) => r.kind === 'record');
      const fields = parseBatch(good, delimiter);
      let g = 0;
      for (const rec of pending) {
        if (index >= maxRows) throw tooManyRows(maxRows);
        if (rec.kind === 'broken') {
          yield { index: index++, line: rec.line, columns: roughCells(rec.text), input: null, problem: `line ${rec.line}: ${rec.reason}` };
          continue;
        }
        const parsed = fields[g++];
        if (parsed instanceof Error) {
          yield { index: index++, line: rec.line, columns: roughCells(rec.text), input: null, problem: `line ${rec.line}: ${parsed.message}` };
          continue;
        }
        yield toRow(index++, rec.line, parsed);
      }
    };
    /** A broken row's cells, split naively, so the export still shows what the row held. */
    const roughCells = (text: string): Record<string, string> => {
      const cells = text.split(delimiter).map((c) => c.trim().replace(/^"|"$/g, '').replace(/""/g, '"'));
      return Object.fromEntries(headers.map((h, j) => [h, cells[j] ?? '']));
    };
    const toRow = (i: number, line: number, cells: string[]): CsvRow => {
      // Own properties even for a header such as "__proto__" (a plain assignment would set the prototype).
      const cellMap: Record<string, string> = {};
      headers.forEach((h, j) => Object.defineProperty(cellMap, h, { value: cells[j] ?? '', enumerable: true, writable: true, configurable: true }));
      const extra = cells.slice(headers.length).filter((c) => c.trim() !== '');
      if (extra.length) {
        const problem = `line ${line}: the row has ${cells.length} cells but the header has ${headers.length}; a value containing "${delimiter === '\t' ? 'tab' : delimiter}" must be in double quotes`;
        return { index: i, line, columns: cellMap, input: null, problem };
      }
      const { input, problem } = rowInput(columns, cellMap, line);
      return problem === undefined ? { index: i, line, columns: cellMap, input } : { index: i, line, columns: cellMap, input, problem };
    };
    try {
      for (;;) {
        const next = await records.next();
        if (next.done) break;
        batch.push(next.value.record);
        if (batch.length >= PARSE_BATCH) {
          yield* emit(batch);
          batch = [];
        }
      }
      yield* emit(batch);
    } finally {
      release(); // stopped early (the consumer broke off, or a limit was hit): let go of the file
    }
  }

  return { headers, columns, delimiter, rows: rows() };
}

/** Records in order, each with the delimiter detected from the header line. */
async function* splitRecords(chunks: AsyncIterator<string>, maxRecordChars: number, probe?: CsvReadProbe): AsyncGenerator<{ delimiter: string; record: SplitRecord }> {
  // Read until the header line is complete, to pick the delimiter before splitting.
  let head = '';
  let done = false;
  while (!head.includes('\n') && head.length <= maxRecordChars) {
    const next = await chunks.next();
    if (next.done) {
      done = true;
      break;
    }
    head += next.value;
  }
  head = stripBom(head);
  const nl = head.indexOf('\n');
  const delimiter = detectDelimiter(nl < 0 ? head : head.slice(0, nl));
  const splitter = new RecordSplitter(delimiter, maxRecordChars);
  let counted = 0;
  const split = (records: SplitRecord[]) => {
    if (probe) probe.examined += splitter.examined - counted;
    counted = splitter.examined;
    return records;
  };
  for (const record of split(splitter.feed(head))) yield { delimiter, record };
  while (!done) {
    const next = await chunks.next();
    if (next.done) break;
    for (const record of split(splitter.feed(next.value))) yield { delimiter, record };
  }
  for (const record of split(splitter.end())) yield { delimiter, record };
}

/** Fields of each record; a record csv-parse refuses is returned as its Error. */
function parseBatch(records: SplitRecord[], delimiter: string): (string[] | Error)[] {
  if (records.length === 0) return [];
  try {
    const all = parseFields(records.map((r) => r.text), delimiter);
    if (all.length === records.length) return all;
  } catch {
    // One bad record fails the whole call: parse them one by one to find it.
  }
  return records.map((r) => {
    try {
      const one = parseFields([r.text], delimiter);
      return one.length === 1 ? one[0] : new Error('the row could not be split into cells');
    } catch (err) {
      return new Error(errorMessage(err).replace(/^Invalid Record Length: /, ''));
    }
  });
}

function parseFields(texts: string[], delimiter: string): string[][] {
  return parse(texts.join('\n'), {
    delimiter,
    record_delimiter: '\n',
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: false,
  }) as string[][];
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

/** Records in `text` (header included), counted no further than `stopAfter`: a refusal needs no more. */
function countRecords(text: string, maxRecordChars: number, stopAfter: number, probe?: CsvReadProbe): number {
  const nl = text.indexOf('\n');
  const splitter = new RecordSplitter(detectDelimiter(nl < 0 ? text : text.slice(0, nl)), maxRecordChars);
  let n = 0;
  // Small slices, so counting stops soon after the limit is passed.
  for (let i = 0; i < text.length && n <= stopAfter; i += COUNT_SLICE_CHARS) n += splitter.feed(text.slice(i, i + COUNT_SLICE_CHARS)).length;
  if (n <= stopAfter) n += splitter.end().length;
  if (probe) probe.examined += splitter.examined;
  return n;
}

async function* slices(text: string): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += SLICE_CHARS) yield text.slice(i, i + SLICE_CHARS);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function invalid(message: string): EnrichbotError {
  return new EnrichbotError(ErrorCodes.CSV_INVALID, message);
}

function tooManyRows(maxRows: number): EnrichbotError {
  return new EnrichbotError(
    ErrorCodes.CSV_TOO_LARGE,
    `The file has more than ${maxRows.toLocaleString('en-US')} rows; the limit is ${maxRows.toLocaleString('en-US')} rows per file. Split it into files of at most ${maxRows.toLocaleString('en-US')} rows.`,
  );
}
