// A FerretDB 1.24 of the test's own on the SQLite backend, its data in a temp folder, that the
// test can kill and start again on the same port and data (the shared FerretDB is never
// touched). Not on PostgreSQL: the shared FerretDB holds most of PostgreSQL's connections. The
// binary is the one scripts/ci/ensure-ferretdb.sh builds once and caches (CI and
// scripts/services.sh use the same); it is run the way services.sh runs it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './worker-child.js';
import { freePort, startRestartable, type RestartableServer } from './own-service.js';

export interface OwnFerretDb extends RestartableServer {
  port: number;
  /** A connection string for database `db` on it (one direct connection, no retried writes, as the suite uses). */
  urlFor(db: string): string;
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
  const server = await startRestartable({ command: bin, args, port, dir, what: 'FerretDB', startTimeoutMs: opts.startTimeoutMs ?? 30_000 });
  return Object.assign(server, {
    port,
    urlFor: (db: string) => `mongodb://127.0.0.1:${port}/${db}?directConnection=true&retryWrites=false&maxPoolSize=6`,
  });
}
