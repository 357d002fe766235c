// The `enrichbot` command: run the bot (`start`), enrich one input from the terminal
// (`enrich`), check the config, or show what was spent.
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { App } from '../app.js';
import { isEnrichbotError, StartupError, errorMessage } from '../errors.js';
import { renderCard } from './card.js';
import { Ledger } from '../engine/ledger.js';
import { connectStore } from '../store/store.js';
import { utcDay } from '../clock.js';
import { registerNormalizeCommand } from './normalize-command.js';

function fail(err: unknown): never {
  if (err instanceof StartupError) {
    process.stderr.write(`enrichbot cannot start:\n${err.issues.map((i) => `  - ${i.message} [${i.code}]`).join('\n')}\n`);
  } else if (isEnrichbotError(err)) {
    process.stderr.write(`enrichbot: ${err.message} [${err.code}]\n`);
  } else {
    process.stderr.write(`enrichbot: ${errorMessage(err)}\n`);
  }
  process.exit(1);
}

export async function main(argv = process.argv): Promise<void> {
  const program = new Command('enrichbot').description('Self-hosted prospect enrichment bot.').showHelpAfterError();

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

  program
    .command('enrich')
    .description('Enrich one email, domain, LinkedIn URL, "First Last @ company" or company name, and print the record.')
    .argument('<input...>', 'what to enrich')
    .option('--json', 'print the result as JSON')
    .option('-w, --workspace <id>', 'workspace the record belongs to', 'cli')
    .option('--refresh', 'ask providers again even if the record is fresh')
    .option('--lookalikes', 'also find 5-10 similar companies (each checked and marked verified or unverified)')
    .option('--groups <list>', 'only these field groups, comma-separated (e.g. companyProfile,mailServer)')
    .option('--no-worker', 'only queue and wait; a separately running worker does the work')
    .addOption(new Option('--timeout <seconds>', 'how long to wait').argParser(Number))
    .action(async (parts: string[], opts: { json?: boolean; workspace: string; refresh?: boolean; worker: boolean; timeout?: number; lookalikes?: boolean; groups?: string }) => {
      let app: App | undefined;
      let code = 0;
      try {
        const config = loadConfig();
        const runWorker = opts.worker && config.role !== 'web';
        app = new App({ config, logger: createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, fd: 2 }), role: runWorker ? 'worker' : 'client' });
        await app.start();
        let groups = opts.groups?.split(',').map((g) => g.trim()).filter(Boolean);
        if (opts.lookalikes) groups = [...(groups ?? Object.keys(config.waterfalls).filter((g) => g !== 'lookalikes')), 'lookalikes'];
        const result = await app.enrichAndWait(
          { workspace: opts.workspace, input: parts.join(' '), refresh: !!opts.refresh, groups: groups as never, replyTo: { trigger: 'cli', address: {} } },
          opts.timeout ? opts.timeout * 1000 : undefined,
        );
        process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderCard(result)}\n`);
        code = result.status === 'failed' ? 2 : result.status === 'paused' ? 3 : 0;
      } catch (err) {
        await app?.stop().catch(() => undefined);
        fail(err);
      }
      await app!.stop();
      process.exit(code);
    });

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
        else {
          const total = rows.reduce((s, r) => s + r.costUsd, 0);
          process.stdout.write(`Spend on ${opts.day}${opts.workspace ? ` for ${opts.workspace}` : ''}: $${total.toFixed(4)}\n`);
          for (const r of rows) process.stdout.write(`  ${r.provider.padEnd(12)} ${r.outcome.padEnd(13)} ${String(r.calls).padStart(6)} calls  $${r.costUsd.toFixed(4)}\n`);
        }
      } catch (err) {
        fail(err);
      }
    });

  registerNormalizeCommand(program);

  await program.parseAsync(argv);
}
