// `enrichbot hubspot setup | properties | conflicts | backfill`, mounted by the core while this
// trigger is enabled. Each command starts enrichbot in the worker role (so this trigger starts
// in the process and a backfill's results are written back here) and works through the
// trigger's own context: its settings, collections and Redis prefix.
import cliProgress from 'cli-progress';
import { EnrichbotError, ErrorCodes, type BatchEstimate, type BatchStatus, type CliContext, type Command, type TriggerContext } from '../../../src/sdk/index.js';
import type { HubspotConfig } from './config.js';
import { hubspotBackfill, hubspotConflicts, hubspotDelivered, hubspotProperties, hubspotSetup } from './operations.js';

type Cli = CliContext<TriggerContext<HubspotConfig>>;
const WORKER = { role: 'worker' } as const;
/** How long a backfill waits for the write-back after its batch is done (the worker that finishes it writes). */
const WRITE_BACK_WAIT_MS = 120_000;

export function registerHubspotCommands(program: Command, cli: Cli): void {
  const hubspot = program.command('hubspot').description('HubSpot: conflicts to review, backfill of existing records.');
  hubspot
    .command('setup')
    .description('Create the enrichbot property group and properties in HubSpot (safe to run again).')
    .action(() =>
      cli.run(WORKER, async (ctx) => {
        const res = await hubspotSetup(ctx);
        process.stdout.write(`Created: ${res.created.join(', ') || 'nothing'}\nAlready there: ${res.existing.join(', ') || 'nothing'}\n`);
        return 0;
      }),
    );
  hubspot
    .command('properties')
    .description("The mapped properties' definitions enrichbot uses (dropdown options); --refresh reads them from HubSpot again.")
    .option('--refresh', 'read them again (after a dropdown changed in HubSpot)')
    .action((opts: { refresh?: boolean }) =>
      cli.run(WORKER, async (ctx) => {
        const defs = await hubspotProperties(ctx, opts.refresh);
        for (const [objectType, byName] of Object.entries(defs)) {
          for (const d of Object.values(byName)) process.stdout.write(`${objectType}.${d.name}: ${d.type}${d.type === 'enumeration' ? ` (${d.options.length} options)` : ''}\n`);
        }
        return 0;
      }),
    );
  registerConflicts(hubspot, cli);
  registerBackfill(hubspot, cli);
}

function registerConflicts(hubspot: Command, cli: Cli): void {
  hubspot
    .command('conflicts')
    .description("Values providers found that differ from HubSpot's (HubSpot's were kept), newest first.")
    .option('--limit <n>', 'at most this many', '200')
    .option('--json', 'print JSON')
    .action((opts: { limit: string; json?: boolean }) =>
      cli.run(WORKER, async (ctx) => {
        const rows = await hubspotConflicts(ctx, Number(opts.limit) || 200);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (!rows.length) process.stdout.write('No conflicts.\n');
        else
          for (const r of rows) {
            const where = `${r.objectType} ${r.objectId} (${r.record}${r.workspace ? `, workspace ${r.workspace}` : ''})`;
            if (r.reason) process.stdout.write(`${r.at}  ${where}  ${r.property}: "${r.providerValue}" from ${r.source} not written: ${r.reason}\n`);
            else process.stdout.write(`${r.at}  ${where}  ${r.property}: HubSpot "${r.hubspotValue}" kept; ${r.source} said "${r.providerValue}" (confidence ${r.confidence})\n`);
          }
        return 0;
      }),
    );
}

interface BackfillOpts {
  since?: string;
  limit: string;
  timeout: string;
  estimate?: boolean;
  yes?: boolean;
}

function registerBackfill(hubspot: Command, cli: Cli): void {
  hubspot
    .command('backfill')
    .description('Enrich existing HubSpot records that were never enriched, as one batch, then write them back.')
    .option('--since <date>', 'only records created on or after this date (YYYY-MM-DD)')
    .option('--limit <n>', 'at most this many records', '10000')
    .option('--timeout <seconds>', 'how long to wait for the batch (it goes on after)', '3600')
    .option('--estimate', 'print what the backfill would cost (expected and at most) and spend nothing')
    .option('--yes', 'run even when the worst case is above service.batch.confirmAboveUsd, without asking')
    .action((opts: BackfillOpts) => {
      const since = opts.since ? new Date(opts.since) : undefined;
      const limit = Number(opts.limit);
      if (since && Number.isNaN(since.getTime())) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `--since "${opts.since}" is not a date: give YYYY-MM-DD.`);
      if (!Number.isInteger(limit) || limit < 1) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `--limit "${opts.limit}" is not a positive whole number.`);
      return cli.run(WORKER, (ctx) => backfill(ctx, cli, { ...opts, since, limit }));
    });
}

/** Runs the backfill after its estimate is accepted, follows the batch, waits for the write-back; the exit code. */
async function backfill(ctx: TriggerContext<HubspotConfig>, cli: Cli, opts: Omit<BackfillOpts, 'since' | 'limit'> & { since?: Date; limit: number }): Promise<number> {
  const confirmAboveUsd = ctx.service.batchConfirmAboveUsd();
  // Called with the records already read: the estimate and the batch use the same inputs.
  const decide = async (est: BatchEstimate) => {
    if (opts.estimate) {
      process.stdout.write(`${cli.formatEstimate(est)}\n`);
      return false;
    }
    if (opts.yes || est.worstUsd <= confirmAboveUsd) return true;
    process.stderr.write(`${cli.formatEstimate(est)}\n`);
    return cli.confirm(`This backfill may cost up to $${est.worstUsd.toFixed(2)} (above service.batch.confirmAboveUsd, $${confirmAboveUsd.toFixed(2)}).`);
  };
  const res = await hubspotBackfill(ctx, { since: opts.since, limit: opts.limit, actor: cli.actor, decide });
  if (opts.estimate && !res.estimate) process.stdout.write('Nothing to backfill: every HubSpot record found has been enriched.\n');
  if (opts.estimate) return 0;
  if (res.declined) return 1;
  if (!res.batchId) {
    process.stderr.write('Nothing to backfill: every HubSpot record found has been enriched.\n');
    return 0;
  }
  process.stderr.write(`Backfill batch ${res.batchId}: ${res.accepted} of ${res.found} records queued.\n`);
  const final = await follow(ctx, res.batchId, res.accepted, Number(opts.timeout) * 1000);
  const delivered = final.state === 'done' ? await writtenBack(ctx, res.batchId) : await hubspotDelivered(ctx, res.batchId);
  const c = final.counts;
  const estimated = res.estimate ? ` (estimated $${res.estimate.expectedUsd.toFixed(2)}, at most $${res.estimate.worstUsd.toFixed(2)})` : '';
  process.stderr.write(`Backfill ${final.state}: ${c.done} enriched, ${c.failed} failed, ${c.paused} paused by a spend cap; ${delivered ? `${delivered.written} written to HubSpot, ${delivered.failed} writes failed` : 'write-back still pending'}; cost $${final.costUsd.toFixed(4)}${estimated}\n`);
  return c.paused ? 3 : c.failed && !c.done ? 2 : 0;
}

/** The write-back's counts once it is done, or undefined after WRITE_BACK_WAIT_MS. */
async function writtenBack(ctx: TriggerContext<HubspotConfig>, batchId: string): Promise<{ written: number; failed: number } | undefined> {
  const end = Date.now() + WRITE_BACK_WAIT_MS;
  let delivered = await hubspotDelivered(ctx, batchId);
  while (!delivered && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    delivered = await hubspotDelivered(ctx, batchId);
  }
  return delivered;
}

async function follow(ctx: TriggerContext<HubspotConfig>, batchId: string, total: number, timeoutMs: number): Promise<BatchStatus> {
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'Backfill |{bar}| {value}/{total} records · ${cost}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(total, 0, { cost: '0.0000' });
  try {
    return await new Promise<BatchStatus>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backfill batch ${batchId} did not finish within ${timeoutMs / 1000} s; it goes on: \`enrichbot batch ${batchId}\` shows it`)), timeoutMs);
      const settle = (s: BatchStatus) => {
        const n = s.counts.done + s.counts.failed + s.counts.rejected + s.counts.cancelled;
        if (bar) bar.update(n, { cost: s.costUsd.toFixed(4) });
        else process.stderr.write(`progress: ${n}/${s.total} records\n`);
        if (s.state === 'running') return;
        clearTimeout(timer);
        resolve(s);
      };
      void ctx.service
        .onBatchProgress(batchId, settle)
        .then(async (unsubscribe) => {
          settle((await ctx.service.status(batchId)) as BatchStatus);
          return unsubscribe;
        })
        .catch(reject);
    });
  } finally {
    bar?.stop();
  }
}
