// Past one machine: web replicas are stateless. Two web processes (ENRICHBOT_ROLE=web, separate
// OS processes on their own ports, as behind a load balancer) and one worker process share one
// Redis and one database. Slack commands and HTTP API requests land on either web process and
// all complete; a request accepted by one is answered by the other; replay protection (Slack's
// signed requests, the API's Idempotency-Key) holds across the two, since it lives in Redis.
import { jest } from '@jest/globals';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { connectStore, type Store } from '../../src/store/store.js';
import { createApiKey } from '../../plugins/triggers/http-api/api-keys.js';
import { API_KEYS_COLLECTION } from '../../plugins/triggers/http-api/index.js';
import { slackSignature } from '../../plugins/triggers/slack/signature.js';
import { startFakeSlack, type FakeSlack } from '../../plugins/triggers/slack/test/support/fake-slack.js';
import { commandBody, FORM, sendSigned } from '../../plugins/triggers/slack/test/support/slack-requests.js';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { testNames } from '../support/env.js';
import { dropTestData } from '../support/test-app.js';
import { assertDistIsFresh, spawnWorker, stopWorker } from '../support/worker-child.js';
import { freePort } from '../support/own-service.js';

jest.setTimeout(120_000);

const SECRET = 'deploy-signing-secret';
const FIXTURE = 'test/deploy/fixtures/enrichbot-process.mjs';
const names = testNames('deploy-two-web');
let slack: FakeSlack;
let provider: FakeServer;
let store: Store;
let apiKey: string;
const children: ChildProcessWithoutNullStreams[] = [];
let webA: string;
let webB: string;

/** Domains starting "held-" wait here, so a request is surely still running when it is read. */
let release: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  assertDistIsFresh();
  slack = await startFakeSlack({ teams: { 'xoxb-deploy': 'TD' } });
  provider = await startFakeServer({
    'POST /co': async (req) => {
      const domain = (req.json as { domain: string }).domain;
      if (domain.startsWith('held-')) await gate;
      return { json: { found: true, fields: { 'company.name': `Name of ${domain}` }, confidence: 0.9 } };
    },
  });
  store = await connectStore(names.mongodbUrl);
  apiKey = (await createApiKey(store.connection.db!.collection(`plugin_http_api_${API_KEYS_COLLECTION}`), { workspace: 'WD', name: 'deploy' })).key;
  const [portA, portB] = [await freePort(), await freePort()];
  const common = {
    mongodbUrl: names.mongodbUrl,
    redisUrl: names.redisUrl,
    prefix: names.prefix,
    providerUrl: provider.url,
    slack: { botToken: 'xoxb-deploy', signingSecret: SECRET, apiUrl: slack.apiUrl, postIntervalMs: 0 },
    // A short wait: requests held at the provider are answered 202 and read back elsewhere.
    api: { waitMs: 1000, ratePerMinute: 100_000, ratePerDay: 1_000_000 },
  };
  // The worker first: it creates the queue's indexes and scripts before the web processes submit.
  children.push(await spawnWorker({ ...common, role: 'worker' }, FIXTURE));
  children.push(...(await Promise.all([spawnWorker({ ...common, role: 'web', port: portA }, FIXTURE), spawnWorker({ ...common, role: 'web', port: portB }, FIXTURE)])));
  webA = `http://127.0.0.1:${portA}`;
  webB = `http://127.0.0.1:${portB}`;
}, 120_000);

afterAll(async () => {
  release();
  await Promise.all(children.map((c) => stopWorker(c)));
  await store?.close();
  await dropTestData(names);
  await provider?.close();
  await slack?.close();
});

const coCalls = (domain: string) => provider.requests.filter((r) => r.path === '/co' && (r.json as { domain: string }).domain === domain).length;
const cardIn = (channel: string, needle: string) => slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === channel && JSON.stringify(c.args.blocks ?? []).includes(needle), 60_000);

test('Slack: /enrich commands landing alternately on either web process each get their card from the worker; a replay sent to the other process is acked and not run again', async () => {
  const commands = Array.from({ length: 6 }, (_, i) => ({ to: i % 2 === 0 ? webA : webB, channel: `CD${i}`, domain: `slack-${i}.com` }));
  const now = Math.floor(Date.now() / 1000);
  const signed = commands.map((c) => {
    const body = commandBody({ team: 'TD', channel: c.channel, user: 'UD', text: c.domain });
    return { ...c, body, signature: slackSignature(SECRET, String(now), body) };
  });
  const acks = await Promise.all(signed.map((c) => sendSigned(c.to, { secret: SECRET, body: c.body, contentType: FORM, timestamp: now, signature: c.signature })));
  expect(acks.map((a) => JSON.parse(a.text))).toEqual(signed.map(() => ({ response_type: 'ephemeral', text: 'Enriching 1 input…' })));
  await Promise.all(signed.map((c) => cardIn(c.channel, `Name of ${c.domain}`)));

  // The first command, byte for byte, at the other web process and at its own: taken once.
  const [first] = signed;
  for (const to of [webB, webA]) {
    expect(await sendSigned(to, { secret: SECRET, body: first.body, contentType: FORM, timestamp: now, signature: first.signature })).toEqual({ status: 200, text: '' });
  }
  // A fresh command after the replays: by its card, a run the replays started would have posted too.
  const after = await sendSigned(webB, { secret: SECRET, body: commandBody({ team: 'TD', channel: 'CDAFTER', user: 'UD', text: 'slack-after.com' }), contentType: FORM });
  expect(JSON.parse(after.text)).toMatchObject({ text: 'Enriching 1 input…' });
  await cardIn('CDAFTER', 'Name of slack-after.com');
  expect(slack.of('chat.postMessage').filter((c) => c.args.channel === first.channel)).toHaveLength(1);
  expect(coCalls(first.domain)).toBe(1);
});

/** GET on `base` until the job or batch is no longer queued or running (bounded). */
async function settled(base: string, path: string): Promise<Record<string, any>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
    const view = (await res.json()) as Record<string, any>;
    if (!['queued', 'running'].includes(view.status)) return view;
    if (Date.now() > deadline) throw new Error(`${path} still ${view.status} after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('HTTP API: a request accepted by one web process is answered from the other, requests alternating between them all complete, and a batch posted to one is read from the other', async () => {
  gate = new Promise<void>((r) => (release = r));
  const held = await post(webA, '/v1/enrich', { domain: 'held-api.com' });
  expect(held.status).toBe(202);
  const accepted = (await held.json()) as { jobId: string; requestId: string };
  const location = held.headers.get('location')!;
  expect(location).toBe(`/v1/jobs/${accepted.jobId}?request=${accepted.requestId}`);
  // Web B knows the job (and A's request id, kept in Redis) while it is still running.
  const pending = await fetch(`${webB}${location}`, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(pending.status).toBe(200);
  expect(await pending.json()).toMatchObject({ kind: 'job', jobId: accepted.jobId, status: expect.stringMatching(/^(queued|running)$/) });
  release();
  expect(await settled(webB, location)).toMatchObject({ status: 'done', result: { fields: { 'company.name': expect.objectContaining({ value: 'Name of held-api.com' }) } } });

  // Alternating: each answered where it was sent (200), or accepted there (202) and read from the other.
  const domains = Array.from({ length: 6 }, (_, i) => `api-${i}.com`);
  const answers = await Promise.all(domains.map((domain, i) => post(i % 2 === 0 ? webA : webB, '/v1/enrich', { domain })));
  const values = await Promise.all(
    answers.map(async (res, i) => {
      const body = (await res.json()) as Record<string, any>;
      if (res.status === 200) return body.fields['company.name'].value;
      expect(res.status).toBe(202);
      return (await settled(i % 2 === 0 ? webB : webA, res.headers.get('location')!)).result.fields['company.name'].value;
    }),
  );
  expect(values).toEqual(domains.map((d) => `Name of ${d}`));

  const batch = await post(webB, '/v1/enrich/batch', { items: [{ domain: 'batch-1.com' }, { domain: 'batch-2.com' }, { email: 'not-an-email' }] });
  expect(batch.status).toBe(202);
  const { batchId, rejected } = (await batch.json()) as { batchId: string; rejected: { index: number }[] };
  expect(rejected.map((r) => r.index)).toEqual([2]);
  expect(await settled(webA, `/v1/jobs/${batchId}`)).toMatchObject({ kind: 'batch', status: 'done', counts: expect.objectContaining({ done: 2, rejected: 1 }) });
});

test('HTTP API: an Idempotency-Key used at one web process is honoured at the other: the same answer replayed, one job, one provider call', async () => {
  const headers = { 'idempotency-key': 'deploy-idem-1' };
  const first = await post(webA, '/v1/enrich', { domain: 'idem-deploy.com' }, headers);
  expect([200, 202]).toContain(first.status);
  const answer = await first.json();
  const again = await post(webB, '/v1/enrich', { domain: 'idem-deploy.com' }, headers);
  expect(again.status).toBe(first.status);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(await again.json()).toEqual(answer);
  // Another body under the same key is refused at either process.
  expect((await post(webB, '/v1/enrich', { domain: 'other-deploy.com' }, headers)).status).toBe(409);
  await settled(webA, `/v1/jobs/${(answer as { jobId: string }).jobId}`);
  expect(coCalls('idem-deploy.com')).toBe(1);
  expect(await store.models.Job.countDocuments({ workspace: 'WD', display: 'idem-deploy.com' })).toBe(1);
});
