// A redis-server of the test's own, on a free port with its files in a temp folder, that the
// test can crash and start again on the same port (the shared Redis on 6379 is never touched).
// With `appendOnly`, every write is fsynced to the append-only file before Redis answers
// (appendfsync always), so a SIGKILL loses nothing that was acknowledged; without it, Redis has
// no persistence at all and comes back empty.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startRestartable, type RestartableServer } from './own-service.js';

export interface OwnRedis extends RestartableServer {
  port: number;
  url: string;
}

export async function startOwnRedis(opts: { appendOnly: boolean; startTimeoutMs?: number }): Promise<OwnRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'own-redis-'));
  const port = await freePort();
  const persistence = opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  const server = await startRestartable({ command: 'redis-server', args, port, dir, what: 'redis-server', startTimeoutMs: opts.startTimeoutMs ?? 10_000 });
  return Object.assign(server, { port, url: `redis://127.0.0.1:${port}` });
}
