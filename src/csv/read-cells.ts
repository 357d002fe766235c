// The CPU-heavy half of reading a CSV, run on the worker thread (read-worker.ts): bytes to text,
// text to records (RecordSplitter), records to cells (csv-parse), and the size and row limits.
// It imports nothing heavier than csv-parse, so a worker starts quickly. Mapping cells to
// enrichment inputs (read.ts) is light and runs in the caller.
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import { decodeBuffer, decodeStream, tooManyBytes } from './decode-text.js';
import { detectDelimiter, RecordSplitter, type SplitRecord } from './record-splitter.js';

export interface CellReadOptions {
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

/** A data row's cells, or why it has none (`text`: its first line, for a rough split). */
export type CellRecord = { line: number; cells: string[] } | { line: number; text: string; reason: string };

export interface CellRead {
  /** The header line's cells, as written. */
  header: string[];
  delimiter: string;
  records: AsyncGenerator<CellRecord>;
  /** Lets go of a stream source without reading its records. */
  release(): void;
}

export const DEFAULT_MAX_ROWS = 10_000;
export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
const DEFAULT_MAX_RECORD_CHARS = 64 * 1024;
/** Rows parsed per csv-parse call: one call per row costs about five times more. */
const PARSE_BATCH = 256;
/** Slices a Buffer or string source is fed in, so split records stay few at a time. */
const SLICE_CHARS = 256 * 1024;
/** Slices the row count reads, small so it stops soon after the row limit. */
const COUNT_SLICE_CHARS = 16 * 1024;

/** The limits of one read, defaults filled in. */
interface ReadLimits {
  maxRows: number;
  maxBytes: number;
  maxRecordChars: number;
  probe?: CsvReadProbe;
}

export async function readCells(source: Readable | Buffer | string, options: CellReadOptions = {}): Promise<CellRead> {
  const limits: ReadLimits = {
    maxRows: options.maxRows ?? DEFAULT_MAX_ROWS,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    maxRecordChars: options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS,
    probe: options.probe,
  };
  const chunks = textChunks(source, limits);
  const split = splitRecords(chunks, limits.maxRecordChars, limits.probe);
  const release = () => {
    if (typeof source !== 'string' && !Buffer.isBuffer(source) && !source.readableEnded) source.destroy();
  };
  const { header, delimiter } = await readHeader(split, release);
  return { header, delimiter, records: cellRecords(split, { delimiter, maxRows: limits.maxRows, release }), release };
}

/** The source as text slices; a string or Buffer is held against the byte and row limits first. */
function textChunks(source: Readable | Buffer | string, limits: ReadLimits): AsyncIterator<string> {
  if (typeof source !== 'string' && !Buffer.isBuffer(source)) return decodeStream(source, limits.maxBytes, () => source.destroy())[Symbol.asyncIterator]();
  const bytes = typeof source === 'string' ? Buffer.byteLength(source) : source.length;
  if (bytes > limits.maxBytes) throw tooManyBytes(limits.maxBytes);
  const text = stripBom(typeof source === 'string' ? source : decodeBuffer(source));
  // Counting records is one cheap pass, stopped once the limit is passed; it refuses an
  // oversized file before any row is used.
  if (countRecords(text, limits.maxRecordChars, limits.maxRows + 1, limits.probe) - 1 > limits.maxRows) throw tooManyRows(limits.maxRows);
  return slices(text)[Symbol.asyncIterator]();
}

/** The header line's cells and the delimiter; an empty file or an unreadable header is refused (the source let go). */
async function readHeader(split: AsyncGenerator<{ delimiter: string; record: SplitRecord }>, release: () => void): Promise<{ header: string[]; delimiter: string }> {
  const first = await split.next();
  if (first.done) {
    release();
    throw invalid('The file is empty: expected a header line such as "Email,First Name,Last Name,Company".');
  }
  const { delimiter, record: head } = first.value;
  if (head.kind === 'broken') {
    release();
    throw invalid(`The header line cannot be read: ${head.reason}; expected the column names on the first line, such as "Email,First Name,Last Name,Company", in a file saved as CSV (UTF-8).`);
  }
  return { delimiter, header: parseFields([head.text], delimiter)[0] ?? [] };
}

/** The data rows as cells, parsed PARSE_BATCH at a time; the row past maxRows throws. */
async function* cellRecords(split: AsyncGenerator<{ delimiter: string; record: SplitRecord }>, read: { delimiter: string; maxRows: number; release: () => void }): AsyncGenerator<CellRecord> {
  let count = 0;
  const counted = function* (cells: Iterable<CellRecord>): Generator<CellRecord> {
    for (const rec of cells) {
      if (count++ >= read.maxRows) throw tooManyRows(read.maxRows);
      yield rec;
    }
  };
  let batch: SplitRecord[] = [];
  try {
    for (;;) {
      const next = await split.next();
      if (next.done) break;
      batch.push(next.value.record);
      if (batch.length >= PARSE_BATCH) {
        yield* counted(cellsOf(batch, read.delimiter));
        batch = [];
      }
    }
    yield* counted(cellsOf(batch, read.delimiter));
  } finally {
    read.release(); // stopped early (the consumer broke off, or a limit was hit): let go of the file
  }
}

/** A batch's records as cells, in order: the good ones parsed in one call, the broken ones as they are. */
function* cellsOf(pending: SplitRecord[], delimiter: string): Generator<CellRecord> {
  const fields = parseBatch(pending.filter((r) => r.kind === 'record'), delimiter);
  let g = 0;
  for (const rec of pending) {
    if (rec.kind === 'broken') {
      yield { line: rec.line, text: rec.text, reason: rec.reason };
      continue;
    }
    const parsed = fields[g++];
    yield parsed instanceof Error ? { line: rec.line, text: rec.text, reason: parsed.message } : { line: rec.line, cells: parsed };
  }
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
    // The file's BOM is gone before splitting; past it a BOM is a character to the splitter, so
    // here too (bom: true dropped one opening a batch, then threw on the quote after it).
    bom: false,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: false,
  }) as string[][];
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

export function invalid(message: string): EnrichbotError {
  return new EnrichbotError(ErrorCodes.CSV_INVALID, message);
}

function tooManyRows(maxRows: number): EnrichbotError {
  return new EnrichbotError(
    ErrorCodes.CSV_TOO_LARGE,
    `The file has more than ${maxRows.toLocaleString('en-US')} rows; the limit is ${maxRows.toLocaleString('en-US')} rows per file. Split it into files of at most ${maxRows.toLocaleString('en-US')} rows.`,
  );
}
