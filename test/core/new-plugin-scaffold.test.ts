// `enrichbot new provider|trigger <id>`: the real binary writes a plugin folder into a temporary
// plugins dir (beside it, the package.json and node_modules of a checkout), and the generated
// tests pass unchanged when jest runs them with this repository's jest config.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config/load.js';

const run = promisify(execFile);
const BIN = path.join(PACKAGE_ROOT, 'bin/enrichbot.js');
let work: string;
let plugins: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'enrichbot-new-'));
  plugins = path.join(work, 'plugins');
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(path.join(PACKAGE_ROOT, 'node_modules'), path.join(work, 'node_modules'), 'dir');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface JestReport {
  numPassedTests: number;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  testResults: { name: string; status: string; message: string }[];
}

async function jestOn(dir: string): Promise<JestReport> {
  const out = path.join(work, `${path.basename(dir)}.json`);
  const jest = path.join(PACKAGE_ROOT, 'node_modules/jest/bin/jest.js');
  await run(process.execPath, ['--experimental-vm-modules', jest, '--rootDir', PACKAGE_ROOT, '--roots', dir, '--ci', '--json', '--outputFile', out, dir], { cwd: PACKAGE_ROOT }).catch(() => undefined);
  return JSON.parse(readFileSync(out, 'utf8')) as JestReport;
}

test('`enrichbot new provider acme-finder` writes index, README, fixture server and a test that passes unchanged', async () => {
  const { stdout } = await run(process.execPath, [BIN, 'new', 'provider', 'acme-finder', '--dir', plugins]);
  expect(stdout).toContain('test/acme-finder.test.ts');
  const dir = path.join(plugins, 'providers/acme-finder');
  expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('ACME_FINDER_API_KEY');
  expect(readFileSync(path.join(dir, 'index.ts'), 'utf8')).toMatch(/from '[./]+.*\/src\/sdk\/index\.js'/);
  const report = await jestOn(dir);
  expect(report.testResults.map((r) => [path.basename(r.name), r.status, r.message])).toEqual([['acme-finder.test.ts', 'passed', '']]);
  expect(report.numPassedTests).toBe(3);
}, 120000);

test('`enrichbot new trigger acme-hook` writes a webhook trigger whose test passes unchanged in the real app', async () => {
  await run(process.execPath, [BIN, 'new', 'trigger', 'acme-hook', '--dir', plugins]);
  const report = await jestOn(path.join(plugins, 'triggers/acme-hook'));
  expect(report.testResults.map((r) => [path.basename(r.name), r.status, r.message])).toEqual([['acme-hook.test.ts', 'passed', '']]);
  expect(report.numPassedTests).toBe(2);
}, 120000);

test('an existing folder or a bad id is refused, and nothing is overwritten', async () => {
  const index = path.join(plugins, 'providers/acme-finder/index.ts');
  writeFileSync(index, '// edited by hand\n');
  const again = await run(process.execPath, [BIN, 'new', 'provider', 'acme-finder', '--dir', plugins]).catch((err: { code: number; stderr: string }) => err);
  expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') });
  expect(readFileSync(index, 'utf8')).toBe('// edited by hand\n');
  const bad = await run(process.execPath, [BIN, 'new', 'trigger', 'Acme_Hook', '--dir', plugins]).catch((err: { code: number; stderr: string }) => err);
  expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('not a valid plugin id') });
});
