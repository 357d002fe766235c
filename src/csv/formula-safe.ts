// CSV injection (OWASP "CSV Injection"): a spreadsheet runs a cell beginning with = + - @ as a
// formula, and tab or CR can hide one; such a cell is written with a leading single quote, which
// spreadsheets show as text. A reader of our own export sees that quote: it is the documented
// price of opening the file safely.
const FORMULA_START = /^[=+\-@\t\r]/;

export function formulaSafe(cell: string): string {
  return cell !== '' && FORMULA_START.test(cell) ? `'${cell}` : cell;
}
