// Hostile CSV text, shared by the CSV reader fuzz (test/fuzz/csv-reader) and the record
// splitter's linear-time properties (test/csv/linear-time): lone and doubled quotes, quotes
// mid-field, three delimiters, CR/LF/CRLF, BOMs, NUL, formulas, and long runs of each.
import fc from 'fast-check';

/**
 * At most six scanner states are alive at once in RecordSplitter, so no character is examined
 * more than six times per pass (src/csv/record-splitter.ts).
 */
export const MAX_WORK_PER_CHAR = 6;

/** One piece of a hostile file; a file is pieces joined. `maxRun` bounds the repeated runs. */
export function hostilePiece(maxRun = 600): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('a', 'jane@acme.com', 'acme.com', 'Acme', 'é', ' ', ',', ';', '\t', '"', '""', '\n', '\r', '\r\n', '\uFEFF', 'a","', '"a', 'a"b', '",', '=1+1', '\u0000', '\u0000\u0000\u0000') },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '"', '",\n', 'a","\n', '\n"', ',', '\n', '\u0000'), fc.integer({ min: 1, max: maxRun })).map(([s, n]) => s.repeat(n)) },
  );
}
