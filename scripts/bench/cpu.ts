// CPU time by process while a bench part runs (Linux /proc; elsewhere nothing is printed):
// this process (the engine or the floor loop), the database server (FerretDB and PostgreSQL, or
// mongod) and Redis. It shows where a job's time goes when the machine is saturated: a part that
// runs at X jobs/s on C cores cannot use more than C / X CPU-seconds per job, whoever spends it.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Process name -> label; this process is "node (bench)". Others are not counted. */
const WATCHED: Record<string, string> = { postgres: 'postgres', ferretdb: 'ferretdb', mongod: 'mongod', 'redis-server': 'redis' };

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export type CpuSnapshot = Map<string, number>;

/** CPU seconds (user + system) so far, by label; empty where /proc is not there. `labels` names other processes by pid (worker children). */
export function cpuSnapshot(labels: Map<number, string> = new Map()): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(open + 1, close);
    const label = Number(pid) === process.pid ? 'node (bench)' : (labels.get(Number(pid)) ?? WATCHED[comm]);
    if (!label) continue;
    // Fields after "(comm) ": state is 3rd overall, utime 14th, stime 15th.
    const rest = stat.slice(close + 2).split(' ');
    const seconds = (Number(rest[11]) + Number(rest[12])) / clockTicks();
    out.set(label, (out.get(label) ?? 0) + seconds);
  }
  return out;
}

/** CPU milliseconds per job by label between two snapshots (processes that ended are missed). */
export function cpuPerJob(before: CpuSnapshot, after: CpuSnapshot, jobs: number): [string, number][] {
  return [...after.entries()].map(([k, v]) => [k, ((v - (before.get(k) ?? 0)) * 1000) / jobs] as [string, number]).filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]);
}

/** CPU seconds all processes spent so far (Linux /proc/stat: every state but idle and iowait); undefined elsewhere. */
export function machineBusySeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (user + nice + system + irq + softirq + steal) / clockTicks();
  } catch {
    return undefined;
  }
}
