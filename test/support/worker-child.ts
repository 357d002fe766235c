// A worker App in its own OS process (test/engine/fixtures/worker-process.mjs, running the
// compiled dist/), for tests that need a real crash: SIGKILL leaves no chance to clean up.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The child runs dist/: refuse to test stale code. */
export function assertDistIsFresh(): void {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        let built = 0;
        try {
          built = statSync(path.join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'))).mtimeMs;
        } catch {
          /* not built */
        }
        if (built < statSync(path.join(ROOT, rel)).mtimeMs) stale.push(rel);
      }
    }
  };
  walk('src');
  if (stale.length) throw new Error(`dist/ is missing or older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? '…' : ''}: run \`npm run build\` first (\`npm test\` does).`);
}

/** Starts worker-process.mjs (or another fixture) with these options; resolves once it printed "ready". */
export function spawnWorker(opts: Record<string, unknown>, script = 'test/engine/fixtures/worker-process.mjs'): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [path.join(ROOT, script), JSON.stringify(opts)], { cwd: ROOT, env: { ...process.env } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 30 s: ${err}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

/**
 * Moves the ManualClock of a worker started with `clockMs` to `ms` (ms since the epoch), and
 * resolves once the child says it is set.
 */
export function setWorkerClock(child: ChildProcessWithoutNullStreams, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!out.split('\n').includes(`clock ${ms}`)) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve();
    };
    const timer = setTimeout(() => {
      child.stdout.off('data', onData);
      reject(new Error(`worker ${child.pid} did not set its clock within 10 s`));
    }, 10_000);
    child.stdout.on('data', onData);
    child.stdin.write(`clock ${ms}\n`);
  });
}

/** Stops a worker gracefully (its stdin closes), or kills it if it does not stop within 10 s. */
export async function stopWorker(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}
