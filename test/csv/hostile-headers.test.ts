// A header named like an Object.prototype member is an ordinary column, never the row's prototype
// (found by the write/read fast-check property: a "__proto__" column came back as {}).
import { readCsv } from '../../src/csv/index.js';

test('a "__proto__" or "constructor" header is kept as an own column with its cell', async () => {
  const read = await readCsv('Email,__proto__,constructor\njane@acme.com,x,y\n');
  const rows = [];
  for await (const r of read.rows) rows.push(r);
  expect(rows).toHaveLength(1);
  expect(Object.getPrototypeOf(rows[0].columns)).toBe(Object.prototype);
  expect(Object.hasOwn(rows[0].columns, '__proto__')).toBe(true);
  expect(rows[0].columns['__proto__']).toBe('x');
  expect(rows[0].columns.constructor).toBe('y');
  expect(rows[0].input).toEqual({ email: 'jane@acme.com' });
});
