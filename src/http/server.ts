// The web role: health endpoints and the routes trigger plugins mount.
import express, { type Express, type Router } from 'express';
import type { Server } from 'node:http';
import type { Logger } from '../logger.js';

export interface HttpServer {
  app: Express;
  routerFor(mountPath: string): Router;
  listen(port: number): Promise<number>;
  close(): Promise<void>;
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
  let server: Server | undefined;
  const routers: Router[] = [];
  return {
    app,
    routerFor(mountPath) {
      const r = express.Router();
      app.use(mountPath, r);
      routers.push(r);
      return r;
    },
    listen(port) {
      return new Promise((resolve, reject) => {
        server = app.listen(port, '0.0.0.0', () => {
          const addr = server!.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
        server.on('error', reject);
      });
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
