// CSV bytes to text. Most files are UTF-8, but Excel's "Unicode Text" export is UTF-16 with a
// BOM and its "CSV" export on Windows is Windows-1252: read as UTF-8, "Müller" would become
// "M�ller" and be enriched under a wrong name. The encoding is chosen from the BOM, else UTF-8
// if the first 64 KiB are valid UTF-8, else Windows-1252.
import { TextDecoder } from 'node:util';
import { EnrichbotError, ErrorCodes } from '../errors.js';

const SNIFF_BYTES = 64 * 1024;

export function sniffEncoding(prefix: Uint8Array): string {
  if (prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf) return 'utf-8';
  if (prefix[0] === 0xff && prefix[1] === 0xfe) return 'utf-16le';
  if (prefix[0] === 0xfe && prefix[1] === 0xff) return 'utf-16be';
  try {
    // stream: true, so a character cut at the end of the sample is not counted as invalid.
    new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(0, SNIFF_BYTES), { stream: true });
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/** A whole file's text (the BOM, if any, dropped). */
export function decodeBuffer(buf: Buffer): string {
  return new TextDecoder(sniffEncoding(buf)).decode(buf);
}

/** A stream's text, chunk by chunk; refuses more than `maxBytes` bytes. */
export async function* decodeStream(source: AsyncIterable<unknown>, maxBytes: number, onTooLarge: () => void): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  let head: Buffer[] = [];
  let headBytes = 0;
  let bytes = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    bytes += buf.length;
    if (bytes > maxBytes) {
      onTooLarge();
      throw tooManyBytes(maxBytes);
    }
    if (!decoder) {
      head.push(buf);
      headBytes += buf.length;
      if (headBytes < SNIFF_BYTES) continue;
      const prefix = Buffer.concat(head);
      head = [];
      decoder = new TextDecoder(sniffEncoding(prefix));
      const text = decoder.decode(prefix, { stream: true });
      if (text) yield text;
      continue;
    }
    const text = decoder.decode(buf, { stream: true });
    if (text) yield text;
  }
  if (!decoder) {
    const prefix = Buffer.concat(head);
    decoder = new TextDecoder(sniffEncoding(prefix));
    const text = decoder.decode(prefix, { stream: true });
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

export function tooManyBytes(maxBytes: number): EnrichbotError {
  const mb = Math.round((maxBytes / 1024 / 1024) * 10) / 10;
  return new EnrichbotError(ErrorCodes.CSV_TOO_LARGE, `The file is larger than ${mb} MB, the limit per file. Split it into smaller files.`);
}
