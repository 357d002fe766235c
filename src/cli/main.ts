// The `enrichbot` command: run the bot (`start`), enrich inputs or a CSV file (`enrich`), correct,
// forget, see activity and batches, check the config, or show what was spent; and the commands
// of the enabled plugins (`hubspot`, `api-key`, `digest`...), which they declare themselves.
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { App } from '../app.js';
import { fail } from './cli-app.js';
import { registerEnrichCommand } from './enrich-command.js';
import { registerCreditsCommand } from './credits-command.js';
import { registerRecordCommands } from './records-commands.js';
import { Ledger } from '../engine/ledger.js';
import { connectStore } from '../store/store.js';
import { utcDay } from '../clock.js';
import { registerNormalizeCommand } from './normalize-command.js';
import { registerNewCommand } from './new-command.js';
import { mountPluginCommands } from './plugin-commands.js';

export async function main(argv = process.argv): Promise<void> {
  const program = new Command('enrichbot').description('Self-hosted prospect enrichment bot.').showHelpAfterError();
  registerStartCommand(program);
  registerEnrichCommand(program);
  registerCreditsCommand(program);
  registerRecordCommands(program);
  registerCheckConfigCommand(program);
  registerSpendCommand(program);
  registerNormalizeCommand(program);
  registerNewCommand(program);
  // Last: a plugin's command may not take a core command's name (the core's wins).
  await mountPluginCommands(program, argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    fail(err);
  }
}

function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the bot in the role from ENRICHBOT_ROLE (web, worker or all).')
    .action(async () => {
      let app: App | undefined;
      try {
        const config = loadConfig();
        app = new App({ config, logger: createLogger({ level: config.logLevel }) });
        await app.start();
      } catch (err) {
        await app?.stop().catch(() => undefined);
        fail(err);
      }
      let signals = 0;
      const shutdown = (sig: string) => {
        if (++signals > 1) process.exit(1);
        app!.logger.info({ signal: sig }, 'shutting down: finishing in-flight jobs');
        app!.stop().then(
          () => process.exit(0),
          (err) => {
            app!.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    });
}

function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('Validate the config and plugins without starting anything.')
    .action(async () => {
      try {
        const config = loadConfig();
        const app = new App({ config, logger: createLogger({ level: 'info', fd: 2 }) });
        await app.registry.load();
        process.stdout.write('config ok\n');
      } catch (err) {
        fail(err);
      }
    });
}

function registerSpendCommand(program: Command): void {
  program
    .command('spend')
    .description('What was spent, on which provider, and what failed, for one UTC day.')
    .option('--day <YYYY-MM-DD>', 'UTC day', utcDay(new Date()))
    .option('-w, --workspace <id>', 'one workspace only')
    .option('-p, --provider <id>', 'one provider only')
    .option('--json', 'print JSON')
    .action(async (opts: { day: string; workspace?: string; provider?: string; json?: boolean }) => {
      try {
        const config = loadConfig();
        const store = await connectStore(config.mongodbUrl);
        const rows = await new Ledger(store.models, config.engine.rawResponseMaxBytes).summary(opts.day, opts.workspace, opts.provider);
        await store.close();
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else printSpend(opts, rows);
      } catch (err) {
        fail(err);
      }
    });
}

function printSpend(opts: { day: string; workspace?: string }, rows: Awaited<ReturnType<Ledger['summary']>>): void {
  const total = rows.reduce((s, r) => s + r.costUsd, 0);
  process.stdout.write(`Spend on ${opts.day}${opts.workspace ? ` for ${opts.workspace}` : ''}: $${total.toFixed(4)}\n`);
  for (const r of rows) process.stdout.write(`  ${r.provider.padEnd(12)} ${r.outcome.padEnd(13)} ${String(r.calls).padStart(6)} calls  $${r.costUsd.toFixed(4)}\n`);
  // Booked at the reserved price because the worker died mid-call: an upper bound, shown apart.
  const lost = rows.filter((r) => r.outcome === 'lost');
  if (lost.length) process.stdout.write(`  of which at most $${lost.reduce((s, r) => s + r.costUsd, 0).toFixed(4)} in ${lost.reduce((s, r) => s + r.calls, 0)} calls lost with a worker (booked at the reserved price; the provider may have charged less)\n`);
}
