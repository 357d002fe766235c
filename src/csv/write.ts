// Writes a batch's results as CSV while they stream in: the caller's input columns first, then
// every canonical field, then where each value came from, then status and reason. Rows go
// through csv-stringify into `out` under stream backpressure, so the next row is only asked for
// when the destination has taken the previous ones.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { COMPANY_FIELDS, PERSON_FIELDS } from '../engine/fields.js';
import type { BatchResultRow, RecordView } from '../plugin/service.js';
import { formulaSafe } from './formula-safe.js';

export interface CsvWriteOptions {
  /** The input columns, in order, written first (header names as read). */
  inputColumns: string[];
}

/** Canonical fields in the export, in order: person fields, then company fields. */
export const EXPORT_FIELDS: string[] = [...Object.keys(PERSON_FIELDS), ...Object.keys(COMPANY_FIELDS)];

/** The header row the export writes (before formula escaping). */
export function exportHeader(inputColumns: string[]): string[] {
  return [...inputColumns, ...EXPORT_FIELDS, ...EXPORT_FIELDS.map((f) => `${f} source`), 'status', 'reason'];
}

/** Streams `rows` to `out` as CSV (UTF-8 with BOM) and ends `out`. */
export async function writeCsv(rows: AsyncIterable<BatchResultRow>, out: Writable, options: CsvWriteOptions): Promise<{ rows: number }> {
  let count = 0;
  async function* records(): AsyncGenerator<string[]> {
    yield exportHeader(options.inputColumns).map(formulaSafe);
    for await (const row of rows) {
      count++;
      yield exportRow(row, options.inputColumns);
    }
  }
  // highWaterMark 1: the generator runs at most one row ahead of what csv-stringify has taken.
  await pipeline(Readable.from(records(), { objectMode: true, highWaterMark: 1 }), stringify({ bom: true }), out);
  return { rows: count };
}

/** Each export field's record (person or company) and its key there, worked out once, not per row. */
const FIELD_PARTS = EXPORT_FIELDS.map((f) => ({ person: f.startsWith('person.'), key: f.slice(f.indexOf('.') + 1) }));

/** One result row's cells, formula-safe, in exportHeader's order. */
function exportRow(row: BatchResultRow, inputColumns: string[]): string[] {
  const n = FIELD_PARTS.length;
  const cells = new Array<string>(inputColumns.length + 2 * n + 2);
  let k = 0;
  for (const c of inputColumns) cells[k++] = formulaSafe(row.columns[c] ?? '');
  // A RecordView keys its fields without the subject ("name" under company).
  const person: RecordView['fields'] | undefined = row.result?.person?.fields;
  const company: RecordView['fields'] | undefined = row.result?.company?.fields;
  for (let j = 0; j < n; j++) {
    const part = FIELD_PARTS[j];
    const stored = (part.person ? person : company)?.[part.key];
    cells[k + j] = stored ? formulaSafe(cellText(stored.value)) : '';
    cells[k + n + j] = stored ? formulaSafe(`${stored.provider} ${stored.fetchedAt}`) : '';
  }
  k += 2 * n;
  cells[k++] = formulaSafe(row.status);
  cells[k] = formulaSafe(row.reason ?? row.result?.error ?? '');
  return cells;
}

/** Arrays joined with "; ", objects as "key: value" pairs: readable in a spreadsheet cell. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(itemText).join('; ');
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${itemText(v)}`).join('; ');
  return String(value);
}

function itemText(item: unknown): string {
  if (item === null || item === undefined) return '';
  if (Array.isArray(item)) return item.map(itemText).join(', ');
  if (typeof item === 'object') {
    return Object.entries(item)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(', ');
  }
  return String(item);
}
