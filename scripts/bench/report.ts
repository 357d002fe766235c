// docs/benchmarks.md, written by `npm run bench` itself: the hand-written text comes from
// scripts/bench/benchmarks-template.md, the results from the run. Each part's results are kept
// in the file (a JSON comment at its end) with the machine and date they were measured on, so a
// run of some parts (BENCH_ONLY) replaces those parts and keeps the others, each still dated.
// The console output of each part is captured too and shown under "Details".
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TEMPLATE = path.join(ROOT, 'scripts/bench/benchmarks-template.md');
export const DOC = path.join(ROOT, 'docs/benchmarks.md');
const DATA_OPEN = '<!-- bench-results ';
const DATA_CLOSE = ' -->';

/** One line of the results table. `met` is absent where the row has no goal. */
export interface ResultRow {
  what: string;
  result: string;
  goal?: string;
  met?: boolean;
}

export interface Machine {
  cores: number;
  cpu: string;
  ramGb: number;
  node: string;
  redis: string;
  database: string;
  /** BENCH_NOTE: e.g. "shared with other work". */
  note?: string;
}

export interface PartResult {
  part: string;
  title: string;
  seconds: number;
  rows: ResultRow[];
  detail: string;
  date: string;
  machine: Machine;
}

const firstLine = (file: string, re: RegExp) => {
  try {
    return re.exec(readFileSync(file, 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
};

/** PostgreSQL's major version from its server's command line (/usr/lib/postgresql/15/bin/postgres). */
function postgresVersion(): string | undefined {
  try {
    const pid = execFileSync('pgrep', ['-xo', 'postgres']).toString().trim();
    return /postgresql\/([\d.]+)\//.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export async function describeMachine(mongodbUrl: string, redisUrl: string): Promise<Machine> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  redis.disconnect();
  const conn = await mongoose.createConnection(mongodbUrl, { serverSelectionTimeoutMS: 5000 }).asPromise();
  const info = (await conn.db!.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string };
  await conn.close();
  const pg = postgresVersion();
  const database = info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion.replace(/^v/, '')}${pg ? ` on PostgreSQL ${pg}` : ''}` : `MongoDB ${info.version}`;
  return {
    cores: availableParallelism(),
    cpu: firstLine('/proc/cpuinfo', /^model name\s*:\s*(.+)$/m) ?? 'unknown',
    ramGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    redis: redisVersion,
    database,
    ...(process.env.BENCH_NOTE ? { note: process.env.BENCH_NOTE } : {}),
  };
}

/** Runs one part: times it and captures what it prints (console.log) for the details. */
export async function runPart(part: string, title: string, machine: Machine, run: () => Promise<ResultRow[]>): Promise<PartResult> {
  const lines: string[] = [];
  const print = console.log;
  console.log = (...args: unknown[]) => {
    print(...args);
    lines.push(args.map(String).join(' '));
  };
  const t0 = performance.now();
  try {
    const rows = await run();
    const seconds = Math.round(performance.now() - t0) / 1000;
    print(`    [${title}: ${seconds.toFixed(1)} s]`);
    return { part, title, seconds, rows, detail: lines.join('\n').replace(/^\n+/, ''), date: new Date().toISOString().slice(0, 10), machine };
  } finally {
    console.log = print;
  }
}

function storedResults(): PartResult[] {
  let doc: string;
  try {
    doc = readFileSync(DOC, 'utf8');
  } catch {
    return [];
  }
  const at = doc.lastIndexOf(DATA_OPEN);
  if (at < 0) return [];
  try {
    return JSON.parse(doc.slice(at + DATA_OPEN.length, doc.indexOf(DATA_CLOSE, at))) as PartResult[];
  } catch {
    return [];
  }
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const machineText = (m: Machine) => `${m.cores} cores (${m.cpu}), ${m.ramGb} GB RAM, Node ${m.node}, Redis ${m.redis}, ${m.database}${m.note ? `; ${m.note}` : ''}`;

function render(results: PartResult[]): string {
  const machines = [...new Set(results.map((r) => machineText(r.machine)))];
  const label = (r: PartResult) => (machines.length > 1 ? `M${machines.indexOf(machineText(r.machine)) + 1}, ` : '') + r.date;
  const out: string[] = [];
  out.push(machines.length === 1 ? `Machine: ${machines[0]}.` : machines.map((m, i) => `- M${i + 1}: ${m}`).join('\n'));
  out.push('');
  out.push('| part | measured | result | goal | met | run |');
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    for (const row of r.rows) out.push(`| ${r.part} | ${cell(row.what)} | ${cell(row.result)} | ${cell(row.goal ?? '')} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} | ${label(r)} |`);
  }
  out.push('');
  const total = results.reduce((s, r) => s + r.seconds, 0);
  out.push(`Time each part took (whole run: the sum, ${(total / 60).toFixed(1)} min, plus start-up and clean-up; goal: under 10 min on 2 cores):`);
  out.push('');
  out.push('| part | | seconds | run |');
  out.push('| --- | --- | --- | --- |');
  for (const r of results) out.push(`| ${r.part} | ${cell(r.title)} | ${r.seconds.toFixed(1)} | ${label(r)} |`);
  out.push('');
  out.push('### Details');
  out.push('');
  out.push("What each part printed, as it printed it.");
  for (const r of results) {
    out.push('');
    out.push(`#### (${r.part}) ${r.title}, ${label(r)}`);
    out.push('');
    out.push('```');
    out.push(r.detail);
    out.push('```');
  }
  return out.join('\n');
}

/** Writes docs/benchmarks.md: the template, with these parts' results and the others kept from the last file. */
export function writeDoc(fresh: PartResult[]): void {
  const order = (p: string) => p.charCodeAt(0);
  const merged = [...storedResults().filter((r) => !fresh.some((f) => f.part === r.part)), ...fresh].sort((x, y) => order(x.part) - order(y.part));
  const template = readFileSync(TEMPLATE, 'utf8');
  const data = JSON.stringify(merged).replace(/--/g, '-\\u002d');
  const doc = `${template.replace('{{results}}', render(merged)).trimEnd()}\n\n${DATA_OPEN}${data}${DATA_CLOSE}\n`;
  writeFileSync(DOC, doc);
}

// `npm run bench:doc`: the file again from its stored results, after an edit of the template.
if (process.argv[1] === fileURLToPath(import.meta.url)) writeDoc([]);
