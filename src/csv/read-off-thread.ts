// Reads a CSV on a worker thread, so an upload never holds the event loop that answers HTTP
// (review: a 125 kB hostile file kept /healthz unanswered for 24.5 s). The caller gets the same
// CsvReadResult as readCsv. The worker's heap is capped, and it is stopped when one step (the
// header, the next batch of rows) takes longer than `stepTimeoutMs` while the caller waits.
// A worker that finished a file is kept (one, for a minute) for the next: starting one and
// compiling the reader again costs more CPU than reading a 10,000-row upload.
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import type { CsvReadResult } from '../plugin/service.js';
import { tooManyBytes } from './decode-text.js';
import type { CellRecord } from './read-cells.js';
import { DEFAULT_MAX_BYTES, fromCells, type CsvReadOptions } from './read.js';
import type { FromReader, ToReader, WorkerInput } from './read-protocol.js';

export interface OffThreadReadOptions extends CsvReadOptions {
  /** Longest the worker may take for one step while the caller waits (default 30 s). */
  stepTimeoutMs?: number;
}

const STEP_TIMEOUT_MS = 30_000;
/** A stream's rows left unasked for this long: the caller is gone, the worker is stopped. */
const IDLE_MS = 5 * 60_000;
/** Heap for the worker: a 50 MB file as text, its row count and one batch of rows fit. */
const WORKER_HEAP_MB = 256;
/** How long a finished worker waits for the next file before it is stopped. */
const SPARE_MS = 60_000;
/**
 * A finished worker whose heap grew past this is stopped, not kept: V8 grows a heap lazily, and
 * a worker kept across 30 hostile 1 MB files reached about 300 MB RSS (a full collection after
 * each file cost more CPU than the read).
 */
const SPARE_HEAP_MB = 48;

/** The compiled worker: next to this file in dist/, or dist/'s copy when running from the sources (tests). */
const here = fileURLToPath(import.meta.url);
const WORKER_FILE = here.endsWith('.ts') ? path.resolve(path.dirname(here), '../../dist/src/csv/read-worker.js') : path.join(path.dirname(here), 'read-worker.js');

export async function readCsvOffThread(source: Readable | Buffer | string, options: OffThreadReadOptions = {}): Promise<CsvReadResult> {
  const { stepTimeoutMs = STEP_TIMEOUT_MS, probe, ...readOptions } = options;
  const stream = typeof source === 'string' || Buffer.isBuffer(source) ? null : source;
  const input: WorkerInput = { options: readOptions };
  const transfer: ArrayBuffer[] = [];
  if (!stream) {
    const bytes = typeof source === 'string' ? Buffer.byteLength(source) : (source as Buffer).length;
    const maxBytes = readOptions.maxBytes ?? DEFAULT_MAX_BYTES;
    if (bytes > maxBytes) throw tooManyBytes(maxBytes);
    // A copy the worker owns: the caller's Buffer may sit in Node's shared pool.
    const copy = typeof source === 'string' ? source : new Uint8Array(source as Buffer);
    if (typeof copy !== 'string') transfer.push(copy.buffer as ArrayBuffer);
    input.whole = copy;
  }
  const worker = takeWorker();
  const link = new ReaderLink(worker, stream, stepTimeoutMs, probe);
  worker.postMessage({ t: 'start', input } satisfies ToReader, transfer);
  const head = await link.next();
  if (head.t !== 'head') throw link.close(new EnrichbotError(ErrorCodes.CSV_INVALID, 'The file could not be read: the reader sent rows before the header.'));

  async function* records(): AsyncGenerator<CellRecord> {
    try {
      for (;;) {
        const m = await link.next();
        if (m.t !== 'rows') continue;
        for (const r of m.rows) yield r.length === 2 ? { line: r[0], cells: r[1] } : { line: r[0], text: r[1], reason: r[2] };
        if (m.last) return;
      }
    } finally {
      link.close();
    }
  }
  // The cells are named and mapped to inputs here: light work, and it keeps the worker's imports small.
  return fromCells(head.header, head.delimiter, records(), () => link.close());
}

let spare: { worker: Worker; timer: NodeJS.Timeout } | null = null;

function takeWorker(): Worker {
  if (spare) {
    const { worker, timer } = spare;
    clearTimeout(timer);
    spare = null;
    return worker;
  }
  const worker = new Worker(WORKER_FILE, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
  // The worker alone does not keep the process up: a caller waiting for it does (the step timer).
  worker.unref();
  worker.on('exit', () => {
    if (spare?.worker === worker) spare = null;
  });
  return worker;
}

/** Keeps a worker that finished its file for the next one, or stops it when one is kept already. */
function giveBack(worker: Worker): void {
  if (spare) {
    void worker.terminate();
    return;
  }
  const timer = setTimeout(() => {
    if (spare?.worker === worker) spare = null;
    void worker.terminate();
  }, SPARE_MS);
  timer.unref();
  spare = { worker, timer };
}

/** The caller's side of the worker: messages in order, the stream fed on request, the step timer. */
class ReaderLink {
  private readonly queue: FromReader[] = [];
  private waiter: { resolve: (m: FromReader) => void; reject: (err: Error) => void } | null = null;
  private failure: Error | null = null;
  private closed = false;
  private ended = false;
  /** The worker finished its file (sent the last rows or a refusal) and is idle. */
  private reusable = false;
  private stepTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The worker is waiting for the caller's stream, not working. */
  private feeding = false;
  private sourceError: Error | null = null;
  private readonly chunks: AsyncIterator<unknown> | null;

  constructor(
    private readonly worker: Worker,
    private readonly stream: Readable | null,
    private readonly stepTimeoutMs: number,
    private readonly probe: CsvReadOptions['probe'],
  ) {
    this.chunks = stream ? stream[Symbol.asyncIterator]() : null;
    worker.on('message', this.onMessage);
    worker.on('error', this.onError);
    worker.on('exit', this.onExit);
  }

  private readonly onMessage = (m: FromReader) => this.receive(m);
  private readonly onError = (err: Error) =>
    this.close(new EnrichbotError(ErrorCodes.CSV_INVALID, `The file could not be read: ${err.message}. Check that it is a CSV file; split a large file into smaller ones.`, { cause: err }));
  private readonly onExit = (code: number) => {
    this.reusable = false;
    this.close(new EnrichbotError(ErrorCodes.CSV_INVALID, `The file could not be read: the reader stopped (exit code ${code}). Split it into smaller files.`));
  };

  /** The worker's next header or batch of rows; asks for the next batch when none is waiting. */
  next(): Promise<FromReader> {
    this.clearIdle();
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.post({ t: 'pull' });
      if (!this.feeding) this.armStep();
    });
  }

  /** Stops the worker and lets go of the stream; returns `err` (recorded for later calls) to throw. */
  close(err?: Error): Error {
    if (err && !this.failure) this.failure = err;
    if (!this.closed) {
      this.closed = true;
      this.clearStep();
      this.clearIdle();
      this.worker.off('message', this.onMessage);
      this.worker.off('error', this.onError);
      this.worker.off('exit', this.onExit);
      // Done with its file (last rows or a refusal sent), it is idle: keep it; otherwise stop it.
      if (this.reusable) giveBack(this.worker);
      else void this.worker.terminate();
      if (this.stream && !this.stream.readableEnded) this.stream.destroy();
    }
    const failure = this.failure;
    if (failure && this.waiter) {
      this.waiter.reject(failure);
      this.waiter = null;
    }
    return failure ?? new EnrichbotError(ErrorCodes.CSV_INVALID, 'The file could not be read: the reader was stopped.');
  }

  private receive(m: FromReader): void {
    if (m.t === 'need') {
      this.clearStep();
      void this.feed();
      return;
    }
    if (this.probe) this.probe.examined = m.examined;
    if (m.t === 'error') {
      this.ended = true;
      this.reusable = (m.heapMb ?? Infinity) < SPARE_HEAP_MB;
      const err = this.sourceError ?? (m.code ? new EnrichbotError(m.code, m.message) : new EnrichbotError(ErrorCodes.CSV_INVALID, `The file could not be read: ${m.message}.`));
      this.close(err);
      return;
    }
    if (m.t === 'rows' && m.last) {
      this.ended = true;
      this.reusable = (m.heapMb ?? Infinity) < SPARE_HEAP_MB;
    }
    this.clearStep();
    if (this.waiter) {
      this.waiter.resolve(m);
      this.waiter = null;
    } else this.queue.push(m);
    if (this.ended) this.close();
    else if (this.stream) this.armIdle();
  }

  /** Hands the worker the stream's next chunk (a copy it owns), or the end, or the stream's error. */
  private async feed(): Promise<void> {
    this.feeding = true;
    try {
      const next = await this.chunks!.next();
      if (this.closed) return;
      if (next.done) this.post({ t: 'end' });
      else {
        const value = next.value;
        // Always a fresh copy: Node's pooled Buffers cannot be transferred.
        const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(value as Uint8Array);
        this.post({ t: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
      }
    } catch (err) {
      this.sourceError = err instanceof Error ? err : new Error(String(err));
      this.post({ t: 'fail', message: this.sourceError.message });
    } finally {
      this.feeding = false;
    }
    if (this.waiter) this.armStep();
  }

  private post(m: ToReader, transfer: ArrayBuffer[] = []): void {
    if (!this.closed) this.worker.postMessage(m, transfer);
  }

  private armStep(): void {
    this.clearStep();
    this.stepTimer = setTimeout(() => {
      const seconds = Math.round(this.stepTimeoutMs / 100) / 10;
      this.close(new EnrichbotError(ErrorCodes.CSV_TOO_LARGE, `Reading the file took longer than ${seconds} s for one step and was stopped. Split it into smaller files.`));
    }, this.stepTimeoutMs);
  }

  private clearStep(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = null;
  }

  private armIdle(): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => this.close(new EnrichbotError(ErrorCodes.CSV_INVALID, 'The file was left unread too long and was let go.')), IDLE_MS);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
