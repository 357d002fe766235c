// The web role's health endpoints against the real App: /healthz answers while the process is
// up; /readyz answers 503 naming the service that is down, and 200 again once it is back.
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';

let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

beforeAll(async () => {
  app = await startTestApp({ file: 'core-health', role: 'web' });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
});

const get = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${app.port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

test('/healthz and /readyz answer 200 when MongoDB and Redis are reachable', async () => {
  expect(await get('/healthz')).toEqual({ status: 200, body: { ok: true } });
  expect(await get('/readyz')).toEqual({ status: 200, body: { ok: true, checks: { mongodb: true, redis: true } } });
});

test('/readyz answers 503 naming Redis while the connection is down, 200 once it is back; /healthz stays 200', async () => {
  app.redis.disconnect();
  try {
    expect(await get('/readyz')).toEqual({ status: 503, body: { ok: false, checks: { mongodb: true, redis: false } } });
    expect((await get('/healthz')).status).toBe(200);
  } finally {
    await app.redis.connect();
  }
  expect(await get('/readyz')).toEqual({ status: 200, body: { ok: true, checks: { mongodb: true, redis: true } } });
});
