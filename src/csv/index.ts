// The CSV module triggers use (CLI now; Slack and the HTTP API next): read an upload, write results.
import type { CsvModule } from '../plugin/service.js';
import { readCsv } from './read.js';
import { writeCsv } from './write.js';

export { readCsv, type CsvReadOptions } from './read.js';
export { writeCsv, exportHeader, EXPORT_FIELDS, cellText } from './write.js';
export { formulaSafe } from './formula-safe.js';
export { detectColumns, splitFullName } from './header-map.js';

export const csvModule: CsvModule = {
  read: (source, options) => readCsv(source, options),
  write: (rows, out, options) => writeCsv(rows, out, options),
};
