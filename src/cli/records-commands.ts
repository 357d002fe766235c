// `enrichbot correct | forget | activity | batch`: the CLI's other actions on the service.
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import type { BatchStatus } from '../plugin/service.js';
import type { TriggerContext } from '../plugin/contract.js';
import { cliActor, runWithApp } from './cli-app.js';

/** A correction's value as typed: numbers and booleans as such, JSON when it parses, else text. */
function parseValue(raw: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^[[{]/.test(raw)) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

export function registerRecordCommands(program: Command): void {
  registerCorrect(program);
  registerForget(program);
  registerActivity(program);
  registerBatch(program);
}

function registerCorrect(program: Command): void {
  program
    .command('correct')
    .description('Set a field by hand (it wins over every provider from then on), e.g. correct jane@acme.com person.title "VP Sales".')
    .argument('<subject>', 'the person or company (email, domain, LinkedIn URL...)')
    .argument('<field>', 'canonical field, e.g. person.title or company.industry')
    .argument('<value>', 'the right value')
    .option('-w, --workspace <id>', 'workspace', 'cli')
    .option('--by <who>', 'who made the correction', cliActor())
    .option('--json', 'print the record as JSON')
    .action(async (subject: string, field: string, value: string, opts: { workspace: string; by: string; json?: boolean }) => {
      await runWithApp({ worker: false }, async (ctx) => {
        const view = await ctx.service.correct({ workspace: opts.workspace, subject, field, value: parseValue(value), by: opts.by });
        process.stdout.write(opts.json ? `${JSON.stringify(view, null, 2)}\n` : `${field} of ${view.display ?? subject} is now ${JSON.stringify(view.fields[field.slice(field.indexOf('.') + 1)]?.value)} (manual, by ${opts.by})\n`);
        return 0;
      });
    });
}

function registerForget(program: Command): void {
  program
    .command('forget')
    .description('Delete everything held about a person or company and never enrich them again (until --undo).')
    .argument('<subject>', 'the person or company (email, domain, LinkedIn URL...)')
    .option('-w, --workspace <id>', 'workspace', 'cli')
    .option('--by <who>', 'who asked', cliActor())
    .option('--undo', 'allow enriching this identity again')
    .action(async (subject: string, opts: { workspace: string; by: string; undo?: boolean }) => {
      await runWithApp({ worker: false }, async (ctx) => {
        if (opts.undo) {
          const removed = await ctx.service.unforget(opts.workspace, subject, opts.by);
          process.stdout.write(removed ? `${subject} may be enriched again in ${opts.workspace}.\n` : `${subject} was not forgotten in ${opts.workspace}; nothing to undo.\n`);
          return 0;
        }
        const report = await ctx.service.forget(opts.workspace, subject, opts.by);
        const parts = Object.entries(report.removed).filter(([, n]) => n > 0).map(([c, n]) => `${c}: ${n}`);
        process.stdout.write(`Forgot ${report.display} in ${opts.workspace} (${parts.join(', ') || 'nothing was stored'}). It will not be enriched again unless you run \`enrichbot forget --undo ${report.display} -w ${opts.workspace}\`.\n`);
        return 0;
      });
    });
}

function registerActivity(program: Command): void {
  program
    .command('activity')
    .description('Who did what in a workspace: enrich, batch, refresh, correct, forget, export, push.')
    .option('-w, --workspace <id>', 'workspace', 'cli')
    .option('--since <date>', 'from this date or time (ISO), default: the last 7 days')
    .option('--limit <n>', 'at most this many entries', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { workspace: string; since?: string; limit: string; json?: boolean }) => {
      await runWithApp({ worker: false }, async (ctx) => {
        const since = opts.since ? new Date(opts.since) : new Date(Date.now() - 7 * 86400_000);
        if (Number.isNaN(since.getTime())) throw new Error(`--since ${opts.since} is not a date: use YYYY-MM-DD or an ISO time.`);
        const rows = await ctx.service.activity(opts.workspace, since, Number(opts.limit));
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const r of rows) process.stdout.write(`${r.at}  ${r.actor.padEnd(20)} ${r.action.padEnd(9)} ${r.subject}\n`);
        return 0;
      });
    });
}

function registerBatch(program: Command): void {
  program
    .command('batch')
    .description('Show a batch (counts, cost, state) and optionally write its results as CSV.')
    .argument('<id>', 'the batch id (bat_...)')
    .option('-w, --workspace <id>', 'only if it belongs to this workspace')
    .option('--out <csv>', 'write the results to this CSV file')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { workspace?: string; out?: string; json?: boolean }) => {
      await runWithApp({ worker: false }, async (ctx) => {
        const s = (await ctx.service.status(id, opts.workspace)) as BatchStatus;
        if (opts.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        else {
          const c = s.counts;
          process.stdout.write(`${s.batchId}${s.label ? ` (${s.label})` : ''}  [${s.state}]  ${c.done + c.failed + c.rejected + c.cancelled}/${s.total} rows: ${c.done} done, ${c.failed} failed, ${c.rejected} unusable, ${c.queued} queued, ${c.paused} paused · $${s.costUsd.toFixed(4)}\n`);
          if (s.resumeAt) process.stdout.write(`  paused by a spend cap; resumes ${s.resumeAt}\n`);
        }
        if (opts.out) await exportBatch(ctx, { id, status: s, file: opts.out, workspace: opts.workspace });
        return 0;
      });
    });
}

/** Writes a batch's results as CSV and logs the export. */
async function exportBatch(ctx: TriggerContext, { id, status: s, file, workspace }: { id: string; status: BatchStatus; file: string; workspace?: string }): Promise<void> {
  const out = path.resolve(file);
  const sink = createWriteStream(out);
  const { rows } = await ctx.csv.write(ctx.service.results(id, workspace), sink, { inputColumns: s.columns });
  sink.end();
  await finished(sink);
  await ctx.service.logActivity({ workspace: s.workspace, actor: cliActor(), action: 'export', subject: id, detail: { file: path.basename(out), rows } });
  process.stderr.write(`Wrote ${rows} rows to ${out}\n`);
}
