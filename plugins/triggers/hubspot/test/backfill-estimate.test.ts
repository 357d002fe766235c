// `enrichbot hubspot backfill` prices what it found before any paid call: `--estimate` prints the
// estimate and spends nothing; above service.batch.confirmAboveUsd a pipe without --yes is
// refused (exit 1); with --yes the batch runs and its record keeps the estimate. The homepage
// provider costs $3 a call here, so three companies ($9 at most) pass the $5 threshold.
import mongoose from 'mongoose';
import { testNames } from '../../../../test/support/env.js';
import { dropTestData } from '../../../../test/support/test-app.js';
import { cliEnv, runCli, writeConfig } from '../../../../test/support/cli-env.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { startDnsServer, type DnsServer } from '../../../../test/support/dns-server.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';

let hs: FakeHubspot;
let site: FakeServer;
let dns: DnsServer;
let configFile: string;
const names = testNames('hubspot-backfill-estimate');
// Each run starts a worker App; on a loaded two-core machine one run took close to a minute.
const CLI_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  hs = await startFakeHubspot();
  site = await startFakeServer({ 'GET /': () => ({ headers: { 'content-type': 'text/html' }, body: '<title>Acme</title>' }) });
  dns = await startDnsServer({ a: { 'acme.com': ['127.0.0.1'], 'beta.com': ['127.0.0.1'], 'gamma.com': ['127.0.0.1'] } });
  configFile = writeConfig({
    plugins: { triggers: ['hubspot'] },
    queue: { shutdownTimeoutMs: 2000 },
    providers: { website: { httpsPort: 9, httpPort: site.port, costs: { homepage: { usd: 3, missCharged: true } } }, dns: { servers: [dns.address] } },
  });
  for (const domain of ['acme.com', 'beta.com', 'gamma.com']) hs.add('companies', { domain, name: domain }, new Date('2024-01-01'));
});
afterAll(async () => {
  await hs.close();
  await site.close();
  await dns.close();
  await dropTestData(names);
});

const env = () =>
  cliEnv(names, {
    ENRICHBOT_CONFIG: configFile, HUBSPOT_ACCESS_TOKEN: 'test-hubspot-token', HUBSPOT_CLIENT_SECRET: 'secret', HUBSPOT_PORTAL_IDS: '62515', HUBSPOT_API_URL: hs.url,
    ENRICHBOT_DNS_SERVERS: dns.address, ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
  });

async function counts() {
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  const out = await Promise.all(['ledger', 'batches', 'enrich_jobs'].map((c) => conn.collection(c).countDocuments({})));
  await conn.close();
  return out;
}
const companySearches = () => hs.calls.filter((c) => c.path === '/crm/v3/objects/companies/search').length;

test('`hubspot backfill --estimate` prints one line per field group and a total, reads HubSpot once, and asks no provider', async () => {
  const before = companySearches();
  const r = await runCli(['hubspot', 'backfill', '--estimate'], env(), CLI_TIMEOUT_MS);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Estimate for 3 rows');
  expect(r.stdout).toMatch(/companyProfile\s+3 rows\s+0 cached answers\s+expected\s+\$9\.00\s+at most\s+\$9\.00/);
  expect(r.stdout).toContain('total: expected $9.00, at most $9.00');
  // One page of companies: the estimate reuses the backfill's own read.
  expect(companySearches() - before).toBe(1);
  expect(site.requests).toHaveLength(0);
  expect(await counts()).toEqual([0, 0, 0]);
}, 2 * CLI_TIMEOUT_MS);

test('in a pipe, a backfill above confirmAboveUsd is refused with exit 1 and the sentence to add --yes; nothing is submitted', async () => {
  const r = await runCli(['hubspot', 'backfill'], env(), CLI_TIMEOUT_MS);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('total: expected $9.00, at most $9.00');
  expect(r.stderr).toContain('may cost up to $9.00');
  expect(r.stderr).toContain('add --yes');
  expect(site.requests).toHaveLength(0);
  expect(await counts()).toEqual([0, 0, 0]);
}, 2 * CLI_TIMEOUT_MS);

test('with --yes the backfill runs, and its batch record keeps the estimate beside the actual cost', async () => {
  const r = await runCli(['hubspot', 'backfill', '--yes', '--timeout', '120'], env(), CLI_TIMEOUT_MS);
  expect(r.stderr).toContain('3 of 3 records queued');
  expect(r.stderr).toContain('(estimated $9.00, at most $9.00)');
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  const batch = await conn.collection('batches').findOne({ label: 'HubSpot backfill' });
  await conn.close();
  expect(batch?.estimate).toMatchObject({ expectedUsd: 9, worstUsd: 9, rows: 3 });
  expect(batch?.costUsd).toBeLessThanOrEqual(9);
}, 2 * CLI_TIMEOUT_MS);
