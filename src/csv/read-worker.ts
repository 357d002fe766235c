// The CSV reader's worker thread (see read-off-thread.ts): decodes, splits and parses an upload
// into cells (read-cells.ts) away from the event loop that answers HTTP. A whole file (Buffer or string, already within the
// row limit once the header is sent) is sent back in batches without waiting; a stream is read
// only as rows are asked for, one batch per request, so a 50 MB file is never held as rows.
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { isEnrichbotError } from '../errors.js';
import { readCells, type CellRecord, type CsvReadProbe } from './read-cells.js';
import type { FromReader, ToReader, WireRecord, WorkerInput } from './read-protocol.js';

const port = parentPort!;
/** The heap this worker holds, sent with a file's last message: the caller keeps it only if small. */
const heapMb = () => v8.getHeapStatistics().total_heap_size / 1024 / 1024;
/** Rows per message: enough that messages cost little next to parsing. */
const ROWS_PER_MESSAGE = 256;
const probe: CsvReadProbe = { examined: 0 };

const inbox: ToReader[] = [];
let wake: (() => void) | null = null;
port.on('message', (m: ToReader) => {
  inbox.push(m);
  wake?.();
});

async function next<T extends ToReader['t']>(...types: T[]): Promise<Extract<ToReader, { t: T }>> {
  for (;;) {
    const i = inbox.findIndex((m) => (types as string[]).includes(m.t));
    if (i >= 0) return inbox.splice(i, 1)[0] as Extract<ToReader, { t: T }>;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  }
}

const send = (m: FromReader) => port.postMessage(m);

/** The next file to read; messages before it belong to the previous file (pulls sent as it ended). */
async function nextFile(): Promise<WorkerInput> {
  for (;;) {
    const i = inbox.findIndex((m) => m.t === 'start');
    if (i >= 0) return (inbox.splice(0, i + 1)[i] as Extract<ToReader, { t: 'start' }>).input;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  }
}

/** The caller's stream, one chunk per request. */
async function* chunks(): AsyncGenerator<Buffer> {
  for (;;) {
    send({ t: 'need' });
    const m = await next('chunk', 'end', 'fail');
    if (m.t === 'end') return;
    if (m.t === 'fail') throw new Error(m.message);
    yield Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  }
}

/** One file: the header, then its records in batches; a refusal is sent as an error. */
async function readOne(data: WorkerInput): Promise<void> {
  const whole = data.whole;
  const source = whole === undefined ? Readable.from(chunks(), { objectMode: false }) : typeof whole === 'string' ? whole : Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
  const read = await readCells(source, { ...data.options, probe });
  send({ t: 'head', header: read.header, delimiter: read.delimiter, examined: probe.examined });
  const rows = read.records;
  for (;;) {
    if (whole === undefined) await next('pull');
    const batch: WireRecord[] = [];
    let last = false;
    while (batch.length < ROWS_PER_MESSAGE) {
      let r: IteratorResult<CellRecord>;
      try {
        r = await rows.next();
      } catch (err) {
        // The rows before a refusal (the row limit) are the caller's, as when read in-thread.
        if (batch.length) send({ t: 'rows', rows: batch, last: false, examined: probe.examined });
        throw err;
      }
      if (r.done) {
        last = true;
        break;
      }
      const rec = r.value;
      batch.push('cells' in rec ? [rec.line, rec.cells] : [rec.line, rec.text, rec.reason]);
    }
    send({ t: 'rows', rows: batch, last, examined: probe.examined, ...(last ? { heapMb: heapMb() } : {}) });
    if (last) return;
  }
}

// Files one after another: a worker started once keeps its compiled code warm for the next upload.
for (;;) {
  const input = await nextFile();
  probe.examined = 0;
  try {
    await readOne(input);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const base = { t: 'error' as const, message, examined: probe.examined, heapMb: heapMb() };
    send(isEnrichbotError(err) ? { ...base, code: err.code } : base);
  }
}
