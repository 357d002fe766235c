// A start-up that fails after the connections are open (a plugin's start throws) must close what
// it opened: the main Redis client, the queue's Redis clients and MongoDB. Otherwise a process
// that reports the failure keeps retrying connections in the background and never exits.
import { z } from 'zod';
import pino from 'pino';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { defineTrigger, type Plugin } from '../../src/plugin/contract.js';
import { testNames } from '../support/env.js';
import { dropTestData } from '../support/test-app.js';
import { until } from '../support/wait.js';

const failing = defineTrigger({
  kind: 'trigger',
  id: 'fails-to-start',
  description: 'a trigger whose start throws',
  configSchema: z.object({}),
  start: () => {
    throw new Error('cannot start: test');
  },
});

test('a plugin whose start throws: start() rejects with its error and the App closes Redis, the queue and MongoDB', async () => {
  const names = testNames('start-failure');
  const config = loadConfig({
    useDefaultFile: false,
    env: { MONGODB_URL: names.mongodbUrl, REDIS_URL: names.redisUrl },
    overrides: { port: 0, plugins: { providers: [], triggers: ['fails-to-start'] }, queue: { prefix: names.prefix }, observability: { admin: { port: 0 } } },
  });
  const app = new App({ config, logger: pino({ level: 'silent' }), plugins: { 'fails-to-start': failing as unknown as Plugin } });
  try {
    await expect(app.start()).rejects.toThrow(/cannot start: test/);
    // ioredis reports 'end' once its socket has closed, a moment after disconnect(); left open, it stays 'ready'.
    await until('the main Redis client to end', async () => app.redis.status === 'end', 5_000, 20);
    // bee-queue closes its own clients (client, subscriber, blocking client) when it is closed.
    expect((app.queue.bee as unknown as { _isClosed: boolean })._isClosed).toBe(true);
    expect(app.store.connection.readyState).toBe(0); // disconnected
  } finally {
    await app.stop().catch(() => undefined);
    await dropTestData(names);
  }
});
