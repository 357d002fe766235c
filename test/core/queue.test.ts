import { z } from 'zod';
import { defineTrigger } from '../../src/plugin/contract.js';
import type { JobResult, ReplyTo } from '../../src/engine/types.js';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';

let fake: FakeServer;
const delivered: { result: JobResult; replyTo: ReplyTo }[] = [];
const inbox = defineTrigger({
  kind: 'trigger',
  id: 'inbox',
  description: 'collects delivered results',
  configSchema: z.object({}),
  async deliver(result, replyTo) {
    delivered.push({ result, replyTo });
  },
});

let app: Awaited<ReturnType<typeof startTestApp>>;
beforeAll(async () => {
  fake = await startFakeServer({ 'POST /co': () => ({ json: { found: true, fields: { 'company.name': 'Dupe Co' }, confidence: 0.9 }, delayMs: 300 }) });
  app = await startTestApp({
    file: 'queue',
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']] }), inbox },
    overrides: { plugins: { providers: ['co'], triggers: ['inbox'] }, providers: { co: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['co'] } },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});

test('a duplicate request joins the job in flight: one provider call, both requesters answered', async () => {
  // The provider answers only once both requests are in, so the second surely finds the first in flight.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  fake.on('POST /co', async () => {
    await gate;
    return { json: { found: true, fields: { 'company.name': 'Dupe Co' }, confidence: 0.9 } };
  });
  const a = app.enqueue({ workspace: 'W', input: 'dupe.com', replyTo: { trigger: 'inbox', address: { user: 'U1' } } });
  const b = app.enqueue({ workspace: 'W', input: 'https://www.DUPE.com/pricing', replyTo: { trigger: 'inbox', address: { user: 'U2' } } });
  const [ra, rb] = await Promise.all([a, b]);
  release();
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'Dupe Co' }, confidence: 0.9 }, delayMs: 300 }));
  expect(ra.jobId).toBe(rb.jobId);
  expect([ra.joined, rb.joined].sort()).toEqual([false, true]);
  const result = await app.service.waitFor(ra.jobId, 15000);
  expect(result.status).toBe('done');
  expect(fake.requests.filter((r) => r.path === '/co')).toHaveLength(1);
  // Delivery follows the result; wait (bounded) until both answers are in.
  const users = () => delivered.filter((d) => d.result.jobId === ra.jobId).map((d) => d.replyTo.address.user).sort();
  for (let i = 0; i < 100 && users().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  expect(users()).toEqual(['U1', 'U2']);
  expect(delivered.filter((d) => d.result.jobId === ra.jobId).every((d) => d.result.status === 'done')).toBe(true);
});

test('a request that arrives as the job finishes is still answered, and each requester exactly once', async () => {
  const before = delivered.length;
  const first = await app.enqueue({ workspace: 'W', input: 'race.com', replyTo: { trigger: 'inbox', address: { user: 'A' } } });
  const late = await (async () => {
    // Keep asking while the first run finishes: every one of these requesters must get one answer.
    const asks = [];
    for (let i = 0; i < 5; i++) {
      asks.push(app.enqueue({ workspace: 'W', input: 'race.com', replyTo: { trigger: 'inbox', address: { user: `L${i}` } } }));
      await new Promise((r) => setTimeout(r, 120));
    }
    return Promise.all(asks);
  })();
  await app.service.waitFor(first.jobId, 15000);
  for (const l of late) await app.service.waitFor(l.jobId, 15000);
  const got = () => delivered.slice(before).map((d) => d.replyTo.address.user as string).sort();
  for (let i = 0; i < 100 && got().length < 6; i++) await new Promise((r) => setTimeout(r, 100));
  expect(got()).toEqual(['A', 'L0', 'L1', 'L2', 'L3', 'L4']);
  expect(fake.requests.filter((r) => r.path === '/co' && (r.json as { domain: string }).domain === 'race.com')).toHaveLength(1);
});

test('the same input in another workspace is a different job', async () => {
  const a = await app.enqueue({ workspace: 'W', input: 'other.com' });
  const b = await app.enqueue({ workspace: 'W2', input: 'other.com' });
  expect(a.jobId).not.toBe(b.jobId);
  await Promise.all([app.service.waitFor(a.jobId, 15000), app.service.waitFor(b.jobId, 15000)]);
});

test('an invalid request is refused before it is queued, saying what to fix', async () => {
  await expect(app.enqueue({ workspace: 'bad workspace!', input: 'x.com' })).rejects.toMatchObject({ code: 'ENRICHBOT_ERR_INPUT_INVALID', message: expect.stringContaining('workspace') });
  await expect(app.enqueue({ workspace: 'W', input: 'gmail.com' })).rejects.toMatchObject({ code: 'ENRICHBOT_ERR_INPUT_INVALID', message: expect.stringContaining('free mail') });
  expect(await app.store.models.Job.countDocuments({ display: 'gmail.com' })).toBe(0);
});

test('cancelling a queued job answers its requesters with the cancellation and runs nothing', async () => {
  const client = await startTestApp({ file: 'queue-cancel', role: 'client', plugins: { inbox }, overrides: { plugins: { triggers: ['inbox'] } } });
  let worker: Awaited<ReturnType<typeof startTestApp>> | undefined;
  try {
    const { jobId } = await client.enqueue({ workspace: 'W', input: 'never.com', replyTo: { trigger: 'inbox', address: { user: 'C1' } } });
    await client.cancel(jobId);
    expect((await client.store.models.Job.findOne({ jobId }).lean())?.status).toBe('cancelled');
    await client.cancel(jobId); // a second cancel tells nobody twice
    // The client runs no triggers: the worker that dequeues the cancelled job answers, and calls nobody.
    const calls = fake.requests.length;
    worker = await startTestApp({ file: 'queue-cancel', names: client.names, role: 'worker', plugins: { inbox, co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']] }) }, overrides: { plugins: { providers: ['co'], triggers: ['inbox'] }, providers: { co: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['co'] } } });
    for (let i = 0; i < 100 && !delivered.some((d) => d.result.jobId === jobId); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    const told = delivered.filter((d) => d.result.jobId === jobId);
    expect(told.map((d) => [d.replyTo.address.user, d.result.status])).toEqual([['C1', 'cancelled']]);
    expect(fake.requests.length).toBe(calls);

    // Asking again after the cancel starts a new run that is not stopped by the old cancel.
    const again = await client.enqueue({ workspace: 'W', input: 'never.com', replyTo: { trigger: 'inbox', address: { user: 'C2' } } });
    expect(again).toMatchObject({ jobId, joined: false });
    const result = await client.service.waitFor(jobId, 20_000);
    expect(result.status).toBe('done');
    expect(fake.requests.length).toBe(calls + 1);
  } finally {
    await worker?.stop();
    await client.stop();
    await dropTestData(client.names);
  }
});
