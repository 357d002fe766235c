// What the fault tests' own servers (own-redis.ts, own-ferretdb.ts) share: a free loopback
// port, waiting for a port to accept connections, and a kill that also runs when the test
// process exits without its afterAll (a crash, a timeout), so no server outlives its test.
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';

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
