// The CSV module triggers get as ctx.csv (CLI, Slack, HTTP API): read an upload (on a worker
// thread, so the event loop keeps answering), write results.
import type { CsvModule } from '../plugin/service.js';
import { readCsvOffThread } from './read-off-thread.js';
import { writeCsv } from './write.js';

export { readCsv, type CsvReadOptions, type CsvReadProbe } from './read.js';
export { readCsvOffThread, type OffThreadReadOptions } from './read-off-thread.js';
export { writeCsv, exportHeader, EXPORT_FIELDS, cellText } from './write.js';
export { formulaSafe } from './formula-safe.js';
export { detectColumns, splitFullName } from './header-map.js';

export const csvModule: CsvModule = {
  read: (source, options) => readCsvOffThread(source, options),
  write: (rows, out, options) => writeCsv(rows, out, options),
};
