// The books of a test run against what the fake providers billed: the invoice (counted at the
// fakes, one line per answer they gave), the cost ledger in MongoDB, the spend counters in
// Redis, and what the real `enrichbot spend` command reports, all in micro-dollars so that
// "equal to the cent" is checked to the millionth.
import type { TestApp } from './test-app.js';
import { cliEnv, runCli } from './cli-env.js';

export const micros = (usd: number) => Math.round(usd * 1e6);

export interface InvoiceLine {
  provider: string;
  /** What was looked up (the domain). */
  subject: string;
  usd: number;
  /** Which worker asked (the API key it sent), when the test tells them apart. */
  by?: string;
}

/** What fake providers billed: a line per lookup they answered (a provider bills what it answers). */
export class Invoice {
  readonly lines: InvoiceLine[] = [];
  bill(line: InvoiceLine): void {
    this.lines.push(line);
  }
  micros(keep: (l: InvoiceLine) => boolean = () => true): number {
    return this.lines.filter(keep).reduce((s, l) => s + micros(l.usd), 0);
  }
  count(keep: (l: InvoiceLine) => boolean = () => true): number {
    return this.lines.filter(keep).length;
  }
}

export interface Books {
  invoice: number;
  /** The sum of the cost ledger's rows. */
  ledger: number;
  /** The day's spend counters in Redis (global, or the workspace's), summed over the days. */
  counters: number;
  /** `enrichbot spend`: the total on its first line (printed to 4 decimals). */
  spendTotal: number;
  /** `enrichbot spend`: its lines per provider and outcome, summed. */
  spendLines: number;
  /** Ledger rows still pending (a call whose books nobody closed). */
  pending: number;
}

/**
 * Reads every set of books for the given UTC days (default: every day in the ledger), optionally
 * one workspace. A test expects `{ invoice: X, ledger: X, counters: X, spendTotal: X, spendLines: X, pending: 0 }`.
 */
export async function readBooks(app: TestApp, invoiceMicros: number, opts: { workspace?: string; days?: string[] } = {}): Promise<Books & { days: string[] }> {
  const { Ledger } = app.store.models;
  const scope = opts.workspace ? { workspace: opts.workspace } : {};
  const days = opts.days ?? ((await Ledger.distinct('day', scope)) as string[]).sort();
  const rows = await Ledger.find({ ...scope, day: { $in: days } }, { costUsd: 1, outcome: 1 }).lean();
  const books: Books = { invoice: invoiceMicros, ledger: 0, counters: 0, spendTotal: 0, spendLines: 0, pending: 0 };
  books.ledger = rows.reduce((s, r) => s + micros(r.costUsd ?? 0), 0);
  books.pending = rows.filter((r) => r.outcome === 'pending').length;
  const env = cliEnv(app.names);
  const only = opts.workspace ? ['-w', opts.workspace] : [];
  for (const day of days) {
    const counter = await app.redis.get(`${app.names.prefix}:spend:${day}:${opts.workspace ? `ws:${opts.workspace}` : 'global'}`);
    books.counters += Number(counter ?? 0);
    const spend = await runCli(['spend', '--day', day, ...only], env, 30_000);
    const total = /^Spend on \S+(?: for \S+)?: \$(\d+\.\d{4})$/m.exec(spend.stdout);
    if (spend.code !== 0 || !total) throw new Error(`enrichbot spend printed no total (exit ${spend.code}): ${spend.stdout}${spend.stderr}`);
    books.spendTotal += micros(Number(total[1]));
    // "  <provider> <outcome> <n> calls  $<usd>"
    for (const m of spend.stdout.matchAll(/^ {2}\S+\s+\S+\s+\d+ calls {2}\$(\d+\.\d{4})$/gm)) books.spendLines += micros(Number(m[1]));
  }
  return { ...books, days };
}
