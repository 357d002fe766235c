// The bull-arena queue dashboard (it speaks bee-queue), for operators, behind HTTP basic auth.
// Off unless observability.arena.enabled, and then only with a username and password. Its
// browser assets are served from the package (useCdn: false): no third-party host is needed.
import { createRequire } from 'node:module';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Express, Request, Response, NextFunction } from 'express';
import BeeQueue from 'bee-queue';
import { redisOptions } from '../platform/redis-connection.js';

const require = createRequire(import.meta.url);

export interface ArenaSettings {
  path: string;
  username: string;
  password: string;
  redisUrl: string;
  redisTlsCaFile?: string;
  prefix: string;
}

// Hash both sides first: equal lengths for timingSafeEqual, and no early exit on length.
export const sameSecret = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export function basicAuth(username: string, password: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const [scheme, encoded] = header.split(' ');
    if (scheme?.toLowerCase() === 'basic' && encoded) {
      const decoded = Buffer.from(encoded, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0 && sameSecret(decoded.slice(0, i), username) && sameSecret(decoded.slice(i + 1), password)) return next();
    }
    res.set('WWW-Authenticate', 'Basic realm="enrichbot queues", charset="UTF-8"').status(401).type('text/plain').send('Authentication required.\n');
  };
}

/** Mounts the dashboard; returns a function closing the queue connections it opened. */
export function mountArena(app: Express, s: ArenaSettings): () => Promise<void> {
  const Arena = require('bull-arena') as (config: unknown, listen: unknown) => Express;
  const arena = Arena(
    { Bee: BeeQueue, queues: [{ type: 'bee', name: 'enrich', hostId: 'enrichbot', prefix: s.prefix, redis: redisOptions(s) }] },
    { disableListen: true, basePath: '/', useCdn: false },
  );
  app.use(s.path, basicAuth(s.username, s.password), arena);
  return async () => {
    const hosts = (arena.locals.Queues as { _queues: Record<string, Record<string, { close(): Promise<void> }>> })._queues;
    for (const queues of Object.values(hosts)) for (const q of Object.values(queues)) await q.close().catch(() => undefined);
  };
}
