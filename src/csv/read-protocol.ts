// Messages between the caller and the CSV reader's worker thread (read-off-thread.ts, read-worker.ts).
import type { StructuredInput } from '../engine/identity.js';
import type { ErrorCode } from '../errors.js';
import type { CsvColumnMap } from '../plugin/service.js';

export interface WorkerInput {
  options: { maxRows?: number; maxBytes?: number; maxRecordChars?: number };
  /** The whole file when the caller has it; otherwise the worker asks for the stream's chunks. */
  whole?: Uint8Array | string;
}

/** `examined`: characters the record splitter has examined so far (the read's work, for tests). */

/** A row as sent: index, line, cells in header order, input, problem. */
export type WireRow = [number, number, string[], StructuredInput | null, string | undefined];

/** Caller to worker. */
export type ToReader = { t: 'chunk'; bytes: Uint8Array } | { t: 'end' } | { t: 'fail'; message: string } | { t: 'pull' };

/** Worker to caller. */
export type FromReader =
  | { t: 'need' }
  | { t: 'head'; headers: string[]; columns: CsvColumnMap; delimiter: string; examined: number }
  | { t: 'rows'; rows: WireRow[]; last: boolean; examined: number }
  | { t: 'error'; code?: ErrorCode; message: string; examined: number };
