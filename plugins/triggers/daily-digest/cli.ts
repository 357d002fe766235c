// `enrichbot digest --now | --dry-run [--date YYYY-MM-DD]`: the daily digest on demand, mounted by
// the core while this trigger is enabled. --dry-run prints it and posts nothing (the report is
// read-only); --now posts it through the Slack trigger's notify, as the schedule does.
import { EnrichbotError, ErrorCodes, type CliContext, type Command, type TriggerContext } from '../../../src/sdk/index.js';
import { CHART_FILENAME, dayBefore, runDigest } from './digest.js';
import type { DigestConfig } from './index.js';

interface DigestOpts {
  now?: boolean;
  date?: string;
  dryRun?: boolean;
}

export function registerDigestCommand(program: Command, cli: CliContext<TriggerContext<DigestConfig>>): void {
  program
    .command('digest')
    .description('Post the daily digest now (--now), or print it without posting (--dry-run).')
    .option('--now', 'post the digest to the configured Slack channel now')
    .option('--date <YYYY-MM-DD>', 'the UTC day to report (default: yesterday)')
    .option('--dry-run', 'print the digest; post and write nothing')
    .action((opts: DigestOpts) => {
      if (!opts.now && !opts.dryRun) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, 'Say what to do: --now posts the digest, --dry-run prints it without posting.');
      const post = !opts.dryRun;
      // The digest posts through Slack's notify (its declared dependency): started here only to post.
      return cli.run({ role: 'client', alongside: post ? ['slack'] : [] }, (ctx) => digest(ctx, opts.date, post));
    });
}

async function digest(ctx: TriggerContext<DigestConfig>, date: string | undefined, post: boolean): Promise<number> {
  const { config } = ctx;
  const day = date ?? dayBefore(ctx.clock.now());
  const target = { channel: config.channel, ...(config.workspace ? { workspace: config.workspace } : {}) };
  const run = await runDigest(ctx.service, target, day, { dryRun: !post });
  if (post) {
    process.stdout.write(`Digest for ${day} posted to ${run.posted?.channel ?? target.channel}${run.chart ? ` with ${CHART_FILENAME}` : ''}.\n`);
  } else {
    process.stdout.write(`${run.digest.plain}\n`);
    if (run.chart) process.stdout.write(`Chart: ${CHART_FILENAME}, ${run.chart.png.readUInt32BE(16)}x${run.chart.png.readUInt32BE(20)} px, ${run.chart.png.length} bytes (dry run: not posted)\n`);
    process.stdout.write('Dry run: nothing was posted.\n');
  }
  return 0;
}
