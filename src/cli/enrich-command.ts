// `enrichbot enrich`: one input, several, or a CSV file (`--file people.csv --out enriched.csv`)
// with a progress bar on a TTY and plain progress lines otherwise. Results come by push (the
// service's completion and progress events), never by polling.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { TriggerContext } from '../plugin/contract.js';
import type { BatchItem, BatchStatus, JobResult } from '../plugin/service.js';
import { parseIdentity } from '../engine/identity.js';
import { renderCard } from './card.js';
import { confirmSpend } from './confirm-spend.js';
import { formatEstimate } from '../service/estimate.js';
import { cliActor, runWithApp } from './cli-app.js';

interface EnrichOpts {
  json?: boolean;
  workspace: string;
  refresh?: boolean;
  worker: boolean;
  timeout?: number;
  lookalikes?: boolean;
  groups?: string;
  file?: string;
  out?: string;
  estimate?: boolean;
  yes?: boolean;
  maxCost?: number;
}

/**
 * Several words are several inputs only when each is an email, a domain or a LinkedIn URL on
 * its own; otherwise they are one input ("Jane Doe @ acme.com", "Acme Corp").
 */
export function splitInputs(parts: string[]): string[] {
  const words = parts.flatMap((p) => p.split(/[\n,]+/)).map((p) => p.trim()).filter(Boolean);
  if (words.length > 1 && words.every((w) => w !== '@' && isStandalone(w))) return words;
  return [parts.join(' ').trim()];
}

function isStandalone(word: string): boolean {
  try {
    return ['email', 'domain', 'linkedin-person', 'linkedin-company'].includes(parseIdentity(word).kind);
  } catch {
    return false;
  }
}

const exitCodeOf = (status: string) => (status === 'failed' ? 2 : status === 'paused' ? 3 : 0);

export function registerEnrichCommand(program: Command): void {
  program
    .command('enrich')
    .description('Enrich emails, domains, LinkedIn URLs, "First Last @ company" or company names, or a CSV file (--file), and print the records.')
    .argument('[input...]', 'what to enrich (one or more)')
    .option('--json', 'print the result as JSON')
    .option('-w, --workspace <id>', 'workspace the record belongs to', 'cli')
    .option('--refresh', 'ask providers again even if the record is fresh')
    .option('--lookalikes', 'also find 5-10 similar companies (each checked and marked verified or unverified)')
    .option('--groups <list>', 'only these field groups, comma-separated (e.g. companyProfile,mailServer)')
    .option('--file <csv>', 'enrich every row of a CSV file (columns such as email, domain, LinkedIn, first/last name, company)')
    .option('--out <csv>', 'where to write the enriched CSV (default: <file>.enriched.csv next to the input)')
    .option('--estimate', 'with --file: print what the file would cost (expected and at most) and spend nothing')
    .option('--yes', 'with --file: run even when the worst case is above service.batch.confirmAboveUsd, without asking')
    .addOption(new Option('--max-cost <usd>', 'most each input may spend, in USD (with --file: the whole file, one shared budget): a call that would pass it is not made (outcome budget_reached)').argParser(parseUsd))
    .option('--no-worker', 'only queue and wait; a separately running worker does the work')
    .addOption(new Option('--timeout <seconds>', 'how long to wait').argParser(Number))
    .action(async (parts: string[], opts: EnrichOpts) => {
      await runWithApp({ worker: opts.worker }, async (ctx, app) => {
        let groups = opts.groups?.split(',').map((g) => g.trim()).filter(Boolean);
        if (opts.lookalikes) groups = [...(groups ?? Object.keys(app.config.waterfalls).filter((g) => g !== 'lookalikes')), 'lookalikes'];
        const timeoutMs = opts.timeout ? opts.timeout * 1000 : undefined;
        if (opts.file) return enrichFile(ctx, opts, groups, timeoutMs, app.config.service.batch.confirmAboveUsd);
        if (opts.estimate) throw new Error('--estimate prices a CSV file: give it with --file people.csv');
        if (!parts.length) throw new Error('give something to enrich (an email, a domain, a LinkedIn URL...) or --file people.csv');
        const inputs = splitInputs(parts);
        const results: JobResult[] = [];
        for (const input of inputs) {
          const { jobId } = await ctx.service.submit({ workspace: opts.workspace, input, refresh: !!opts.refresh, groups: groups as never, maxCostUsd: opts.maxCost, actor: cliActor() }, { trigger: 'cli', address: {} });
          results.push(await ctx.service.waitFor(jobId, timeoutMs));
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
        else process.stdout.write(`${results.map(renderCard).join('\n\n')}\n`);
        return Math.max(...results.map((r) => exitCodeOf(r.status)));
      });
    });
}

function parseUsd(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--max-cost takes an amount in USD such as 0.50, not "${value}"`);
  return n;
}

async function enrichFile(ctx: TriggerContext, opts: EnrichOpts, groups: string[] | undefined, timeoutMs: number | undefined, confirmAboveUsd: number): Promise<number> {
  const file = path.resolve(opts.file!);
  const out = path.resolve(opts.out ?? file.replace(/(\.csv)?$/i, '.enriched.csv'));
  const read = await ctx.csv.read(createReadStream(file), { maxBytes: Math.max(statSync(file).size + 1, 1) });
  const found = Object.entries(read.columns).map(([k, v]) => `${k}="${v}"`).join(', ');
  process.stderr.write(`Reading ${path.basename(file)}: columns ${found}\n`);
  // Held in memory (at most service.batch.maxItems rows): the estimate reads them before the batch does.
  const items: BatchItem[] = [];
  for await (const row of read.rows) {
    items.push(row.input ? { input: row.input, columns: row.columns } : { input: {}, columns: row.columns, problem: row.problem ?? `row ${row.line}: nothing to enrich` });
  }
  const batchOptions = { workspace: opts.workspace, refresh: !!opts.refresh, groups: groups as never };
  const estimate = await ctx.service.estimate(items, batchOptions);
  if (opts.estimate) {
    process.stdout.write(opts.json ? `${JSON.stringify(estimate, null, 2)}\n` : `${formatEstimate(estimate)}\n`);
    return 0;
  }
  if (!opts.yes && estimate.worstUsd > confirmAboveUsd) {
    process.stderr.write(`${formatEstimate(estimate)}\n`);
    const question = `This file may cost up to $${estimate.worstUsd.toFixed(2)} (above service.batch.confirmAboveUsd, $${confirmAboveUsd.toFixed(2)}).`;
    if (!(await confirmSpend(question))) return 1;
  }
  const submitted = await ctx.service.submitBatch(items, { trigger: 'cli', address: {} }, { ...batchOptions, ...(opts.maxCost !== undefined ? { maxCostUsd: opts.maxCost } : {}), actor: cliActor(), label: path.basename(file), columns: read.headers });
  await ctx.service.keepEstimate(submitted.batchId, estimate);
  process.stderr.write(`Batch ${submitted.batchId}: ${submitted.accepted} of ${submitted.total} rows queued${submitted.rejected.length ? `, ${submitted.rejected.length} cannot be used (see the status column)` : ''}\n`);
  const final = await followBatch(ctx, submitted.batchId, submitted.total, timeoutMs);
  const sink = createWriteStream(out);
  const { rows } = await ctx.csv.write(ctx.service.results(submitted.batchId), sink, { inputColumns: read.headers });
  sink.end();
  await finished(sink);
  await ctx.service.logActivity({ workspace: opts.workspace, actor: cliActor(), action: 'export', subject: submitted.batchId, detail: { file: path.basename(out), rows } });
  const c = final.counts;
  process.stderr.write(`Wrote ${rows} rows to ${out}: ${c.done} done, ${c.failed} failed, ${c.rejected} unusable${c.paused ? `, ${c.paused} paused by a spend cap (they resume ${final.resumeAt ?? 'after 00:00 UTC'}; run \`enrichbot batch ${final.batchId} --out ${path.basename(out)}\` then)` : ''}; cost $${final.costUsd.toFixed(4)}${estimate ? ` (estimated $${estimate.expectedUsd.toFixed(2)}, at most $${estimate.worstUsd.toFixed(2)})` : ''}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
  return c.paused ? 3 : c.failed && !c.done ? 2 : 0;
}

/** Shows progress until the batch is done, cancelled, or left waiting on a spend cap. */
async function followBatch(ctx: TriggerContext, batchId: string, total: number, timeoutMs?: number): Promise<BatchStatus> {
  const tty = process.stderr.isTTY;
  const bar = tty ? new cliProgress.SingleBar({ format: 'Enriching |{bar}| {value}/{total} rows · ${cost} · ETA {eta_formatted}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(total, 0, { cost: '0.0000' });
  let lastLine = 0;
  const show = (s: BatchStatus) => {
    const n = s.counts.done + s.counts.failed + s.counts.rejected + s.counts.cancelled;
    if (bar) bar.update(n, { cost: s.costUsd.toFixed(4) });
    else if (n !== lastLine) {
      lastLine = n;
      process.stderr.write(`progress: ${n}/${s.total} rows, $${s.costUsd.toFixed(4)}${s.state === 'paused' ? ` (paused by a spend cap until ${s.resumeAt ?? '00:00 UTC'})` : ''}\n`);
    }
  };
  try {
    return await new Promise<BatchStatus>((resolve, reject) => {
      const timer = timeoutMs ? setTimeout(() => reject(new Error(`batch ${batchId} did not finish within ${timeoutMs / 1000} s; it goes on: \`enrichbot batch ${batchId}\` shows it`)), timeoutMs) : undefined;
      const settle = (s: BatchStatus) => {
        show(s);
        if (s.state === 'running') return;
        if (timer) clearTimeout(timer);
        resolve(s);
      };
      void ctx.service
        .onBatchProgress(batchId, settle)
        .then(async (unsubscribe) => {
          settle(await ctx.service.status(batchId) as BatchStatus);
          return unsubscribe;
        })
        .catch(reject);
    });
  } finally {
    bar?.stop();
  }
}
