// Record boundaries: the same text cut into any chunks gives the same records, and a broken
// record costs only its own line.
import fc from 'fast-check';
import { RecordSplitter, type SplitRecord } from '../../src/csv/record-splitter.js';

function split(pieces: string[], max = 1000): SplitRecord[] {
  const s = new RecordSplitter(',', max);
  return [...pieces.flatMap((p) => s.feed(p)), ...s.end()];
}

test('property: where the chunks are cut does not change the records', () => {
  const cell = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é'), maxLength: 8 });
  const text = fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }).map((rows) =>
    rows.map((r) => r.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\r\n'),
  );
  fc.assert(
    fc.property(text, fc.array(fc.nat(), { maxLength: 10 }), (t, cuts) => {
      const points = [...new Set(cuts.map((c) => c % (t.length + 1)))].sort((a, b) => a - b);
      const pieces = [0, ...points].map((p, i, all) => t.slice(p, all[i + 1] ?? t.length));
      expect(split(pieces)).toEqual(split([t]));
    }),
    { numRuns: 300 },
  );
});

test('an unclosed quote at the end of the file is reported on its line, and the lines after it are read', () => {
  expect(split(['a,b\n1,"open\n2,x\n3,y\n'])).toEqual([
    { kind: 'record', line: 1, text: 'a,b' },
    { kind: 'broken', line: 2, text: '1,"open', reason: 'a quote (") opened on this line is never closed' },
    { kind: 'record', line: 3, text: '2,x' },
    { kind: 'record', line: 4, text: '3,y' },
  ]);
});

test('a quoted line break is kept inside its record, and blank lines are skipped', () => {
  expect(split(['a,b\r\n\r\n1,"two\r\nlines"\r\n   \n2,x'])).toEqual([
    { kind: 'record', line: 1, text: 'a,b' },
    { kind: 'record', line: 3, text: '1,"two\r\nlines"' },
    { kind: 'record', line: 6, text: '2,x' },
  ]);
});

test('an over-long row is reported and skipped to the end of its line; the next rows are read', () => {
  const out = split([`a,b\n1,${'x'.repeat(50)}\n2,y\n`], 20);
  expect(out.map((r) => [r.kind, r.line])).toEqual([['record', 1], ['broken', 2], ['record', 3]]);
});
