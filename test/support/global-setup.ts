// Runs once before the suite: the tests need a real Redis and a real MongoDB-wire server.
// If either is missing, fail at once with one sentence saying how to start them.
import net from 'node:net';

function reachable(url: string, fallbackPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || fallbackPort) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export default async function globalSetup(): Promise<void> {
  const mongo = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017/enrichbot';
  const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const missing: string[] = [];
  if (!(await reachable(mongo.replace(/^mongodb:\/\//, 'tcp://'), 27017))) missing.push(`MongoDB at ${mongo}`);
  if (!(await reachable(redis, 6379))) missing.push(`Redis at ${redis}`);
  if (missing.length) {
    throw new Error(
      `Tests need ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not reachable: run \`bash .ci/run\` (it builds and starts FerretDB and Redis, then runs the tests), or start them yourself and set MONGODB_URL and REDIS_URL.`,
    );
  }
}
