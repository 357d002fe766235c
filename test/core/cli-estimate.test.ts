// `enrich --file --estimate` prints the price of a file and spends nothing; without --yes, a file
// whose worst case is above service.batch.confirmAboveUsd is refused in a pipe (exit 1) with the
// sentence to add --yes. Real `enrichbot` processes, real Redis and database; the homepage
// provider is priced at $3 a call here so three rows pass the $5 threshold.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { testNames } from '../support/env.js';
import { dropTestData } from '../support/test-app.js';
import { cliEnv, runCli, writeConfig } from '../support/cli-env.js';

let site: FakeServer;
let dns: DnsServer;
let configFile: string;
let csv: string;
const names = testNames('cli-estimate');

beforeAll(async () => {
  site = await startFakeServer({ 'GET /': () => ({ headers: { 'content-type': 'text/html' }, body: '<title>Acme</title>' }) });
  dns = await startDnsServer({ a: { 'acme.com': ['127.0.0.1'], 'beta.com': ['127.0.0.1'], 'gamma.com': ['127.0.0.1'] } });
  configFile = writeConfig({
    providers: { website: { httpsPort: 9, httpPort: site.port, costs: { homepage: { usd: 3, missCharged: true } } }, dns: { servers: [dns.address] } },
  });
  csv = path.join(mkdtempSync(path.join(tmpdir(), 'cli-estimate-')), 'companies.csv');
  writeFileSync(csv, 'Website\nacme.com\nbeta.com\ngamma.com\nacme.com\n');
});
afterAll(async () => {
  await site.close();
  await dns.close();
  await dropTestData(names);
});

const env = () => cliEnv(names, { ENRICHBOT_CONFIG: configFile, ENRICHBOT_DNS_SERVERS: dns.address, ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1' });
// Only the homepage provider's group: the other providers have no key, or are not priced here.
const GROUPS = ['--groups', 'companyProfile'];

async function nothingSpent() {
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  const counts = await Promise.all(['ledger', 'batches', 'enrich_jobs'].map((c) => conn.collection(c).countDocuments({})));
  await conn.close();
  return counts;
}

test('`enrich --file x.csv --estimate` prints one line per field group and a total, and asks no provider', async () => {
  const r = await runCli(['enrich', '--file', csv, '--estimate', '-w', 'est', ...GROUPS], env());
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Estimate for 4 rows');
  expect(r.stdout).toContain('1 duplicates');
  expect(r.stdout).toMatch(/companyProfile\s+3 rows\s+0 cached answers\s+expected\s+\$9\.00\s+at most\s+\$9\.00/);
  expect(r.stdout).toContain('total: expected $9.00, at most $9.00');
  expect(r.stdout).toMatch(/workspace est daily cap \$10\.00 \(\$0\.00 spent today\): expected 90 %, at most 90 % of it/);
  expect(site.requests).toHaveLength(0);
  expect(await nothingSpent()).toEqual([0, 0, 0]);
});

test('in a pipe, a file above confirmAboveUsd is refused with exit 1 and the sentence to add --yes', async () => {
  const r = await runCli(['enrich', '--file', csv, '-w', 'est', ...GROUPS], env());
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('may cost up to $9.00');
  expect(r.stderr).toContain('add --yes');
  expect(site.requests).toHaveLength(0);
  expect(await nothingSpent()).toEqual([0, 0, 0]);
});

test('with --yes the file runs, and its batch record keeps the estimate beside the actual cost', async () => {
  const r = await runCli(['enrich', '--file', csv, '-w', 'est', ...GROUPS, '--yes', '--out', `${csv}.out.csv`], env());
  expect(r.stderr).toContain('(estimated $9.00, at most $9.00)');
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  const batch = await conn.collection('batches').findOne({ workspace: 'est' });
  await conn.close();
  expect(batch?.estimate).toMatchObject({ expectedUsd: 9, worstUsd: 9, rows: 4, duplicates: 1 });
  expect(batch?.costUsd).toBeLessThanOrEqual(9);
});

test('`enrich --file x.csv --max-cost` holds one budget for the whole file: with room for one $3 call, the three companies make one paid call and the batch finishes at $3', async () => {
  const r = await runCli(['enrich', '--file', csv, '-w', 'capped', ...GROUPS, '--yes', '--max-cost', '3.5', '--out', `${csv}.capped.csv`], env());
  expect(r.stderr).not.toContain('applies to single inputs');
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  const batch = await conn.collection('batches').findOne({ workspace: 'capped' });
  const paid = await conn.collection('ledger').countDocuments({ workspace: 'capped', costUsd: { $gt: 0 } });
  await conn.close();
  expect(batch).toMatchObject({ maxCostUsd: 3.5, state: 'done', costUsd: 3 });
  expect(paid).toBe(1);
  expect(r.code).toBe(0);
});
