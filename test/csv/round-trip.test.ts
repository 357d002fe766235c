// 1,000 generated rows through read and write: BOM, ";" delimiter, CRLF, quoted fields with
// embedded delimiters and line breaks, formula cells, and broken rows that are kept with a
// reason while every other row is parsed.
import { Readable } from 'node:stream';
import { csvModule, readCsv } from '../../src/csv/index.js';
import { formulaSafe } from '../../src/csv/formula-safe.js';
import type { BatchResultRow } from '../../src/plugin/service.js';
import { collector, list, quote } from './csv-support.js';

const FORMULAS = ['=HYPERLINK("http://evil.example/?q=1,2","click")', '+1', '-2', '@SUM(A1:A2)', '\tTAB', '\rCR', 'plain note'];
const HEADER = ['Email', 'First Name', 'Last Name', 'Company', 'Notes', '-Owner'];
const BROKEN = { unclosed: 500, tooLong: 600, tooManyCells: 700, noInput: 800, halfName: 900 };

interface Expected {
  line: number;
  email?: string;
  notes?: string;
  company?: string;
  problem?: RegExp;
}

/** The file as a spreadsheet would export it, and what each data row should read as. */
function generate(): { file: Buffer; expected: Expected[] } {
  const d = ';';
  const lines: string[] = [HEADER.join(d)];
  const expected: Expected[] = [];
  let line = 2;
  for (let i = 0; i < 1000; i++) {
    const email = `person${i}@acme${i % 17}.com`;
    let notes = FORMULAS[i % FORMULAS.length];
    if (i % 13 === 0) notes = `line one of ${i}\nline two; with delimiter`;
    const company = i % 11 === 0 ? `Acme; Inc. ${i}` : `Acme ${i}`;
    let cells = [email, `First${i}`, `Last${i}`, company, notes, `owner${i}`];
    let text: string | undefined;
    let exp: Expected = { line, email, notes, company };
    if (i === BROKEN.unclosed) {
      text = `${email};"First${i};Last${i};Acme;note`;
      exp = { line, email, problem: /quote .* never closed/ };
    } else if (i === BROKEN.unclosed + 1) {
      text = cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(d); // every cell quoted
    } else if (i === BROKEN.tooLong) {
      text = [email, 'F', 'L', 'Acme', 'x'.repeat(5000), 'o'].join(d);
      exp = { line, email, problem: /longer than 2000 characters/ };
    } else if (i === BROKEN.tooManyCells) {
      text = [...cells, 'extra', 'more'].join(d);
      exp = { line, email, problem: /8 cells but the header has 6/ };
    } else if (i === BROKEN.noInput) {
      cells = ['', '', '', '', notes, ''];
      exp = { line, notes, problem: new RegExp(`^line ${line}: no email, domain, LinkedIn URL`) };
    } else if (i === BROKEN.halfName) {
      cells = ['', `First${i}`, '', `Acme ${i}`, notes, ''];
      exp = { line, notes, problem: /first and a last name are both needed/ };
    }
    text ??= cells.map((c) => quote(c, d)).join(d);
    lines.push(text);
    line += text.split('\n').length;
    expected.push(exp);
  }
  return { file: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n')]), expected };
}

test('1,000 rows with BOM, ";", quoted delimiters and line breaks: every row read, broken ones kept with a reason', async () => {
  const { file, expected } = generate();
  // A stream, in small chunks, so records and UTF-8 sequences straddle chunk boundaries.
  const chunks = Array.from({ length: Math.ceil(file.length / 997) }, (_, k) => file.subarray(k * 997, (k + 1) * 997));
  const read = await readCsv(Readable.from(chunks), { maxRecordChars: 2000 });
  expect(read.delimiter).toBe(';');
  expect(read.headers).toEqual(HEADER);
  expect(read.columns).toEqual({ email: 'Email', firstName: 'First Name', lastName: 'Last Name', companyName: 'Company' });
  const rows = await list(read.rows);
  expect(rows).toHaveLength(1000);
  rows.forEach((row, i) => {
    const exp = expected[i];
    expect({ i, index: row.index, line: row.line }).toEqual({ i, index: i, line: exp.line });
    if (exp.problem) {
      expect(row.input).toBeNull();
      expect(row.problem).toMatch(exp.problem);
      expect(row.problem).toMatch(new RegExp(`^line ${exp.line}: `));
      // Kept with what could be read of it, so the export still shows which row it was.
      if (exp.email) expect(row.columns.Email).toBe(exp.email);
    } else {
      expect({ i, problem: row.problem }).toEqual({ i, problem: undefined });
      expect(row.input).toEqual({ email: exp.email, firstName: `First${i}`, lastName: `Last${i}`, companyName: exp.company });
    }
    if (exp.notes !== undefined) expect({ i, notes: row.columns.Notes }).toEqual({ i, notes: exp.notes });
  });
});

test('the export of those rows starts with a BOM, escapes every formula cell (header and input cells too) and reads back', async () => {
  const { file } = generate();
  const read = await readCsv(file, { maxRecordChars: 2000 });
  const fetchedAt = '2026-11-29T10:00:00.000Z';
  async function* results(): AsyncGenerator<BatchResultRow> {
    for await (const row of read.rows) {
      if (!row.input) {
        yield { index: row.index, columns: row.columns, input: null, status: 'rejected', reason: row.problem };
        continue;
      }
      const title = row.index % 2 ? '=cmd|" /C calc"!A0' : 'CTO';
      yield {
        index: row.index,
        columns: row.columns,
        input: row.input,
        status: 'done',
        jobId: `enr_${row.index}`,
        result: {
          jobId: `enr_${row.index}`,
          workspace: 'w1',
          status: 'done',
          display: row.input.email!,
          outcomes: [],
          costUsd: 0.01,
          person: { key: 'k', fields: { 'title': { value: title, provider: 'fakeprov', fetchedAt, confidence: 0.9 } } },
          company: {
            key: 'c',
            fields: {
              'technologies': { value: ['React', 'Node'], provider: 'stack', fetchedAt, confidence: 0.8 },
              'employeeCount': { value: 42, provider: 'stack', fetchedAt, confidence: 0.8 },
              'webMentions': { value: [{ title: 'Acme raises', url: 'https://news.example/a' }], provider: 'news', fetchedAt, confidence: 0.7 },
            },
          },
        },
      };
    }
  }
  const sink = collector();
  const { rows: written } = await csvModule.write(results(), sink.out, { inputColumns: read.headers });
  expect(written).toBe(1000);
  const out = sink.buffer();
  expect([...out.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);

  const back = await csvModule.read(out);
  expect(back.delimiter).toBe(',');
  expect(back.headers.slice(0, 6)).toEqual(['Email', 'First Name', 'Last Name', 'Company', 'Notes', "'-Owner"]);
  expect(back.headers).toContain('person.title source');
  expect(back.headers.slice(-2)).toEqual(['status', 'reason']);
  const rows = await list(back.rows);
  expect(rows).toHaveLength(1000);
  const original = await list((await readCsv(file, { maxRecordChars: 2000 })).rows);
  rows.forEach((row, i) => {
    const src = original[i];
    for (const h of ['Email', 'First Name', 'Last Name', 'Company', 'Notes']) {
      expect({ i, h, v: row.columns[h] }).toEqual({ i, h, v: formulaSafe(src.columns[h] ?? '') });
    }
    if (src.input) {
      expect(row.columns.status).toBe('done');
      expect(row.columns['person.title']).toBe(i % 2 ? `'=cmd|" /C calc"!A0` : 'CTO');
      expect(row.columns['person.title source']).toBe(`fakeprov ${fetchedAt}`);
      expect(row.columns['company.technologies']).toBe('React; Node');
      expect(row.columns['company.employeeCount']).toBe('42');
      expect(row.columns['company.webMentions']).toBe('title=Acme raises, url=https://news.example/a');
      expect(row.columns['person.workEmail']).toBe('');
    } else {
      expect(row.columns.status).toBe('rejected');
      expect(row.columns.reason).toBe(src.problem);
    }
  });
  // No cell anywhere in the export starts a formula.
  const unsafe = rows.flatMap((row) => Object.values(row.columns).filter((v) => /^[=+\-@\t\r]/.test(v)));
  expect(unsafe).toEqual([]);
});
