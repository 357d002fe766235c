// The web role's two listeners. The public one (PORT, all interfaces) serves health endpoints and
// the routes trigger plugins mount (webhooks, the HTTP API). The admin one (ADMIN_PORT,
// 127.0.0.1 by default) serves what only operators need: /metrics and the queue dashboard, so
// they are never reachable where webhooks are.
import express, { type Express, type Router, type Request, type Response, type NextFunction } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameSecret } from './arena.js';
import type { Logger } from '../logger.js';

export interface Listener {
  app: Express;
  /** Resolves with the bound port (port 0 picks a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** The address it is bound to, once listening. */
  address(): string | undefined;
  close(): Promise<void>;
}

export interface HttpServer extends Listener {
  routerFor(mountPath: string): Router;
}

function listener(app: Express): Listener {
  let server: Server | undefined;
  return {
    app,
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server = app.listen(port, host, () => {
          const addr = server!.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
        server.on('error', reject);
      });
    },
    address() {
      return (server?.address() as AddressInfo | null)?.address;
    },
    close() {
      return new Promise((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}

/**
 * How long a readiness check may take before it counts as down. A probe must answer while a
 * service is down, not hang with it: ioredis holds a command up to ~15 s while it reconnects, the
 * MongoDB driver 5 s (serverSelectionTimeoutMS), and Kubernetes' readiness probe gives up after
 * 1 s by default (timeoutSeconds: 1).
 */
export const READY_CHECK_TIMEOUT_MS = 1000;

/** true when `check` answers true within `ms`; false when it fails, answers false, or is slower. */
export async function answersWithin(check: () => Promise<boolean>, ms = READY_CHECK_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([check().catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHttpServer(deps: { logger: Logger; ready: () => Promise<Record<string, boolean>> }): HttpServer {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.ready().catch(() => ({ mongodb: false, redis: false }));
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ ok, checks });
  });
  return {
    ...listener(app),
    routerFor(mountPath) {
      const r = express.Router();
      app.use(mountPath, r);
      return r;
    },
  };
}

/** The admin listener: an empty app that /metrics and /arena are mounted on. */
export function createAdminServer(): Listener {
  const app = express();
  app.disable('x-powered-by');
  return listener(app);
}

/** `Authorization: Bearer <token>` or 401; compared in constant time. */
export function bearerAuth(token: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const [scheme, given] = (req.headers.authorization ?? '').split(' ');
    if (scheme?.toLowerCase() === 'bearer' && given && sameSecret(given, token)) return next();
    res.set('WWW-Authenticate', 'Bearer').status(401).type('text/plain').send('A bearer token is required: observability.admin.token (ADMIN_TOKEN).\n');
  };
}
