// Helpers for the CSV tests: collect a Writable into a Buffer, list an async iterable.
import { Writable } from 'node:stream';

export function collector(): { out: Writable; buffer(): Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { out, buffer: () => Buffer.concat(chunks) };
}

export async function list<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Quotes a cell the way a spreadsheet export does (only when needed). */
export function quote(cell: string, delimiter: string): string {
  return /["\r\n]/.test(cell) || cell.includes(delimiter) ? `"${cell.replace(/"/g, '""')}"` : cell;
}
