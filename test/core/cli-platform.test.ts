// The CLI as a trigger, end to end with the real binary: a CSV file enriched into a CSV file
// with progress, several inputs at once, correct, forget, activity, batch, and the exit codes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { testNames } from '../support/env.js';
import { dropTestData } from '../support/test-app.js';
import { cliEnv, runCli, writeConfig } from '../support/cli-env.js';

const page = (name: string) => `<html><head><title>${name} | Home</title><meta name="description" content="${name} makes things."></head><body></body></html>`;
let site: FakeServer;
let dns: DnsServer;
let configFile: string;
const names = testNames('cli-platform');
const dir = mkdtempSync(path.join(tmpdir(), 'enrichbot-cli-'));

beforeAll(async () => {
  // The fixture site answers for every host the local DNS points at it; the title names the host.
  site = await startFakeServer({
    'GET /': (req) => {
      const host = String(req.headers.host).split(':')[0];
      if (host === 'broken-co.com') return { status: 500, body: 'down' };
      return { headers: { 'content-type': 'text/html' }, body: page(host.split('.')[0].toUpperCase()) };
    },
  });
  dns = await startDnsServer({ a: Object.fromEntries(['acme.com', 'beta-co.com', 'gamma-co.com', 'delta-co.com', 'forget-cli.com', 'broken-co.com'].map((d) => [d, ['127.0.0.1']])) });
  configFile = writeConfig({
    providers: { website: { httpsPort: 9, httpPort: site.port }, dns: { servers: [dns.address] } },
    queue: { stallIntervalMs: 1000, shutdownTimeoutMs: 5000 },
    resilience: { backoffBaseMs: 20, maxRetries: 1 },
    service: { batch: { progressIntervalMs: 50 } },
    spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
  });
});
afterAll(async () => {
  await site.close();
  await dns.close();
  await dropTestData(names);
});

const env = (extra: Record<string, string> = {}) => cliEnv(names, { ENRICHBOT_CONFIG: configFile, ENRICHBOT_DNS_SERVERS: dns.address, ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1', ...extra });

test('`enrich --file` enriches a CSV into a CSV next to it: input columns first, rows in order, unusable rows kept with a reason, formulas escaped, progress lines', async () => {
  const input = path.join(dir, 'people.csv');
  writeFileSync(input, '\uFEFFCompany Domain;Note\nacme.com;first\n;nothing here\nbeta-co.com;"=HYPERLINK(""http://evil"")"\ngamma-co.com;"semi;colon"\n');
  const r = await runCli(['enrich', '--file', input, '-w', 'T-file'], env(), 90_000);
  expect(r.stderr).toContain('columns domain="Company Domain"');
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/progress: \d+\/4 rows/);
  expect(r.stderr).toMatch(/Wrote 4 rows to .*people\.enriched\.csv: 3 done, 0 failed, 1 unusable/);
  const out = readFileSync(path.join(dir, 'people.enriched.csv'), 'utf8');
  expect(out.startsWith('\uFEFF')).toBe(true);
  const lines = out.slice(1).trim().split(/\r?\n/);
  const header = lines[0].split(',');
  expect(header.slice(0, 2)).toEqual(['Company Domain', 'Note']);
  expect(header).toEqual(expect.arrayContaining(['company.name', 'status', 'reason']));
  expect(lines).toHaveLength(5);
  expect(lines[1]).toMatch(/^acme\.com,first,.*ACME.*,done/);
  expect(lines[2]).toMatch(/^,nothing here,.*rejected/);
  // The formula cell comes back quoted-escaped, never starting with "=".
  expect(lines[3]).toContain(`"'=HYPERLINK(""http://evil"")"`);
  expect(lines[4]).toMatch(/^gamma-co\.com,semi;colon,/);
});

test('several inputs at once print one card each; a failed input exits 2', async () => {
  const r = await runCli(['enrich', 'acme.com', 'delta-co.com', '-w', 'T-multi'], env());
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^acme\.com {2}\[done/m);
  expect(r.stdout).toMatch(/^delta-co\.com {2}\[done/m);
  // The site is down for this host: every provider that ran failed.
  const failed = await runCli(['enrich', 'broken-co.com', '-w', 'T-multi', '--groups', 'companyProfile', '--json'], env());
  expect(JSON.parse(failed.stdout).status).toBe('failed');
  expect(failed.code).toBe(2);
}, 90_000);

test('`correct` sets a field by hand, `activity` shows who did it, and `forget` refuses the identity until --undo', async () => {
  const actor = { USER: 'alice' };
  expect((await runCli(['enrich', 'forget-cli.com', '-w', 'T-rec'], env(actor))).code).toBe(0);
  const c = await runCli(['correct', 'forget-cli.com', 'company.name', 'Forget Co (fixed)', '-w', 'T-rec'], env(actor));
  expect(c.code).toBe(0);
  expect(c.stdout).toContain('"Forget Co (fixed)" (manual, by cli:alice)');
  const a = await runCli(['activity', '-w', 'T-rec', '--json'], env(actor));
  const entries = JSON.parse(a.stdout) as { action: string; actor: string }[];
  expect(entries.map((e) => `${e.action}:${e.actor}`)).toEqual(expect.arrayContaining(['enrich:cli:alice', 'correct:cli:alice']));

  const f = await runCli(['forget', 'forget-cli.com', '-w', 'T-rec'], env(actor));
  expect(f.code).toBe(0);
  expect(f.stdout).toMatch(/Forgot forget-cli\.com in T-rec \(.*companies: 1/);
  const refused = await runCli(['enrich', 'forget-cli.com', '-w', 'T-rec'], env(actor));
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('ENRICHBOT_ERR_IDENTITY_FORGOTTEN');
  expect((await runCli(['forget', '--undo', 'forget-cli.com', '-w', 'T-rec'], env(actor))).stdout).toContain('may be enriched again');
  expect((await runCli(['enrich', 'forget-cli.com', '-w', 'T-rec'], env(actor))).code).toBe(0);
}, 120_000);

test('`batch <id>` shows a batch and writes its CSV again; an unknown id is refused with its code', async () => {
  const input = path.join(dir, 'again.csv');
  writeFileSync(input, 'website\nacme.com\n');
  const r = await runCli(['enrich', '--file', input, '-w', 'T-batch', '--json'], env());
  const { batchId } = JSON.parse(r.stdout) as { batchId: string };
  const out = path.join(dir, 'again-export.csv');
  const b = await runCli(['batch', batchId, '--out', out], env());
  expect(b.code).toBe(0);
  expect(b.stdout).toMatch(new RegExp(`^${batchId} \\(again\\.csv\\) {2}\\[done\\] {2}1/1 rows: 1 done`));
  expect(readFileSync(out, 'utf8').split(/\r?\n/)[1]).toMatch(/^acme\.com,/);
  const unknown = await runCli(['batch', 'bat_nope'], env());
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('ENRICHBOT_ERR_BATCH_NOT_FOUND');
}, 120_000);

test('`--no-worker --timeout` gives up waiting with its own code when no worker runs, and the job stays queued', async () => {
  const r = await runCli(['enrich', 'beta-co.com', '-w', 'T-noworker', '--no-worker', '--timeout', '1'], env());
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('ENRICHBOT_ERR_JOB_TIMEOUT');
});

test('`check-config` says ok for a good config and lists problems for a bad one', async () => {
  expect((await runCli(['check-config'], env())).stdout).toContain('config ok');
  const bad = writeConfig({ plugins: { triggers: ['no-such-trigger'] } });
  const r = await runCli(['check-config'], cliEnv(names, { ENRICHBOT_CONFIG: bad }));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/no trigger plugin named "no-such-trigger".*ENRICHBOT_ERR_PLUGIN_UNKNOWN/);
});

test('`spend --provider` reports one provider for the day', async () => {
  const r = await runCli(['spend', '--provider', 'website', '-w', 'T-file', '--json'], env());
  expect(r.code).toBe(0);
  const rows = JSON.parse(r.stdout) as { provider: string; calls: number }[];
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.every((x) => x.provider === 'website')).toBe(true);
});
