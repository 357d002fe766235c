// A redis-server of the test's own, on a free port with its files in a temp folder, that the
// test can crash and start again on the same port (the shared Redis on 6379 is never touched).
// With `appendOnly`, every write is fsynced to the append-only file before Redis answers
// (appendfsync always), so a SIGKILL loses nothing that was acknowledged; without it, Redis has
// no persistence at all and comes back empty.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exitOf, freePort, killNow, killOnExit, waitForPort } from './own-service.js';

export interface OwnRedis {
  port: number;
  url: string;
  /** Whether the server is running now. */
  readonly up: boolean;
  /** SIGKILL: no shutdown, no save; resolves once the process is gone. */
  crash(): Promise<void>;
  /** Starts it again on the same port and folder; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Kills it and deletes its folder (safe to call more than once). */
  stop(): Promise<void>;
}

export async function startOwnRedis(opts: { appendOnly: boolean; startTimeoutMs?: number }): Promise<OwnRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'own-redis-'));
  const port = await freePort();
  const persistence = opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const c = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    killOnExit(c);
    c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    c.once('error', (err) => (log += `\nspawn redis-server: ${err.message} (is redis-server installed and on PATH?)`));
    await waitForPort(port, c, 'redis-server', opts.startTimeoutMs ?? 10_000, () => log.slice(-2000));
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
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
