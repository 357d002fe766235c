// Worker processes for the parts that need several (d: pacing, k: scale): this file run as
// `node worker-process.js --worker <json>` is an App in the worker role whose one company
// provider answers from the fake provider; `--limiter <json>` runs the rate limiter alone (no
// queue, no database). Each prints "ready" once started, and stops when its stdin closes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import { RateLimiter } from '../../src/engine/rate-limit.js';
import { CONCURRENCY, REDIS_URL, startApp } from './app.js';
import { companyProvider } from './providers.js';

export interface WorkerOpts {
  mongodbUrl: string;
  prefix: string;
  baseUrl: string;
  /** The company provider: its id (also its waterfall), the fake's path, its pacing. */
  provider: { id: string; path?: string; ratePerSecond?: number };
  concurrency?: number;
}

async function workerMain(opts: WorkerOpts): Promise<void> {
  const { id, ...rest } = opts.provider;
  const app = await startApp({ role: 'worker', mongodbUrl: opts.mongodbUrl, prefix: opts.prefix, plugins: { [id]: companyProvider(id, rest) }, baseUrl: opts.baseUrl, waterfalls: { companyProfile: [id] }, concurrency: opts.concurrency ?? CONCURRENCY });
  // Load the HTTP client now, so that the first calls do not leave their grant late.
  await fetch(`${opts.baseUrl}/instant/warmup`, { method: 'POST' }).then((r) => r.text());
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve).resume();
    process.once('SIGTERM', resolve);
  });
  await app.stop();
  process.exit(0);
}

/**
 * The limiter alone (no queue, no database): CONCURRENCY loops each wait for a grant and POST to
 * the limited endpoint, until `calls` calls in all; starts on "go".
 */
async function limiterMain(opts: WorkerOpts & { calls: number }): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const limiter = new RateLimiter(redis, opts.prefix);
  const pace = opts.provider.ratePerSecond! * (1 - loadConfig({ useDefaultFile: true, env: {} }).resilience.rateHeadroom);
  await fetch(`${opts.baseUrl}/instant/warmup`, { method: 'POST' }).then((r) => r.text());
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  let left = opts.calls;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) {
        const { at } = await limiter.acquire(opts.provider.id, pace);
        const headers = { 'x-granted-at': String(at), 'x-sent-at': String(Date.now()) };
        await (await fetch(`${opts.baseUrl}${opts.provider.path}`, { method: 'POST', body: '{}', headers })).text();
      }
    }),
  );
  redis.disconnect();
  process.stdout.write('done\n');
  process.exit(0);
}

export function spawnWorker(opts: WorkerOpts & { calls?: number }, mode: '--worker' | '--limiter' = '--worker'): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), mode, JSON.stringify(opts)], { env: process.env });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}: ${err}`)));
  });
}

export async function stopWorker(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--worker') await workerMain(JSON.parse(process.argv[3]) as WorkerOpts);
  else if (process.argv[2] === '--limiter') await limiterMain(JSON.parse(process.argv[3]) as WorkerOpts & { calls: number });
}
