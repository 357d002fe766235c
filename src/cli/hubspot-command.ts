// `enrichbot hubspot conflicts` and `enrichbot hubspot backfill`. The command starts an App in
// the worker role so the HubSpot trigger starts in this process (the CLI's own client role
// starts only the CLI trigger), then calls the plugin's exported functions with the trigger's
// own context (its settings, collections and Redis prefix), never its internals.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { App } from '../app.js';
import type { TriggerContext } from '../plugin/contract.js';
import type { BatchEstimate, BatchStatus } from '../plugin/service.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { cliActor, fail, runWithApp } from './cli-app.js';
import { confirmSpend } from './confirm-spend.js';
import { formatEstimate } from '../service/estimate.js';
import { hubspotBackfill, hubspotConflicts, hubspotDelivered, hubspotProperties, hubspotSetup } from '../../plugins/triggers/hubspot/index.js';

function hubspotContext(app: App): TriggerContext {
  const ctx = app.registry.context('hubspot') as TriggerContext | undefined;
  if (!ctx || !app.registry.isStarted('hubspot')) {
    throw new EnrichbotError(ErrorCodes.TRIGGER_UNKNOWN, 'The HubSpot trigger is not enabled here: add hubspot to plugins.triggers and set HUBSPOT_ACCESS_TOKEN and HUBSPOT_CLIENT_SECRET (and do not run this with ENRICHBOT_ROLE=web).');
  }
  return ctx;
}

export function registerHubspotCommands(program: Command): void {
  const hubspot = program.command('hubspot').description('HubSpot: conflicts to review, backfill of existing records.');

  hubspot
    .command('setup')
    .description('Create the enrichbot property group and properties in HubSpot (safe to run again).')
    .action(async () => {
      await runWithApp({ worker: true }, async (_cli, app) => {
        const res = await hubspotSetup(hubspotContext(app));
        process.stdout.write(`Created: ${res.created.join(', ') || 'nothing'}\nAlready there: ${res.existing.join(', ') || 'nothing'}\n`);
        return 0;
      });
    });

  hubspot
    .command('properties')
    .description("The mapped properties' definitions enrichbot uses (dropdown options); --refresh reads them from HubSpot again.")
    .option('--refresh', 'read them again (after a dropdown changed in HubSpot)')
    .action(async (opts: { refresh?: boolean }) => {
      await runWithApp({ worker: true }, async (_cli, app) => {
        const defs = await hubspotProperties(hubspotContext(app), opts.refresh);
        for (const [objectType, byName] of Object.entries(defs)) {
          for (const d of Object.values(byName)) process.stdout.write(`${objectType}.${d.name}: ${d.type}${d.type === 'enumeration' ? ` (${d.options.length} options)` : ''}\n`);
        }
        return 0;
      });
    });

  hubspot
    .command('conflicts')
    .description("Values providers found that differ from HubSpot's (HubSpot's were kept), newest first.")
    .option('--limit <n>', 'at most this many', '200')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      await runWithApp({ worker: true }, async (_cli, app) => {
        const rows = await hubspotConflicts(hubspotContext(app), Number(opts.limit) || 200);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (!rows.length) process.stdout.write('No conflicts.\n');
        else
          for (const r of rows) {
            const where = `${r.objectType} ${r.objectId} (${r.record}${r.workspace ? `, workspace ${r.workspace}` : ''})`;
            if (r.reason) process.stdout.write(`${r.at}  ${where}  ${r.property}: "${r.providerValue}" from ${r.source} not written: ${r.reason}\n`);
            else process.stdout.write(`${r.at}  ${where}  ${r.property}: HubSpot "${r.hubspotValue}" kept; ${r.source} said "${r.providerValue}" (confidence ${r.confidence})\n`);
          }
        return 0;
      });
    });

  hubspot
    .command('backfill')
    .description('Enrich existing HubSpot records that were never enriched, as one batch, then write them back.')
    .option('--since <date>', 'only records created on or after this date (YYYY-MM-DD)')
    .option('--limit <n>', 'at most this many records', '10000')
    .option('--timeout <seconds>', 'how long to wait for the batch (it goes on after)', '3600')
    .option('--estimate', 'print what the backfill would cost (expected and at most) and spend nothing')
    .option('--yes', 'run even when the worst case is above service.batch.confirmAboveUsd, without asking')
    .action(async (opts: { since?: string; limit: string; timeout: string; estimate?: boolean; yes?: boolean }) => {
      const since = opts.since ? new Date(opts.since) : undefined;
      const limit = Number(opts.limit);
      if (since && Number.isNaN(since.getTime())) fail(new EnrichbotError(ErrorCodes.INPUT_INVALID, `--since "${opts.since}" is not a date: give YYYY-MM-DD.`));
      if (!Number.isInteger(limit) || limit < 1) fail(new EnrichbotError(ErrorCodes.INPUT_INVALID, `--limit "${opts.limit}" is not a positive whole number.`));
      await runWithApp({ worker: true }, async (_cli, app) => {
        const ctx = hubspotContext(app);
        const confirmAboveUsd = ctx.service.batchConfirmAboveUsd();
        // Called with the records already read: the estimate and the batch use the same inputs.
        const decide = async (est: BatchEstimate) => {
          if (opts.estimate) {
            process.stdout.write(`${formatEstimate(est)}\n`);
            return false;
          }
          if (opts.yes || est.worstUsd <= confirmAboveUsd) return true;
          process.stderr.write(`${formatEstimate(est)}\n`);
          return confirmSpend(`This backfill may cost up to $${est.worstUsd.toFixed(2)} (above service.batch.confirmAboveUsd, $${confirmAboveUsd.toFixed(2)}).`);
        };
        const res = await hubspotBackfill(ctx, { since, limit, actor: cliActor(), decide });
        if (opts.estimate && !res.estimate) process.stdout.write('Nothing to backfill: every HubSpot record found has been enriched.\n');
        if (opts.estimate) return 0;
        if (res.declined) return 1;
        if (!res.batchId) {
          process.stderr.write('Nothing to backfill: every HubSpot record found has been enriched.\n');
          return 0;
        }
        process.stderr.write(`Backfill batch ${res.batchId}: ${res.accepted} of ${res.found} records queued.\n`);
        const final = await follow(ctx, res.batchId, res.accepted, Number(opts.timeout) * 1000);
        // The write-back runs on whichever worker finishes the batch: wait for it to be done.
        const end = Date.now() + 120_000;
        let delivered = await hubspotDelivered(ctx, res.batchId);
        while (!delivered && final.state === 'done' && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 500));
          delivered = await hubspotDelivered(ctx, res.batchId);
        }
        const c = final.counts;
        const estimated = res.estimate ? ` (estimated $${res.estimate.expectedUsd.toFixed(2)}, at most $${res.estimate.worstUsd.toFixed(2)})` : '';
        process.stderr.write(`Backfill ${final.state}: ${c.done} enriched, ${c.failed} failed, ${c.paused} paused by a spend cap; ${delivered ? `${delivered.written} written to HubSpot, ${delivered.failed} writes failed` : 'write-back still pending'}; cost $${final.costUsd.toFixed(4)}${estimated}\n`);
        return c.paused ? 3 : c.failed && !c.done ? 2 : 0;
      });
    });
}

async function follow(ctx: TriggerContext, batchId: string, total: number, timeoutMs: number): Promise<BatchStatus> {
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
