// `enrichbot digest --now [--date YYYY-MM-DD] [--dry-run]`: the daily digest on demand. With
// --dry-run it prints the digest and posts nothing (the report is read-only, nothing is
// written); with --now it posts through the Slack trigger's notify, as the schedule does.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { App } from '../app.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { fail } from './cli-app.js';
import { dayBefore, runDigest, CHART_FILENAME } from '../../plugins/triggers/daily-digest/digest.js';
import type { DigestConfig } from '../../plugins/triggers/daily-digest/index.js';

interface DigestOpts {
  now?: boolean;
  date?: string;
  dryRun?: boolean;
}

export function registerDigestCommand(program: Command): void {
  program
    .command('digest')
    .description('Post the daily digest now (--now), or print it without posting (--dry-run).')
    .option('--now', 'post the digest to the configured Slack channel now')
    .option('--date <YYYY-MM-DD>', 'the UTC day to report (default: yesterday)')
    .option('--dry-run', 'print the digest; post and write nothing')
    .action(async (opts: DigestOpts) => {
      let app: App | undefined;
      let code = 0;
      try {
        if (!opts.now && !opts.dryRun) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, 'Say what to do: --now posts the digest, --dry-run prints it without posting.');
        const config = loadConfig();
        const post = !opts.dryRun;
        app = new App({ config, logger: createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, fd: 2 }), role: 'client', clientTriggers: post ? ['slack'] : [] });
        await app.start();
        const digest = app.registry.triggers.get('daily-digest');
        const settings = digest?.enabled ? (digest.config as DigestConfig) : undefined;
        if (post && !settings) throw new EnrichbotError(ErrorCodes.TRIGGER_UNKNOWN, 'The daily-digest trigger is not enabled: list it under plugins.triggers and set its channel (DAILY_DIGEST_CHANNEL).');
        const day = opts.date ?? dayBefore(app.clock.now());
        const target = { channel: settings?.channel ?? '', ...(settings?.workspace ? { workspace: settings.workspace } : {}) };
        const run = await runDigest(app.service, target, day, { dryRun: !post });
        if (post) {
          process.stdout.write(`Digest for ${day} posted to ${run.posted?.channel ?? target.channel}${run.chart ? ` with ${CHART_FILENAME}` : ''}.\n`);
        } else {
          process.stdout.write(`${run.digest.plain}\n`);
          if (run.chart) process.stdout.write(`Chart: ${CHART_FILENAME}, ${run.chart.png.readUInt32BE(16)}x${run.chart.png.readUInt32BE(20)} px, ${run.chart.png.length} bytes (dry run: not posted)\n`);
          process.stdout.write('Dry run: nothing was posted.\n');
        }
      } catch (err) {
        await app?.stop().catch(() => undefined);
        fail(err);
      }
      await app!.stop();
      process.exit(code);
    });
}
