// Managed Redis speaks TLS (rediss://) with a certificate from the provider's own CA, and takes
// an ACL user and password. Against a local redis-server that listens on TLS only, with a CA made
// at test time and the default user off: a job runs end to end
// (the app's client and its duplicates, bee-queue's three clients and the completion pub/sub all
// connect, or the job could not finish), a wrong CA or none is refused with a message naming
// REDIS_TLS_CA_FILE, and a CA file that cannot serve fails start-up naming the setting.
import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { defineTrigger } from '../../src/plugin/contract.js';
import type { JobResult } from '../../src/engine/types.js';
import { loadConfig } from '../../src/config/load.js';
import { ErrorCodes } from '../../src/errors.js';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { dropTestData, startTestApp } from '../support/test-app.js';
import { testNames } from '../support/env.js';
import { startTlsRedis, type TlsRedis } from './support/tls-redis.js';

jest.setTimeout(60_000);

let redis: TlsRedis;
let fake: FakeServer;
const delivered: JobResult[] = [];
const inbox = defineTrigger({
  kind: 'trigger',
  id: 'inbox',
  description: 'collects delivered results',
  configSchema: z.object({}),
  async deliver(result) {
    delivered.push(result);
  },
});

beforeAll(async () => {
  redis = await startTlsRedis();
  fake = await startFakeServer({ 'POST /co': (req) => ({ json: { found: true, fields: { 'company.name': `Name of ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } }) });
});
afterAll(async () => {
  await fake?.close();
  await redis?.stop();
});

const startApp = (names: ReturnType<typeof testNames>, caFile?: string) =>
  startTestApp({
    file: 'tls-redis',
    names,
    env: { REDIS_URL: redis.url, ...(caFile ? { REDIS_TLS_CA_FILE: caFile } : {}) },
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']] }), inbox },
    overrides: { plugins: { providers: ['co'], triggers: ['inbox'] }, providers: { co: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['co'] } },
  });

// First: each refused client leaves ioredis's 2 s disconnect timer behind (its stream is already
// closed, so the timer is not cleared), which runs out while the next test runs.
test.each([
  ['a CA that did not sign the certificate', () => redis.otherCaFile],
  ["no CA file (Node's bundled CAs)", () => undefined],
])('with %s, start-up is refused: the certificate is not trusted, set REDIS_TLS_CA_FILE', async (_label, caFile) => {
  const names = testNames('tls-redis-refused');
  await expect(startApp(names, caFile())).rejects.toMatchObject({
    code: ErrorCodes.SERVICE_UNREACHABLE,
    message: expect.stringMatching(/^Redis at rediss:\/\/\[redacted\]@127\.0\.0\.1:\d+ presented a TLS certificate this process does not trust \(self[- ]signed certificate in certificate chain\): set REDIS_TLS_CA_FILE to the PEM file of the CA that signed it/),
  });
  await dropTestData(names);
});

test('with the right CA but a wrong password, start-up is refused naming the user or password, not "start redis-server"', async () => {
  const names = testNames('tls-redis-refused');
  await expect(
    startTestApp({ file: 'tls-redis', names, env: { REDIS_URL: redis.url.replace(/:[^:@]+@/, ':wrong@'), REDIS_TLS_CA_FILE: redis.caFile } }),
  ).rejects.toMatchObject({ code: ErrorCodes.SERVICE_UNREACHABLE, message: expect.stringMatching(/^Redis at rediss:\/\/\[redacted\]@127\.0\.0\.1:\d+ refused the user or password \(WRONGPASS [^)]*\): check them in REDIS_URL/) });
  await dropTestData(names);
});

test('with REDIS_TLS_CA_FILE naming the CA, a job runs end to end through a TLS-only Redis and is delivered', async () => {
  const names = testNames('tls-redis');
  const app = await startApp(names, redis.caFile);
  try {
    const submitted = await app.enqueue({ workspace: 'W', input: 'tls-example.com', replyTo: { trigger: 'inbox', address: {} } });
    const result = await app.service.waitFor(submitted.jobId, 20_000);
    expect(result.status).toBe('done');
    expect(result.company?.fields.name?.value).toBe('Name of tls-example.com');
    for (let i = 0; i < 100 && !delivered.some((d) => d.jobId === submitted.jobId); i++) await new Promise((r) => setTimeout(r, 100));
    expect(delivered.filter((d) => d.jobId === submitted.jobId)).toHaveLength(1);
    // The queue's keys are in this server (it has no plain port: every client came over TLS).
    const check = new Redis(redis.url, { tls: { ca: readFileSync(redis.caFile, 'utf8') }, lazyConnect: true });
    await check.connect();
    expect((await check.keys(`${names.prefix}:*`)).length).toBeGreaterThan(0);
    const clients = String(await check.client('LIST')).trim().split('\n').length;
    check.disconnect();
    // The app's client, its pub/sub duplicate, bee-queue's client, blocking and event clients, and this one.
    expect(clients).toBeGreaterThanOrEqual(5);
  } finally {
    await app.stop();
    await dropTestData(names);
  }
});

test('a CA file that cannot serve fails start-up naming REDIS_TLS_CA_FILE: missing, not PEM, or set without rediss://', () => {
  const load = (env: NodeJS.ProcessEnv) => () => loadConfig({ useDefaultFile: false, env });
  expect(load({ REDIS_URL: redis.url, REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/^config: redisTlsCaFile \(REDIS_TLS_CA_FILE\): cannot read \/nonexistent\/ca\.pem \(ENOENT\); give the path/);
  expect(load({ REDIS_URL: redis.url, REDIS_TLS_CA_FILE: fileURLToPath(import.meta.url) })).toThrow(/holds no PEM certificate/);
  expect(load({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS_CA_FILE: redis.caFile })).toThrow(/set, but REDIS_URL is not rediss:\/\/ \(TLS\); use rediss:\/\/ or unset REDIS_TLS_CA_FILE/);
  expect(loadConfig({ useDefaultFile: false, env: { REDIS_URL: redis.url, REDIS_TLS_CA_FILE: redis.caFile } }).redisTlsCaFile).toBe(redis.caFile);
});
