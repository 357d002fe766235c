// Starts the real App (real registry, MongoDB, Redis, bee-queue) for a test file, on its own
// database and queue prefix, and cleans both up afterwards.
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { testNames } from './env.js';

export interface TestAppOptions extends Partial<Omit<AppOptions, 'config'>> {
  file: string;
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Reuse another app's database and prefix (a second worker). */
  names?: ReturnType<typeof testNames>;
  useDefaultFile?: boolean;
}

/** The App a test started, with the database and queue prefix it runs on. */
export type TestApp = App & { names: ReturnType<typeof testNames> };

export async function startTestApp(opts: TestAppOptions): Promise<TestApp> {
  const names = opts.names ?? testNames(opts.file);
  const config = loadConfig({
    useDefaultFile: opts.useDefaultFile ?? false,
    env: { MONGODB_URL: names.mongodbUrl, REDIS_URL: names.redisUrl, ...(opts.env ?? {}) },
    overrides: deepDefaults(opts.overrides ?? {}, {
      port: 0,
      observability: { admin: { port: 0 } },
      queue: { prefix: names.prefix, stallIntervalMs: 1000, retryBackoffMs: 100, waitTimeoutMs: 20000, shutdownTimeoutMs: 3000 },
      resilience: { backoffBaseMs: 20, breakerCooldownMs: 60000 },
      sweeper: { intervalMs: 3600_000 },
    }),
  });
  const app = new App({ logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), ...opts, config });
  await app.start();
  return Object.assign(app, { names });
}

function deepDefaults(over: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? deepDefaults(v as Record<string, unknown>, b as Record<string, unknown>) : v;
  }
  return out;
}

/** Drops the test database and the queue's Redis keys. */
export async function dropTestData(names: ReturnType<typeof testNames>): Promise<void> {
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  await conn.dropDatabase().catch(() => undefined);
  await conn.close();
  const redis = new Redis(names.redisUrl);
  const keys = await redis.keys(`${names.prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
