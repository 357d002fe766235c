// Each test file gets its own database and queue prefix, so files can run in parallel.
import { randomBytes } from 'node:crypto';

export function testNames(file: string): { mongodbUrl: string; redisUrl: string; prefix: string; dbName: string } {
  const tag = `${file.replace(/[^a-z0-9]+/gi, '_').slice(0, 30)}_${randomBytes(3).toString('hex')}`;
  const base = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017/enrichbot';
  const u = new URL(base);
  const dbName = `ebt_${tag}`;
  u.pathname = `/${dbName}`;
  if (!u.searchParams.has('directConnection')) u.searchParams.set('directConnection', 'true');
  if (!u.searchParams.has('retryWrites')) u.searchParams.set('retryWrites', 'false');
  return { mongodbUrl: u.toString(), redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `ebt:${tag}`, dbName };
}
