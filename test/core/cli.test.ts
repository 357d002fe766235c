// The `enrichbot` binary end to end: real processes, real Redis and database, a fixture site
// reached through a local DNS server.
import mongoose from 'mongoose';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { testNames } from '../support/env.js';
import { dropTestData, startTestApp } from '../support/test-app.js';
import { cliEnv, runCli, startCli, writeConfig, exited } from '../support/cli-env.js';

const HOME = '<html><head><title>Acme | Home</title><meta name="description" content="Widgets for teams."></head><body><a href="https://www.linkedin.com/company/acme">in</a></body></html>';
let site: FakeServer;
let dns: DnsServer;
let configFile: string;
const names = testNames('cli');

beforeAll(async () => {
  site = await startFakeServer({ 'GET /': () => ({ headers: { 'content-type': 'text/html' }, body: HOME }) });
  dns = await startDnsServer({ a: { 'acme.com': ['127.0.0.1'], 'slow.com': ['127.0.0.1'] } });
  configFile = writeConfig({
    providers: { website: { httpsPort: 9, httpPort: site.port }, dns: { servers: [dns.address] } },
    queue: { stallIntervalMs: 1000, shutdownTimeoutMs: 5000 },
  });
});
afterAll(async () => {
  await site.close();
  await dns.close();
  await dropTestData(names);
});

const env = (extra: Record<string, string> = {}) =>
  cliEnv(names, { ENRICHBOT_CONFIG: configFile, ENRICHBOT_DNS_SERVERS: dns.address, ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1', ...extra });

test('`enrichbot enrich <domain> --json` prints a Company record that is also in MongoDB, and says what was skipped', async () => {
  const r = await runCli(['enrich', 'acme.com', '--json', '--workspace', 'T-cli'], env());
  expect(r.code).toBe(0);
  const result = JSON.parse(r.stdout);
  expect(result.status).toBe('done');
  expect(result.company.fields.name).toMatchObject({ value: 'Acme', provider: 'website' });
  expect(result.outcomes).toEqual(expect.arrayContaining([expect.objectContaining({ provider: 'prospeo', outcome: 'skipped', reason: expect.stringContaining('PROSPEO_API_KEY') })]));
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  const doc = await conn.collection('companies').findOne({ workspace: 'T-cli', key: 'company:acme.com' });
  await conn.close();
  expect(doc?.fields.name.value).toBe('Acme');
  expect(doc?.fields.description.value).toBe('Widgets for teams.');
});

test('the readable card names the record, its sources and the skipped providers', async () => {
  const r = await runCli(['enrich', 'acme.com', '--workspace', 'T-cli'], env());
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^acme\.com {2}\[done/);
  expect(r.stdout).toContain('already enriched recently');
  expect(r.stdout).toMatch(/name\s+Acme\s+website · 60%/);
});

test('bad input is refused with a clear message and nothing is queued', async () => {
  const r = await runCli(['enrich', '127.0.0.1'], env());
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('IP address');
  expect(r.stderr).toContain('ENRICHBOT_ERR_INPUT_INVALID');
});

test('a bad config fails start-up with one clear line per problem and a non-zero exit', async () => {
  const bad = writeConfig({ plugins: { providers: ['website', 'no-such-provider'] }, providers: { website: { httpPort: 'eighty' } } });
  const r = await runCli(['start'], cliEnv(names, { ENRICHBOT_CONFIG: bad, PORT: '0' }));
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('enrichbot cannot start:');
  expect(r.stderr).toMatch(/plugins\.providers\[1\]: no provider plugin named "no-such-provider".*ENRICHBOT_ERR_PLUGIN_UNKNOWN/);
  expect(r.stderr).toMatch(/providers\.website\.httpPort: got "eighty"; expected number.*ENRICHBOT_ERR_PLUGIN_CONFIG_INVALID/);
});

test('SIGTERM during a job loses nothing: the worker finishes it (or leaves it) and exits 0', async () => {
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: HOME, delayMs: 1500 }));
  const worker = startCli(['start'], env({ ENRICHBOT_ROLE: 'worker' }));
  const client = await startTestApp({ file: 'cli-sigterm', names, role: 'client', overrides: { queue: { prefix: names.prefix } } });
  try {
    const { jobId } = await client.enqueue({ workspace: 'T-sig', input: 'slow.com', groups: ['companyProfile'] });
    while (!site.requests.some((r) => r.headers.host?.startsWith('slow.com'))) await new Promise((r) => setTimeout(r, 50));
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
    const result = await client.service.waitFor(jobId, 15000);
    expect(result.status).toBe('done');
    expect(result.company?.fields.name.value).toBe('Acme');
  } finally {
    site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: HOME }));
    await client.stop();
  }
});

test('a job whose worker dies is picked up again by another worker', async () => {
  let first = true;
  site.on('GET /', () => {
    if (first) {
      first = false;
      return { headers: { 'content-type': 'text/html' }, body: HOME, delayMs: 30000 };
    }
    return { headers: { 'content-type': 'text/html' }, body: HOME };
  });
  const doomed = startCli(['start'], env({ ENRICHBOT_ROLE: 'worker' }));
  const client = await startTestApp({ file: 'cli-kill', names, role: 'client', overrides: { queue: { prefix: names.prefix } } });
  let rescuer: Awaited<ReturnType<typeof startTestApp>> | undefined;
  try {
    const { jobId } = await client.enqueue({ workspace: 'T-kill', input: 'https://slow.com/', groups: ['companyProfile'], refresh: true });
    while (first) await new Promise((r) => setTimeout(r, 50));
    doomed.kill('SIGKILL');
    await exited(doomed);
    rescuer = await startTestApp({
      file: 'cli-rescue',
      names,
      role: 'worker',
      dnsServers: [dns.address],
      overrides: { queue: { prefix: names.prefix }, plugins: { providers: ['website'] }, waterfalls: { companyProfile: ['website'] }, providers: { website: { httpsPort: 9, httpPort: site.port } }, net: { allowPrivateHosts: ['127.0.0.1'] } },
    });
    const result = await client.service.waitFor(jobId, 20000);
    expect(result.status).toBe('done');
    const job = await client.store.models.Job.findOne({ jobId }).lean();
    expect(job?.attempts).toBe(2);
  } finally {
    await rescuer?.stop();
    await client.stop();
  }
}, 45000);
