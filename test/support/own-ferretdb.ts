// A FerretDB 1.24 of the test's own on the SQLite backend, its data in a temp folder, that the
// test can kill and start again on the same port and data (the shared FerretDB is never
// touched). Not on PostgreSQL: the shared FerretDB holds most of PostgreSQL's connections. The
// binary is the one scripts/ci/ensure-ferretdb.sh builds once and caches (CI and
// scripts/services.sh use the same); it is run the way services.sh runs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './worker-child.js';
import { exitOf, freePort, killNow, killOnExit, waitForPort } from './own-service.js';

export interface OwnFerretDb {
  port: number;
  /** A connection string for database `db` on it (one direct connection, no retried writes, as the suite uses). */
  urlFor(db: string): string;
  readonly up: boolean;
  /** SIGKILL; resolves once the process is gone. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Kills it and deletes its folder (safe to call more than once). */
  stop(): Promise<void>;
}

/** The cached FerretDB binary, built first if missing (Go needed then: minutes, once per machine). */
function ferretBinary(): string {
  const out = spawnSync('bash', [path.join(ROOT, 'scripts/ci/ensure-ferretdb.sh')], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (out.status !== 0) throw new Error(`scripts/ci/ensure-ferretdb.sh could not provide FerretDB (exit ${out.status}): ${out.stderr.slice(-1500)}`);
  return out.stdout.trim().split('\n').pop()!;
}

export async function startOwnFerretDb(opts: { startTimeoutMs?: number } = {}): Promise<OwnFerretDb> {
  const bin = ferretBinary();
  const dir = mkdtempSync(path.join(tmpdir(), 'own-ferretdb-'));
  mkdirSync(path.join(dir, 'data'));
  mkdirSync(path.join(dir, 'state'));
  const port = await freePort();
  const args = ['--handler=sqlite', `--sqlite-url=file:${dir}/data/`, `--listen-addr=127.0.0.1:${port}`, '--telemetry=disable', '--debug-addr=-', `--state-dir=${dir}/state`, '--log-level=warn'];
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    killOnExit(c);
    c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitForPort(port, c, 'FerretDB', opts.startTimeoutMs ?? 30_000, () => log.slice(-2000));
  };
  await start();
  return {
    port,
    urlFor: (db) => `mongodb://127.0.0.1:${port}/${db}?directConnection=true&retryWrites=false&maxPoolSize=6`,
    get up() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    async crash() {
      if (child) await killNow(child);
    },
    async restart() {
      if (child) await exitOf(child);
      await start();
    },
    async stop() {
      if (child) await killNow(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
