// Completion webhooks: a receiver on loopback (opened for this test through net.allowPrivateHosts)
// gets one signed event per finished batch or job, and the retry after answering 500 once; a
// private callbackUrl is refused at submit time; a receiver that never accepts is given up after 24 h.
import { createHmac } from 'node:crypto';
import { jest } from '@jest/globals';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { ManualClock } from '../../../../src/clock.js';
import { createLogger } from '../../../../src/logger.js';
import { startFakeServer, type FakeServer, type RecordedRequest } from '../../../../test/support/fake-http.js';
import { createApiKey, hashKey } from '../api-keys.js';
import { WebhookOutbox } from '../webhooks.js';
import { startApi, problem, type ApiHarness } from './api-harness.js';

jest.setTimeout(60_000);

let api: ApiHarness;
let receiver: FakeServer;
let key: string;
let secret: string;
let failNext = 0;

beforeAll(async () => {
  receiver = await startFakeServer({ 'POST /hook': () => (failNext-- > 0 ? { status: 500, body: 'busy' } : { status: 204 }) });
  api = await startApi({ file: 'http-api-hooks', api: { webhookRetryBaseMs: 50, webhookPollMs: 20, publicUrl: 'https://enrich.example.com/' }, overrides: { net: { allowPrivateHosts: ['127.0.0.1'] } } });
  ({ key, webhookSecret: secret } = await createApiKey(api.keys, { workspace: 'WH', name: 'hooks' }));
}, 120_000);
afterAll(async () => {
  await api.stop();
  await receiver.close();
});

const hooks = (type: string) => receiver.requests.filter((r) => r.path === '/hook' && r.headers['enrichbot-event-type'] === type);
async function until<T>(what: () => T | undefined | false, label: string): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = what();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${label}`);
}

/** Verifies Enrichbot-Signature as a receiver would: HMAC-SHA256 of "<t>.<raw body>". */
function verify(req: RecordedRequest, withSecret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['enrichbot-signature']));
  if (!m) return false;
  return createHmac('sha256', withSecret).update(`${m[1]}.${req.body}`).digest('hex') === m[2];
}

test('a finished batch is POSTed once, signed; after a 500 the same event comes again, then the outbox is empty', async () => {
  failNext = 1;
  const res = await api.call('/v1/enrich/batch', { key, body: { items: [{ domain: 'hook-a.com' }, { domain: 'hook-b.com' }], callbackUrl: `${receiver.url}/hook` } });
  expect(res.status).toBe(202);
  const { batchId } = (await res.json()) as { batchId: string };
  const [first, second] = await until(() => hooks('batch.completed').length >= 2 && hooks('batch.completed'), 'the retry');
  expect(first.headers['enrichbot-event-id']).toMatch(/^evt_[0-9a-f]{24}$/);
  expect(second.headers['enrichbot-event-id']).toBe(first.headers['enrichbot-event-id']);
  expect([first.headers['enrichbot-delivery-attempt'], second.headers['enrichbot-delivery-attempt']]).toEqual(['1', '2']);
  expect(verify(first, secret) && verify(second, secret)).toBe(true);
  expect(verify(second, 'whsec_wrong')).toBe(false);
  expect(second.json).toMatchObject({
    id: first.headers['enrichbot-event-id'],
    type: 'batch.completed',
    data: { batchId, status: 'done', total: 2, counts: { done: 2 }, links: { self: `https://enrich.example.com/v1/batches/${batchId}`, results: `https://enrich.example.com/v1/jobs/${batchId}/results.csv` } },
  });
  const redis = (api.app.registry.context('http-api') as TriggerContext).redis;
  for (let i = 0; i < 200 && (await redis.zcard('wh:due')) > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await redis.zcard('wh:due')).toBe(0);
  expect(hooks('batch.completed')).toHaveLength(2);
});

test('a job with a callbackUrl gets one job.completed event with its record', async () => {
  const res = await api.call('/v1/enrich', { key, body: { domain: 'hook-job.com', callbackUrl: `${receiver.url}/hook` } });
  expect(res.status).toBe(200);
  const { jobId } = (await res.json()) as { jobId: string };
  const [event] = await until(() => hooks('job.completed').length >= 1 && hooks('job.completed'), 'the job event');
  expect(verify(event, secret)).toBe(true);
  expect(event.json).toMatchObject({ type: 'job.completed', data: { jobId, status: 'done', input: 'hook-job.com', result: { fields: { 'company.name': { value: 'Name of hook-job.com' } } } } });
});

test('a key\'s default callbackUrl is used when a request names none', async () => {
  const { key: withDefault, webhookSecret } = await createApiKey(api.keys, { workspace: 'WH', name: 'default-hook', callbackUrl: `${receiver.url}/hook` });
  const res = await api.call('/v1/enrich/batch', { key: withDefault, body: { items: [{ domain: 'hook-default.com' }] } });
  const { batchId } = (await res.json()) as { batchId: string };
  const event = await until(() => hooks('batch.completed').find((r) => (r.json as { data: { batchId: string } }).data.batchId === batchId), 'the default-URL event');
  expect(verify(event, webhookSecret)).toBe(true);
  await expect(createApiKey(api.keys, { workspace: 'WH', callbackUrl: 'not a url' })).rejects.toMatchObject({ code: ErrorCodes.INPUT_INVALID });
});

test('a private, link-local or non-http callbackUrl, or a key that cannot sign, is refused at submit time and nothing is queued', async () => {
  const batches = await api.app.store.models.Batch.countDocuments({});
  for (const url of ['http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://user:pw@127.0.0.1/hook', 'ftp://example.com/x', 'not a url']) {
    const p = await problem(await api.call('/v1/enrich/batch', { key, body: { items: [{ domain: 'hook-never.com' }], callbackUrl: url } }), 400);
    expect(p.code).toBe(ErrorCodes.INPUT_INVALID);
    expect(p.errors![0].path).toBe('callbackUrl');
  }
  const legacy = 'ebk_' + 'W'.repeat(43);
  await api.keys.insertOne({ _id: hashKey(legacy) as never, id: 'key_legacyhook00', workspace: 'WH', name: 'old', createdAt: new Date(), revokedAt: null });
  expect((await problem(await api.call('/v1/enrich/batch', { key: legacy, body: { items: [{ domain: 'hook-never.com' }], callbackUrl: `${receiver.url}/hook` } }), 400)).detail).toMatch(/no signing secret/);
  expect(await api.app.store.models.Batch.countDocuments({})).toBe(batches);
});

test('a receiver that never accepts is retried with growing delays and given up after 24 h', async () => {
  const ctx = api.app.registry.context('http-api') as TriggerContext;
  // Far ahead of real time, so the App's own outbox (on the system clock) never finds these due.
  const clock = new ManualClock(Date.UTC(2099, 0, 1));
  const box = new WebhookOutbox({ redis: ctx.redis, clock, logger: createLogger({ level: 'silent' }), safeFetch: ctx.safeFetch, secretOf: async () => secret, retryBaseMs: 60_000 });
  const before = receiver.requests.length;
  // The receiver has no /down route: every attempt is a 404.
  const id = await box.enqueue({ keyId: 'key_x', url: `${receiver.url}/down`, type: 'job.completed', data: {} });
  await box.tick();
  expect(receiver.requests.length - before).toBe(1);
  // Not due yet: 60 s after the first failure.
  clock.advance(59_000);
  await box.tick();
  expect(receiver.requests.length - before).toBe(1);
  clock.advance(1_000);
  await box.tick();
  expect(receiver.requests.length - before).toBe(2);
  // The next delay is 120 s; past 24 h since the event, the attempt after a failure is the last.
  clock.advance(24 * 3600_000);
  await box.tick();
  expect(receiver.requests.length - before).toBe(3);
  expect(await ctx.redis.exists(`wh:event:${id}`)).toBe(0);
  clock.advance(3600_000);
  await box.tick();
  expect(receiver.requests.length - before).toBe(3);
});

test('the OpenAPI document names publicUrl as its server', async () => {
  const doc = (await (await fetch(`${api.base}/v1/openapi.json`)).json()) as { servers: { url: string }[] };
  expect(doc.servers).toEqual([{ url: 'https://enrich.example.com' }]);
});
