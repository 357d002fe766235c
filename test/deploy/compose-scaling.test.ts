// `docker compose up --scale worker=3` (docs/deploy.md) needs a worker service that N copies of
// can run side by side: no fixed container name or host name, no published port, the worker
// role, and the same database and queue as web. Read from docker-compose.yml as compose reads it
// (the x-enrichbot anchor merged), since this machine cannot run compose itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/worker-child.js';

type Service = Record<string, unknown> & { environment?: Record<string, string> };
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const { web, worker } = compose.services;

test('the worker service can be scaled: no container_name, hostname or published port, role worker', () => {
  expect(Object.keys(worker).filter((k) => ['container_name', 'hostname', 'ports'].includes(k))).toEqual([]);
  expect(worker.environment?.ENRICHBOT_ROLE).toBe('worker');
});

test('web and workers share one database and one queue (same MONGODB_URL, REDIS_URL and queue prefix)', () => {
  for (const key of ['MONGODB_URL', 'REDIS_URL', 'ENRICHBOT_QUEUE_PREFIX']) expect({ key, value: worker.environment?.[key] }).toEqual({ key, value: web.environment?.[key] });
  expect(web.environment?.ENRICHBOT_ROLE).toBe('web');
});
