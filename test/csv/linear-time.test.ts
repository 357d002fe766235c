// A hostile file costs work in proportion to its size. Found in review: `email` followed by
// lines of `a","` (each opens a quote that never closes) made the splitter re-read up to 64 KiB
// after every broken row, so 25,000 such lines (125 kB) blocked the process for 24 s.
import fc from 'fast-check';
import { RecordSplitter, type SplitRecord } from '../../src/csv/record-splitter.js';
import { ReferenceSplitter } from './reference-splitter.js';
import { MAX_WORK_PER_CHAR, hostilePiece } from '../fuzz/csv-hostile.js';

/** Splits `text` fed in 64 KiB slices; returns the records and the characters examined. */
function split(text: string, maxRecordChars = 64 * 1024): { records: SplitRecord[]; examined: number } {
  const s = new RecordSplitter(',', maxRecordChars);
  const records: SplitRecord[] = [];
  for (let i = 0; i < text.length; i += 64 * 1024) records.push(...s.feed(text.slice(i, i + 64 * 1024)));
  records.push(...s.end());
  return { records, examined: s.examined };
}

/** The reproducer from the review: a header, then `lines` lines that each open a quote. */
const unclosedQuotes = (lines: number) => `email\n${'a","\n'.repeat(lines)}`;

test('the review reproducer (email + lines of a",") is split with at most 6 characters examined per character, at every size', () => {
  for (const lines of [1_000, 4_000, 25_000]) {
    const text = unclosedQuotes(lines);
    const { records, examined } = split(text);
    // Reported as the examined-per-character figure when it is over the bound, to show the growth.
    const perChar = Math.round((examined / text.length) * 10) / 10;
    expect({ lines, perChar: perChar <= MAX_WORK_PER_CHAR ? 'within bound' : perChar }).toEqual({ lines, perChar: 'within bound' });
    // Every line is still its own broken row with its reason; the header is a record.
    expect(records).toHaveLength(lines + 1);
    expect(records[0]).toEqual({ kind: 'record', line: 1, text: 'email' });
    expect(records.slice(1).every((r, i) => r.kind === 'broken' && r.line === i + 2 && r.reason.length > 0)).toBe(true);
  }
});

/** Fixed so a failure can be replayed; fast-check prints it (with the shrunk case) when a property fails. */
const SEED = Number(process.env.CSV_FC_SEED ?? 20261207);

const hostileText = fc.array(hostilePiece(300), { maxLength: 120 }).map((p) => p.join(''));

function splitWith(splitter: { feed(t: string): SplitRecord[]; end(): SplitRecord[] }, pieces: string[]): SplitRecord[] {
  return [...pieces.flatMap((p) => splitter.feed(p)), ...splitter.end()];
}

function cut(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((p, i, all) => text.slice(p, all[i + 1] ?? text.length));
}

test('property: on hostile quoting the records equal those of the previous, re-reading splitter, wherever the chunks are cut', () => {
  fc.assert(
    fc.property(hostileText, fc.constantFrom(',', ';', '\t'), fc.integer({ min: 3, max: 80 }), fc.array(fc.nat(), { maxLength: 8 }), (text, d, max, cuts) => {
      const expected = splitWith(new ReferenceSplitter(d, max), [text]);
      expect(splitWith(new RecordSplitter(d, max), cut(text, cuts))).toEqual(expected);
    }),
    { seed: SEED, numRuns: 1_500 },
  );
});

test('property: on hostile quoting no character is examined more than 6 times, whatever the row limit', () => {
  fc.assert(
    fc.property(hostileText, fc.constantFrom(',', ';', '\t'), fc.integer({ min: 3, max: 64 * 1024 }), fc.array(fc.nat(), { maxLength: 8 }), (text, d, max, cuts) => {
      const s = new RecordSplitter(d, max);
      splitWith(s, cut(text, cuts));
      expect(s.examined).toBeLessThanOrEqual(MAX_WORK_PER_CHAR * text.length);
    }),
    { seed: SEED, numRuns: 1_000 },
  );
});
