// An out-of-tree provider as an operator installs one: examples/enrichbot-provider-example is
// packed (`npm pack`), installed from its tarball with no registry (`--offline`) into a
// deployment folder where enrichbot is installed (here a link to this checkout), listed in
// config by package name, and answers a waterfall through the real `enrichbot` binary run from
// that folder, against a local fake of its API.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/config/load.js';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { testNames } from '../support/env.js';
import { dropTestData } from '../support/test-app.js';
import { cliEnv, writeConfig } from '../support/cli-env.js';

const run = promisify(execFile);
const EXAMPLE = path.join(PACKAGE_ROOT, 'examples/enrichbot-provider-example');
const names = testNames('out-of-tree');
let work: string;
let deploy: string;
let api: FakeServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'enrichbot-oot-'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--ignore-scripts', '--json'], { cwd: EXAMPLE });
  const tarball = path.join(work, (JSON.parse(stdout) as { filename: string }[])[0].filename);
  deploy = path.join(work, 'deploy');
  mkdirSync(path.join(deploy, 'node_modules'), { recursive: true });
  writeFileSync(path.join(deploy, 'package.json'), JSON.stringify({ name: 'acme-enrichment', private: true }));
  // enrichbot is already installed where the plugin goes (its peer), so npm needs no registry.
  symlinkSync(PACKAGE_ROOT, path.join(deploy, 'node_modules/enrichbot'), 'dir');
  await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--offline', tarball], { cwd: deploy });
  api = await startFakeServer({
    'GET /v1/find': (req) =>
      req.query.get('name') === 'Jane Doe' && req.query.get('domain') === 'acme.com' ? { json: { email: 'Jane.Doe@acme.com', score: 92 } } : { status: 404, json: { error: 'not found' } },
  });
}, 120000);

afterAll(async () => {
  await api?.close();
  rmSync(work, { recursive: true, force: true });
  await dropTestData(names);
});

function enrichbot(args: string[], configFile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = cliEnv(names, { ENRICHBOT_CONFIG: configFile, EXAMPLE_FINDER_API_KEY: 'test-key', EXAMPLE_FINDER_BASE_URL: api.url });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(deploy, 'node_modules/.bin/enrichbot'), ...args], { env, cwd: deploy });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`enrichbot ${args.join(' ')} did not finish in 60 s\n${stderr}`));
    }, 60000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function configWith(extra: Record<string, unknown>): string {
  const defaults = parse(readFileSync(path.join(PACKAGE_ROOT, 'config/default.yaml'), 'utf8')) as { plugins: { providers: string[] } };
  return writeConfig({ plugins: { providers: [...defaults.plugins.providers, 'enrichbot-provider-example'] }, waterfalls: { workEmail: ['example-finder'] }, ...extra });
}

test('a provider installed from its npm tarball and listed by package name answers the workEmail waterfall', async () => {
  const r = await enrichbot(['enrich', 'Jane Doe @ acme.com', '--groups', 'workEmail', '--json', '--workspace', 'T-oot'], configWith({}));
  expect(r.stderr).not.toContain('ENRICHBOT_ERR');
  expect(r.code).toBe(0);
  const result = JSON.parse(r.stdout);
  expect(result.person.fields.workEmail).toMatchObject({ value: 'jane.doe@acme.com', provider: 'example-finder' });
  expect(api.requests).toHaveLength(1);
  expect(api.requests[0].headers.authorization).toBe('Bearer test-key');
}, 90000);

test('an out-of-tree provider gets the same config validation as a built-in one', async () => {
  const r = await enrichbot(['enrich', 'Jane Doe @ acme.com', '--groups', 'workEmail'], configWith({ providers: { 'example-finder': { minScore: 500 } } }));
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('ENRICHBOT_ERR_PLUGIN_CONFIG_INVALID');
  expect(r.stderr).toContain('providers.example-finder.minScore');
}, 90000);
