// Messages between the caller and the CSV reader's worker thread (read-off-thread.ts, read-worker.ts).
import type { ErrorCode } from '../errors.js';

export interface WorkerInput {
  options: { maxRows?: number; maxBytes?: number; maxRecordChars?: number };
  /** The whole file when the caller has it; otherwise the worker asks for the stream's chunks. */
  whole?: Uint8Array | string;
}

/**
 * `examined`: characters the record splitter has examined so far (the read's work, for tests).
 * `heapMb`: the worker's heap once the file is done (it is reused only while that is small).
 */

/** A record as sent: line and cells, or line, first-line text and why it could not be read. */
export type WireRecord = [number, string[]] | [number, string, string];

/** Caller to worker. `start` begins a read; a worker reads files one after another. */
export type ToReader = { t: 'start'; input: WorkerInput } | { t: 'chunk'; bytes: Uint8Array } | { t: 'end' } | { t: 'fail'; message: string } | { t: 'pull' };

/** Worker to caller. */
export type FromReader =
  | { t: 'need' }
  | { t: 'head'; header: string[]; delimiter: string; examined: number }
  | { t: 'rows'; rows: WireRecord[]; last: boolean; examined: number; heapMb?: number }
  | { t: 'error'; code?: ErrorCode; message: string; examined: number; heapMb?: number };
