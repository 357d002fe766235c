// The reader pulls the source only as rows are asked for, lets go of it when the consumer stops,
// and reads the encodings spreadsheets write (UTF-8 with or without BOM, UTF-16 from Excel's
// "Unicode Text", Windows-1252 from Excel's CSV on Windows).
import { Readable } from 'node:stream';
import { csvModule } from '../../src/csv/index.js';
import { list } from './csv-support.js';

test('rows are read lazily: taking 10 rows pulls a few chunks, and breaking off destroys the source', async () => {
  let pulled = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    yield Buffer.from('Email,Company\n');
    for (let c = 0; c < 1000; c++) {
      pulled++;
      yield Buffer.from(Array.from({ length: 100 }, (_, i) => `p${c}_${i}@acme.com,Acme\n`).join(''));
    }
  }
  const source = Readable.from(chunks(), { objectMode: false, highWaterMark: 1024 });
  const read = await csvModule.read(source);
  let taken = 0;
  for await (const row of read.rows) {
    expect(row.input?.email).toBe(`p0_${taken}@acme.com`);
    if (++taken === 10) break;
  }
  // The 64 KiB encoding sample and stream buffers hold a few dozen 2.6 KB chunks, not 1,000.
  expect(pulled).toBeLessThan(100);
  expect(source.destroyed).toBe(true);
});

test('Windows-1252 (Excel CSV on Windows) is read as such, not as broken UTF-8', async () => {
  const latin = Buffer.from('Vorname;Nachname;Firma\nJürgen;Müller;Bäckerei Groß\n', 'latin1');
  const rows = await list((await csvModule.read(latin)).rows);
  expect(rows[0].input).toEqual({ firstName: 'Jürgen', lastName: 'Müller', companyName: 'Bäckerei Groß' });
});

test('UTF-16LE with BOM and tabs (Excel "Unicode Text") is read', async () => {
  const text = 'E-mail\tCompany\njürgen@müller.de\tMüller GmbH\n';
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  const read = await csvModule.read(Readable.from([utf16.subarray(0, 7), utf16.subarray(7)]));
  expect(read.delimiter).toBe('\t');
  expect(read.headers).toEqual(['E-mail', 'Company']);
  const rows = await list(read.rows);
  expect(rows[0].input).toEqual({ email: 'jürgen@müller.de', companyName: 'Müller GmbH' });
});

test('a UTF-8 BOM is dropped from the first header, from a string, a Buffer or a stream', async () => {
  const text = '\uFEFFEmail,Company\njane@acme.com,Acme\n';
  for (const source of [text, Buffer.from(text), Readable.from([Buffer.from(text).subarray(0, 2), Buffer.from(text).subarray(2)])]) {
    const read = await csvModule.read(source);
    expect(read.headers).toEqual(['Email', 'Company']);
    expect((await list(read.rows))[0].columns).toEqual({ Email: 'jane@acme.com', Company: 'Acme' });
  }
});
