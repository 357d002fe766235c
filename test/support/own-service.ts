// What the fault tests' own servers (own-redis.ts, own-ferretdb.ts) share: a free loopback
// port, waiting for a port to accept connections, a kill that also runs when the test
// process exits without its afterAll (a crash, a timeout), so no server outlives its test, and
// the crash / restart / stop of such a server.
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/** A port nothing listens on right now (the OS picks it; released before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether 127.0.0.1:port accepts a TCP connection within 500 ms. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Polls until `port` accepts connections; fails if `child` exits first or `timeoutMs` passes. */
export async function waitForPort(port: number, child: ChildProcess, what: string, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it listened on ${port}:\n${log()}`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once the child has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills `child` (SIGKILL) when this process exits, unless it has exited by then. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** SIGKILLs the child and waits for it to be gone. */
export async function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exitOf(child);
}

/** A server process the test can crash and start again with the same command (same port, same folder). */
export interface RestartableServer {
  /** Whether the server is running now. */
  readonly up: boolean;
  /** SIGKILL: no shutdown, no save; resolves once the process is gone. */
  crash(): Promise<void>;
  /** Starts it again with the same command; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Kills it and deletes its folder (safe to call more than once). */
  stop(): Promise<void>;
}

/** Starts `command args` and waits until `port` accepts connections; `dir` is removed by stop(). */
export async function startRestartable(opts: { command: string; args: string[]; port: number; dir: string; what: string; startTimeoutMs: number }): Promise<RestartableServer> {
  const { command, args, port, dir, what, startTimeoutMs } = opts;
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const c = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    killOnExit(c);
    c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    c.once('error', (err) => (log += `\nspawn ${command}: ${err.message} (is it installed and on PATH?)`));
    await waitForPort(port, c, what, startTimeoutMs, () => log.slice(-2000));
  };
  await start();
  return {
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
