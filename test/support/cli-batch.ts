// A batch submitted by the real CLI (`enrichbot enrich --file --no-worker`) to worker processes,
// and what every batch must end with whatever died on the way: done once, its counts equal to
// its items, every row its own answer in input order, each row's cost its job's (issues 24, 28).
import { writeFileSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { TestApp } from './test-app.js';
import { cliEnv, exited, startCli } from './cli-env.js';
import { until } from './wait.js';
import type { BatchStatus } from '../../src/plugin/service.js';

/** Worker options for a survivor: it sweeps every second and recounts a batch that stood still for 2 s. */
export const survivorOptions = { sweeper: { intervalMs: 1000, requeueAfterMs: 2000 }, recountAfterMs: 2000 };

export interface CliBatchRun {
  batchId: string;
  domains: string[];
  code: number | null;
  output: string;
  /** The batch's 'done' events as published. */
  doneEvents: BatchStatus[];
  /** The CSV the CLI wrote ('' when it wrote none). */
  csv: string;
}

/**
 * Submits `rows` domains (`<workspace>-<i>.com`) through the CLI for the companyProfile group
 * and waits for it to exit, then a little longer: a second finish would publish again.
 */
export async function runCliBatch(client: TestApp, opts: { workspace: string; rows: number; timeoutS: number }): Promise<CliBatchRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-batch-'));
  const file = path.join(dir, 'in.csv');
  const out = path.join(dir, 'out.csv');
  const domains = Array.from({ length: opts.rows }, (_, i) => `${opts.workspace.toLowerCase()}-${i}.com`);
  writeFileSync(file, `domain\n${domains.join('\n')}\n`);
  const cli = startCli(['enrich', '--file', file, '--out', out, '--no-worker', '--yes', '-w', opts.workspace, '--groups', 'companyProfile', '--timeout', String(opts.timeoutS)], cliEnv(client.names));
  try {
    const { Batch } = client.store.models;
    const batch = await until('the batch', async () => Batch.findOne({ workspace: opts.workspace }, { _id: 1 }).lean());
    const batchId = String(batch._id);
    const doneEvents: BatchStatus[] = [];
    const unsubscribe = await client.service.onBatchProgress(batchId, (s) => s.state === 'done' && doneEvents.push(s));
    const code = await exited(cli);
    await new Promise((r) => setTimeout(r, 2500));
    await unsubscribe();
    return { batchId, domains, code, output: cli.output(), doneEvents, csv: existsSync(out) ? readFileSync(out, 'utf8') : '' };
  } finally {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  }
}

/** What every run must end with: done once, counts equal to the items, every row its answer in input order, paid once. */
export async function expectBatchFinished(client: TestApp, run: CliBatchRun): Promise<void> {
  const { Batch, BatchItem, Job } = client.store.models;
  // On failure, what the rows left waiting were waiting for.
  const waiting = run.code === 0 ? [] : await BatchItem.find({ batchId: run.batchId, status: { $ne: 'done' } }, { index: 1, status: 1, jobId: 1 }).lean();
  const jobsOf = await Promise.all(waiting.map(async (it) => ({ index: it.index, item: it.status, job: (await Job.findById(it.jobId, { status: 1, run: 1, attempts: 1 }).lean()) ?? null })));
  expect({ code: run.code, output: run.code === 0 ? '' : run.output, waiting: jobsOf }).toEqual({ code: 0, output: '', waiting: [] });
  const doc = await Batch.findById(run.batchId).lean();
  expect(doc).toMatchObject({ state: 'done' });
  expect(doc?.finishedAt).toBeTruthy();
  const items = await BatchItem.find({ batchId: run.batchId }).sort({ _id: 1 }).lean();
  const fromItems: Record<string, number> = {};
  for (const it of items) fromItems[it.status] = (fromItems[it.status] ?? 0) + 1;
  expect(fromItems).toEqual({ done: run.domains.length });
  const status = (await client.service.status(run.batchId)) as BatchStatus;
  expect(Object.fromEntries(Object.entries(status.counts).filter(([, n]) => n > 0))).toEqual(fromItems);
  expect(Object.fromEntries(Object.entries(doc!.counts ?? {}).filter(([, n]) => (n as number) > 0))).toEqual(fromItems);
  expect(items.map((it) => (it.result as { company?: { fields: { name?: { value: string } } } })?.company?.fields.name?.value)).toEqual(run.domains.map((d) => `Co ${d}`));
  // Each row carries its job's cost once (a job run again after a kill reports the new attempt's calls).
  const jobCost = new Map<string, number>();
  for (const j of await Job.find({ workspace: doc!.workspace }, { result: 1 }).lean()) jobCost.set(String(j._id), (j.result as { costUsd?: number } | null)?.costUsd ?? 0);
  expect(items.map((it) => Math.round((it.costUsd ?? 0) * 1e6))).toEqual(items.map((it) => Math.round((jobCost.get(it.jobId!) ?? -1) * 1e6)));
  expect(Math.round(status.costUsd * 1e6)).toBe(items.reduce((s, it) => s + Math.round((it.costUsd ?? 0) * 1e6), 0));
  // The end-of-batch delivery happened once.
  expect(run.doneEvents).toHaveLength(1);
  // The CSV: one row per input row, in input order, each with its own answer.
  const rows = parse(run.csv, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  expect(rows.map((r) => [r.domain, r['company.name'], r.status])).toEqual(run.domains.map((d) => [d, `Co ${d}`, 'done']));
}
