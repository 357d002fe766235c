// Which columns are recognised, across the spellings CRMs, Sales Navigator tools and
// spreadsheets use, and what a file with none of them is told.
import { Readable } from 'node:stream';
import { csvModule, readCsv } from '../../src/csv/index.js';
import { splitFullName } from '../../src/csv/header-map.js';
import { ErrorCodes } from '../../src/errors.js';
import { list } from './csv-support.js';

test.each([
  [['E-mail'], { email: 'E-mail' }],
  [['Email Address', 'Company Domain'], { email: 'Email Address', domain: 'Company Domain' }],
  [['Work Email', 'Website', 'Organization'], { email: 'Work Email', domain: 'Website', companyName: 'Organization' }],
  [['EMAIL', 'Company', 'LinkedIn Profile'], { email: 'EMAIL', companyName: 'Company', linkedinUrl: 'LinkedIn Profile' }],
  [['linkedin_url', 'first_name', 'last_name'], { linkedinUrl: 'linkedin_url', firstName: 'first_name', lastName: 'last_name' }],
  [['Vorname', 'Nachname', 'Firma', 'E-Mail-Adresse'], { firstName: 'Vorname', lastName: 'Nachname', companyName: 'Firma', email: 'E-Mail-Adresse' }],
  [['Prénom', 'Nom', 'Entreprise', 'Courriel'], { firstName: 'Prénom', lastName: 'Nom', companyName: 'Entreprise', email: 'Courriel' }],
  [['Full Name', 'Company Name', 'Company Website'], { fullName: 'Full Name', companyName: 'Company Name', domain: 'Company Website' }],
  [['Name', 'Account Name', 'Person Linkedin Url'], { fullName: 'Name', companyName: 'Account Name', linkedinUrl: 'Person Linkedin Url' }],
  [['  First Name ', 'Surname', 'Employer', 'Domain'], { firstName: '  First Name ', lastName: 'Surname', companyName: 'Employer', domain: 'Domain' }],
  // Status and verification columns are not mistaken for the address itself.
  [['Email Status', 'Work Email Address', 'Email Verified'], { email: 'Work Email Address' }],
  [['Contact Email (primary)', 'Notes'], { email: 'Contact Email (primary)' }],
])('headers %j are read as %j', async (headers, expected) => {
  const read = await csvModule.read(`${headers.map((h) => (h.includes(',') ? `"${h}"` : h)).join(',')}\n`);
  expect(read.columns).toEqual(expected);
});

test('a file with no recognisable column is refused, listing the headers found and the names accepted', async () => {
  const err = await csvModule.read('Foo,Bar Baz,Qty\n1,2,3\n').catch((e: unknown) => e);
  expect(err).toMatchObject({ code: ErrorCodes.CSV_INVALID });
  const message = (err as Error).message;
  expect(message).toContain('"Foo", "Bar Baz", "Qty"');
  expect(message).toContain('"Company Domain"');
  expect(message).toContain('"E-mail"');
});

test('an empty file is refused as invalid', async () => {
  await expect(csvModule.read('')).rejects.toMatchObject({ code: ErrorCodes.CSV_INVALID });
  await expect(csvModule.read('\uFEFF')).rejects.toMatchObject({ code: ErrorCodes.CSV_INVALID });
});

test('a header line that cannot be read is refused, naming why; a stream source is let go', async () => {
  await expect(readCsv('"Email,Name\njane@acme.com,Jane\n')).rejects.toMatchObject({
    code: ErrorCodes.CSV_INVALID,
    // Why (the reason from the splitter), then what the first line should be.
    message: expect.stringMatching(/^The header line cannot be read: a quote \(\"\) opened on this line is never closed; expected the column names on the first line, such as "Email,First Name,Last Name,Company"/),
  });
  const endless = Readable.from(
    (function* () {
      yield `Email,${'x'.repeat(200)}`;
      for (;;) yield 'y'.repeat(100);
    })(),
  );
  await expect(readCsv(endless, { maxRecordChars: 100 })).rejects.toMatchObject({ code: ErrorCodes.CSV_INVALID, message: expect.stringContaining('longer than 100 characters') });
  expect(endless.destroyed).toBe(true);
});

test('the delimiter is taken from the header line: comma, semicolon or tab', async () => {
  for (const d of [',', ';', '\t']) {
    const read = await csvModule.read(`Email${d}Company\njane@acme.com${d}Acme, Inc.\n`);
    expect(read.delimiter).toBe(d);
    const [row] = await list(read.rows);
    if (d === ',') {
      // The unquoted comma in "Acme, Inc." makes a third cell: the row is refused, not misread.
      expect(row.input).toBeNull();
      expect(row.problem).toBe('line 2: the row has 3 cells but the header has 2; a value containing "," must be in double quotes');
    } else {
      expect(row.input).toEqual({ email: 'jane@acme.com', companyName: 'Acme, Inc.' });
    }
  }
});

test('a full-name column is split into first and last name', async () => {
  expect(splitFullName('Jane Doe')).toEqual({ firstName: 'Jane', lastName: 'Doe' });
  expect(splitFullName('Doe, Jane')).toEqual({ firstName: 'Jane', lastName: 'Doe' });
  expect(splitFullName('Dr. Jean-Claude Van Damme')).toEqual({ firstName: 'Jean-Claude', lastName: 'Van Damme' });
  expect(splitFullName('  Cher ')).toEqual({ firstName: 'Cher' });
  const read = await csvModule.read('Name,Company\nJane  Doe,Acme\nCher,Acme\n');
  const rows = await list(read.rows);
  expect(rows[0].input).toEqual({ firstName: 'Jane', lastName: 'Doe', companyName: 'Acme' });
  expect(rows[1].input).toBeNull();
  expect(rows[1].problem).toBe('line 3: a first and a last name are both needed with the company');
});

test('what each kind of row becomes: domain only, company only, LinkedIn in a website column, a cell that is not an email', async () => {
  const read = await csvModule.read(
    'Email,Website,Company,First Name,Last Name\n' +
      ',acme.com,,,\n' +
      ',,Acme Corp,,\n' +
      ',https://www.linkedin.com/in/jane-doe,,,\n' +
      'n/a,,,,\n' +
      'n/a,acme.com,,,\n',
  );
  const rows = await list(read.rows);
  expect(rows.map((r) => r.input)).toEqual([
    { domain: 'acme.com' },
    { companyName: 'Acme Corp' },
    { linkedinUrl: 'https://www.linkedin.com/in/jane-doe' },
    null,
    { domain: 'acme.com' },
  ]);
  expect(rows[3].problem).toBe('line 5: no email, domain, LinkedIn URL or first and last name with a company; "n/a" in Email is not an email address');
});
