// What operators see on the web role's admin listener (127.0.0.1 by default, apart from the
// public one that serves webhooks): /metrics (prom-client, figures read at scrape time from
// Redis counters the workers keep) after a real job through a fake provider, the daily API usage
// counters, and the bull-arena dashboard behind basic auth.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { loadConfig } from '../../src/config/load.js';
import { ErrorCodes } from '../../src/errors.js';
import { utcDay } from '../../src/clock.js';
import { defineTrigger, type TriggerContext } from '../../src/plugin/contract.js';
import { z } from 'zod';

let fake: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
/**
 * A destination trigger (a CRM) that declares what pushes to it count as, and keeps a counter
 * and a gauge of its own, recorded through its context.
 */
const crm = defineTrigger({
  kind: 'trigger',
  id: 'crm',
  description: 'test destination with metrics of its own',
  configSchema: z.object({}).loose(),
  pushActivity: { label: 'CRM', metric: { name: 'enrichbot_crm_writes_total', help: 'Records written to the CRM, by result (ok, failed).' } },
  metrics: [
    { name: 'enrichbot_crm_syncs_total', help: 'Syncs by portal.', type: 'counter', labelNames: ['portal'] },
    { name: 'enrichbot_crm_backlog', help: 'Records waiting.', type: 'gauge' },
  ],
});
const ARENA = { enabled: true, username: 'ops', password: 'correct horse battery' };

beforeAll(async () => {
  fake = await startFakeServer({
    'POST /co': () => ({ json: { found: true, fields: { 'company.name': 'Acme' }, confidence: 0.9 } }),
    // No phone in the answer: the phone group asks again and reuses this answer.
    'POST /two': () => ({ json: { found: true, fields: { 'person.personalEmail': 'jane.doe@gmail.com' }, confidence: 0.9 } }),
    'POST /flaky': () => ({ status: 400, json: { error: 'bad request' } }),
    'POST /down': () => ({ status: 503, json: { error: 'unavailable' } }),
  });
  app = await startTestApp({
    file: 'observability',
    plugins: {
      co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: 0.01 }),
      // Serves two groups, so a request asks it once and the second group reuses the answer.
      two: httpProvider({ id: 'two', returns: ['person.personalEmail', 'person.phone'], needs: [['workEmail']], usd: 0.3 }),
      flaky: httpProvider({ id: 'flaky', returns: ['person.personalEmail', 'person.phone'], needs: [['workEmail']], usd: 0.3 }),
      down: httpProvider({ id: 'down', returns: ['company.acceptsMail'], needs: [['domain']], usd: 0 }),
      crm,
    },
    overrides: {
      plugins: { providers: ['co', 'two', 'flaky', 'down'], triggers: ['crm'] },
      providers: { co: { baseUrl: fake.url, apiKey: 'co-secret-key-123' }, two: { baseUrl: fake.url }, flaky: { baseUrl: fake.url }, down: { baseUrl: fake.url } },
      waterfalls: { companyProfile: ['co'], personalEmail: ['flaky', 'two'], phone: ['flaky', 'two'], mailServer: ['down'] },
      resilience: { breakerThreshold: 2, maxRetries: 1 },
      spendCaps: { dailyUsd: 5, perWorkspaceDailyUsd: 2, workspaces: { VIP: 3 } },
      observability: { arena: ARENA },
    },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await fake.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${app.adminPort}${path}`, { headers, redirect: 'manual' });
const getPublic = (path: string) => fetch(`http://127.0.0.1:${app.port}${path}`, { redirect: 'manual' });
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

test('/metrics exposes jobs, provider calls, latency, spend, queue depth and a destination\'s writes after a real job', async () => {
  const result = await app.enrichAndWait({ workspace: 'W', input: 'acme.com', groups: ['companyProfile'] });
  expect(result.status).toBe('done');
  await app.service.logActivity({ workspace: 'W', actor: 'crm', action: 'push', subject: 'acme.com', detail: { destination: 'crm', ok: false, error: 'rate limited', objectId: 7 } });
  await app.service.logActivity({ workspace: 'W', actor: 'crm', action: 'push', subject: 'acme.com', detail: { destination: 'crm', ok: true, objectId: 7 } });
  // A destination no enabled trigger declares is counted, and shown by none.
  await app.service.logActivity({ workspace: 'W', actor: 'x', action: 'push', subject: 'acme.com', detail: { destination: 'elsewhere', ok: true } });

  const res = await get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const lines = (await res.text()).split('\n');
  for (const line of [
    'enrichbot_jobs_total{status="done"} 1',
    'enrichbot_provider_calls_total{provider="co",outcome="matched"} 1',
    'enrichbot_provider_latency_seconds_bucket{provider="co",le="+Inf"} 1',
    'enrichbot_provider_latency_seconds_count{provider="co"} 1',
    'enrichbot_spend_usd_total{provider="co"} 0.01',
    'enrichbot_spend_today_usd 0.01',
    'enrichbot_queue_jobs{state="waiting"} 0',
    'enrichbot_queue_jobs{state="failed"} 0',
    'enrichbot_crm_writes_total{result="failed"} 1',
    'enrichbot_crm_writes_total{result="ok"} 1',
    '# TYPE enrichbot_provider_latency_seconds histogram',
  ]) {
    expect(lines).toContain(line);
  }
  expect(lines.filter((l) => l.includes('elsewhere'))).toEqual([]);
});

test("a plugin's declared counter and gauge show on /metrics as it records them; an undeclared name is refused", async () => {
  const ctx = app.registry.context('crm') as TriggerContext;
  await ctx.metrics.inc('enrichbot_crm_syncs_total', { portal: '62515' });
  await ctx.metrics.inc('enrichbot_crm_syncs_total', { portal: '62515' }, 2);
  await ctx.metrics.set('enrichbot_crm_backlog', 7);
  await ctx.metrics.set('enrichbot_crm_backlog', 4);
  const lines = await metricLines();
  expect(lines).toEqual(expect.arrayContaining(['# TYPE enrichbot_crm_syncs_total counter', 'enrichbot_crm_syncs_total{portal="62515"} 3', '# TYPE enrichbot_crm_backlog gauge', 'enrichbot_crm_backlog 4']));
  await expect(ctx.metrics.inc('enrichbot_crm_other_total')).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_INVALID });
  await expect(ctx.metrics.inc('enrichbot_crm_backlog')).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_INVALID });
  await expect(ctx.metrics.inc('enrichbot_crm_syncs_total', { region: 'eu' })).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_INVALID });
});

test('successful provider calls count in api_usage:{provider}:{day}, kept 90 days', async () => {
  const key = `${app.names.prefix}:api_usage:co:${utcDay(new Date())}`;
  expect(await app.redis.get(key)).toBe('1');
  const ttl = await app.redis.ttl(key);
  expect(ttl).toBeGreaterThan(89 * 86400);
  expect(ttl).toBeLessThanOrEqual(90 * 86400);
});

test('the queue dashboard refuses without credentials or with wrong ones, and opens with the configured ones', async () => {
  const none = await get('/arena/');
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toContain('Basic');
  expect((await get('/arena/', basic('ops', 'wrong password here'))).status).toBe(401);
  expect((await get('/arena/', basic('someone', ARENA.password))).status).toBe(401);
  const ok = await get('/arena/', basic(ARENA.username, ARENA.password));
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain('enrich');
});

test('the dashboard cannot be enabled without a username and password', () => {
  expect(() => loadConfig({ useDefaultFile: false, env: {}, overrides: { observability: { arena: { enabled: true } } } })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID }));
});

test('the public listener does not serve /metrics or /arena; the admin listener does, bound to 127.0.0.1 by default', async () => {
  expect((await getPublic('/metrics')).status).toBe(404);
  expect((await getPublic('/arena/')).status).toBe(404);
  expect((await getPublic('/healthz')).status).toBe(200);
  expect(app.adminPort).not.toBe(app.port);
  expect(app.adminAddress).toBe('127.0.0.1');
  expect((await get('/metrics')).status).toBe(200);
  expect(loadConfig({ useDefaultFile: false, env: {} }).observability.admin).toEqual({ port: 9464, host: '127.0.0.1' });
});

test('ADMIN_PORT, ADMIN_HOST and ADMIN_TOKEN set the admin listener', () => {
  const admin = loadConfig({ useDefaultFile: false, env: { ADMIN_PORT: '9999', ADMIN_HOST: '0.0.0.0', ADMIN_TOKEN: 'a-long-scrape-token-1234' } }).observability.admin;
  expect(admin).toEqual({ port: 9999, host: '0.0.0.0', token: 'a-long-scrape-token-1234' });
  expect(() => loadConfig({ useDefaultFile: false, env: { ADMIN_TOKEN: 'short' } })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID }));
});

test('with an admin token, /metrics answers 401 without it or with a wrong one, and 200 with it', async () => {
  const token = 'scrape-token-0123456789';
  const guarded = await startTestApp({ file: 'observability-token', role: 'web', overrides: { observability: { admin: { port: 0, token } } } });
  try {
    const at = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${guarded.adminPort}/metrics`, { headers });
    const none = await at({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await at({ authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await at({ authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` })).status).toBe(401);
    const ok = await at({ authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('enrichbot_jobs_total');
  } finally {
    await guarded.stop();
    await dropTestData(guarded.names);
  }
});

const metricLines = async () => (await (await get('/metrics')).text()).split('\n');

test('an answer and an error reused by a second group of the same request count once each, as their ledger rows', async () => {
  // personalEmail: flaky fails (400), two answers; phone: both reuse those outcomes.
  const result = await app.enrichAndWait({ workspace: 'W', input: 'jane@acme.com', groups: ['personalEmail', 'phone'] });
  expect(result.outcomes.map((o) => `${o.group}:${o.provider}:${o.outcome}`)).toEqual(['personalEmail:flaky:error', 'personalEmail:two:matched', 'phone:flaky:error', 'phone:two:cached']);
  const { Ledger } = app.store.models;
  expect(await Ledger.countDocuments({ provider: 'two' })).toBe(1);
  expect(await Ledger.countDocuments({ provider: 'flaky' })).toBe(1);
  const lines = await metricLines();
  const of = (provider: string) => lines.filter((l) => l.startsWith(`enrichbot_provider_calls_total{provider="${provider}"`));
  expect(of('two')).toEqual(['enrichbot_provider_calls_total{provider="two",outcome="matched"} 1']);
  expect(of('flaky')).toEqual(['enrichbot_provider_calls_total{provider="flaky",outcome="error"} 1']);
  expect(lines).toContain('enrichbot_provider_latency_seconds_count{provider="two"} 1');
  expect(lines).toContain('enrichbot_provider_latency_seconds_count{provider="flaky"} 1');
  expect(lines).toContain('enrichbot_spend_usd_total{provider="two"} 0.3');
});

test('spend by workspace, each cap beside its use today, and the web process\'s own Node.js metrics', async () => {
  const lines = await metricLines();
  // W spent 0.01 (co) + 0.3 (two) in the jobs above; VIP has a cap of its own and spent nothing.
  for (const line of [
    'enrichbot_workspace_spend_usd_total{workspace="W"} 0.31',
    'enrichbot_spend_cap_usd 5',
    'enrichbot_workspace_spend_today_usd{workspace="W"} 0.31',
    'enrichbot_workspace_spend_cap_usd{workspace="W"} 2',
    'enrichbot_workspace_spend_today_usd{workspace="VIP"} 0',
    'enrichbot_workspace_spend_cap_usd{workspace="VIP"} 3',
  ]) {
    expect(lines).toContain(line);
  }
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    expect(lines.some((l) => l.startsWith(`${name} `))).toBe(true);
  }
  // No label carries a secret: the provider's API key appears nowhere.
  expect(lines.join('\n')).not.toContain('co-secret-key-123');
});

test('each provider\'s breaker state is a gauge: 0 closed, 2 once its failures opened it', async () => {
  const states = (lines: string[]) => lines.filter((l) => l.startsWith('enrichbot_provider_breaker_state{')).sort();
  expect(states(await metricLines())).toEqual(['co', 'down', 'flaky', 'two'].map((p) => `enrichbot_provider_breaker_state{provider="${p}"} 0`));
  const result = await app.enrichAndWait({ workspace: 'W', input: 'broken-mail.com', groups: ['mailServer'] });
  expect(result.outcomes.map((o) => o.outcome)).toEqual(['error']);
  expect(await metricLines()).toContain('enrichbot_provider_breaker_state{provider="down"} 2');
});
