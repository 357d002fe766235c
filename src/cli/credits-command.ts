// `enrichbot credits`: each provider's credit balance as last read on the schedule
// (`providerBalances.cron`), or read now with --refresh. A provider without a free balance
// endpoint says so.
import type { Command } from 'commander';
import { formatBalances } from '../service/credit-balances.js';
import { runWithApp } from './cli-app.js';

export function registerCreditsCommand(program: Command): void {
  program
    .command('credits')
    .description("Print each provider's remaining credits (from its own account endpoint, read on a schedule).")
    .option('--refresh', 'read the balances now instead of showing the last read')
    .option('--json', 'print JSON')
    .action(async (opts: { refresh?: boolean; json?: boolean }) => {
      await runWithApp({ worker: false }, async (_ctx, app) => {
        const rows = opts.refresh ? (await app.refreshBalances()).rows : await app.balances();
        process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatBalances(rows)}\n`);
        return 0;
      });
    });
}
