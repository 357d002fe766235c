// What every bench part shares: the settings read from the environment, a database and a queue
// prefix of its own per part (removed by cleanUp), the App started with the bench's settings, and
// the plain-text table the console output uses.
import { randomBytes } from 'node:crypto';
import BeeQueue from 'bee-queue';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import type { Plugin } from '../../src/plugin/contract.js';

/** A positive number from the environment, else `fallback`. */
export const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

export const MONGODB_URL = process.env.MONGODB_URL || 'mongodb://127.0.0.1:27017/enrichbot';
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';
export const CONCURRENCY = num('BENCH_CONCURRENCY', 10);
const TAG = randomBytes(3).toString('hex');
export const PREFIX = `enrichbot-bench-${TAG}`;

// One database per part: a part does not slow down with the previous part's documents.
const databases = new Set<string>();
export function dbUrl(part: string): string {
  const u = new URL(MONGODB_URL);
  u.pathname = `/enrichbot_bench_${TAG}_${part}`;
  if (!u.searchParams.has('directConnection')) u.searchParams.set('directConnection', 'true');
  if (!u.searchParams.has('retryWrites')) u.searchParams.set('retryWrites', 'false');
  databases.add(u.toString());
  return u.toString();
}

export interface AppOpts {
  role: 'all' | 'worker' | 'web' | 'client';
  mongodbUrl: string;
  prefix: string;
  plugins: Record<string, Plugin>;
  /** The providers' base URL (every provider plugin in `plugins` that is not a trigger). */
  baseUrl: string;
  waterfalls?: Record<string, string[]>;
  concurrency: number;
  /** Provider call time-out (default: the config's). */
  timeoutMs?: number;
  /** Trigger ids among `plugins`, with their settings. */
  triggers?: Record<string, Record<string, unknown>>;
  /** Core settings on top (engine, spendCaps...). */
  overrides?: Record<string, unknown>;
}

export async function startApp(opts: AppOpts): Promise<App> {
  const triggers = opts.triggers ?? {};
  const ids = Object.keys(opts.plugins).filter((id) => !(id in triggers));
  const config = loadConfig({
    useDefaultFile: false,
    env: {},
    overrides: {
      role: opts.role === 'client' ? 'all' : opts.role,
      port: 0,
      observability: { admin: { port: 0 } },
      mongodbUrl: opts.mongodbUrl,
      redisUrl: REDIS_URL,
      logLevel: LOG_LEVEL,
      queue: { prefix: opts.prefix, concurrency: opts.concurrency },
      plugins: { providers: ids, triggers: Object.keys(triggers) },
      providers: Object.fromEntries(ids.map((id) => [id, { baseUrl: opts.baseUrl, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }])),
      triggers,
      ...(opts.waterfalls ? { waterfalls: opts.waterfalls } : {}),
      sweeper: { intervalMs: 3600_000 },
      ...opts.overrides,
    },
  });
  const app = new App({ config, logger: createLogger({ level: LOG_LEVEL }), plugins: opts.plugins, role: opts.role === 'client' ? 'client' : undefined });
  return app.start();
}

/** Resolves when `count` jobs have succeeded on these queues' local workers. */
export function succeeded(queues: BeeQueue[], count: number, timeoutMs = 300_000): Promise<void> {
  let n = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${n} of ${count} jobs finished within ${timeoutMs / 1000} s`)), timeoutMs);
    for (const q of queues) {
      q.on('succeeded', () => {
        if (++n !== count) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

/** Drops every database dbUrl() named and the Redis keys under PREFIX. */
export async function cleanUp(): Promise<void> {
  for (const url of databases) {
    const conn = await mongoose.createConnection(url, { serverSelectionTimeoutMS: 5000 }).asPromise();
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
  }
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}-*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

/** Columns padded to their widest cell; the first left-aligned, the rest right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ')).join('\n');
}

/** The p-th percentile (0..100) of these values, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
