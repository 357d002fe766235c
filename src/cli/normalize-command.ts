// `enrichbot normalize`: the one-off migration that rewrites stored records with canonical
// values (seniority, department, industry, country, phone, size, email status). Records are also
// normalized whenever they are read, so running this is about what the database holds for other
// readers (exports, CRM syncs); running it twice changes nothing the second time.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { connectStore } from '../store/store.js';
import { normalizeStoredRecords } from '../engine/normalize/migrate-records.js';
import { errorMessage } from '../errors.js';

export function registerNormalizeCommand(program: Command): void {
  program
    .command('normalize')
    .description('Rewrite stored records with canonical values (safe to run twice).')
    .option('-w, --workspace <id>', 'one workspace only')
    .option('--batch <n>', 'records per batch', (v) => Number.parseInt(v, 10), 200)
    .option('--json', 'print the report as JSON')
    .action(async (opts: { workspace?: string; batch: number; json?: boolean }) => {
      try {
        const config = loadConfig();
        const store = await connectStore(config.mongodbUrl);
        const report = await normalizeStoredRecords(store.models, { batchSize: opts.batch > 0 ? opts.batch : 200, workspace: opts.workspace });
        await store.close();
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          process.stdout.write(`Normalized ${report.updated} of ${report.scanned} records.\n`);
          for (const [f, n] of Object.entries(report.changed)) process.stdout.write(`  ${f.padEnd(16)} ${n} rewritten\n`);
          for (const [f, n] of Object.entries(report.unplaced)) process.stdout.write(`  ${f.padEnd(16)} ${n} left as stored (no rule places them)\n`);
        }
      } catch (err) {
        process.stderr.write(`enrichbot: ${errorMessage(err)}\n`);
        process.exit(1);
      }
    });
}
