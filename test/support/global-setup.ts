// Runs once before the suite: the tests need a real Redis and a real MongoDB-wire server.
// MONGODB_URL / REDIS_URL when set (they must answer); else the defaults (127.0.0.1:27017 /
// 127.0.0.1:6379) when they answer; else scripts/services.sh starts what is missing (FerretDB
// on PostgreSQL or SQLite, redis-server), the env is set here for the test workers (they are
// started after this and inherit it), and global-teardown.ts stops it again. So `npm ci &&
// npm test` passes on a fresh machine with no service started by hand.
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = path.join(ROOT, 'scripts/services.sh');

/** Where to look when the URLs are unset, and the script that starts what is missing. */
export interface ServiceDefaults {
  mongo: string;
  redis: string;
  script: string;
}
const DEFAULTS: ServiceDefaults = { mongo: 'mongodb://127.0.0.1:27017/enrichbot', redis: 'redis://127.0.0.1:6379', script: SERVICES };

function reachable(url: string, fallbackPort: number): Promise<boolean> {
  const u = new URL(url.replace(/^mongodb:\/\//, 'tcp://'));
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

/** globalThis key holding the script and state directory of what this run started (global-teardown.ts). */
const STARTED_KEY = '__ENRICHBOT_SERVICES_STARTED__';

function stopServices(script: string, state: string): void {
  spawnSync('bash', [script, 'stop', state], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function startServices(script: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const child = spawn('bash', [script, 'start'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`scripts/services.sh start failed (exit ${code}); see its messages above. Or start MongoDB (or FerretDB) and Redis yourself and set MONGODB_URL and REDIS_URL.`);
  return Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
}

export default async function globalSetup(): Promise<void> {
  await readyServices(DEFAULTS);
}

/** globalSetup's work; the defaults are a parameter so that a test can point them elsewhere. */
export async function readyServices(defaults: ServiceDefaults): Promise<void> {
  const given = { mongo: process.env.MONGODB_URL, redis: process.env.REDIS_URL };
  const missing: string[] = [];
  if (given.mongo && !(await reachable(given.mongo, 27017))) missing.push(`MongoDB at ${given.mongo}`);
  if (given.redis && !(await reachable(given.redis, 6379))) missing.push(`Redis at ${given.redis}`);
  if (missing.length) {
    throw new Error(
      `Tests need ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not reachable: start ${missing.length > 1 ? 'them' : 'it'}, or unset ${missing.map((m) => (m.startsWith('Redis') ? 'REDIS_URL' : 'MONGODB_URL')).join(' and ')} to let the tests start their own (scripts/services.sh).`,
    );
  }
  const needMongo = !given.mongo && !(await reachable(defaults.mongo, 27017));
  const needRedis = !given.redis && !(await reachable(defaults.redis, 6379));
  if (!needMongo && !needRedis) return;

  // The script itself uses a given or answering service and starts only the others.
  process.stderr.write(`\nglobal setup: nothing answers at ${[needMongo && defaults.mongo, needRedis && defaults.redis].filter(Boolean).join(' or ')}; starting local services (${path.relative(ROOT, defaults.script)})\n`);
  const port = (url: string, fallback: number) => new URL(url.replace(/^mongodb:/, 'tcp:')).port || String(fallback);
  const env = await startServices(defaults.script, { ...process.env, ENRICHBOT_MONGODB_PORT: port(defaults.mongo, 27017), ENRICHBOT_REDIS_PORT: port(defaults.redis, 6379) });
  (globalThis as Record<string, unknown>)[STARTED_KEY] = { script: defaults.script, state: env.ENRICHBOT_SERVICES_STATE };
  // Jest may be stopped (Ctrl-C, a crash) without running globalTeardown: stop them then too.
  const stopIfStarted = () => {
    const started = (globalThis as Record<string, unknown>)[STARTED_KEY] as { script: string; state: string } | undefined;
    delete (globalThis as Record<string, unknown>)[STARTED_KEY];
    if (started) stopServices(started.script, started.state);
  };
  process.once('exit', stopIfStarted);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopIfStarted();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  process.env.MONGODB_URL = env.MONGODB_URL;
  process.env.REDIS_URL = env.REDIS_URL;
}
