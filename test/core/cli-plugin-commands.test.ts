// Plugins' own commands on the real `enrichbot` binary: mounted while the plugin is enabled;
// while it is not, --help lists them with how to enable it, and running one says the same
// instead of "unknown command". Help and refusals connect to nothing, so no database is needed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEnv, runCli, writeConfig } from '../support/cli-env.js';
import { testNames } from '../support/env.js';

const names = testNames('cli-plugin-commands');
const env = (config: Record<string, unknown> | string) => cliEnv(names, { ENRICHBOT_CONFIG: typeof config === 'string' ? config : writeConfig(config) });
/** The command names in the "Commands:" part of the help (before the disabled plugins' part). */
const listed = (help: string) => [...help.split('Commands of disabled plugins:')[0]!.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]);

test("an enabled plugin's commands are listed; a disabled one's are listed apart with how to enable it", async () => {
  const r = await runCli(['--help'], env({ plugins: { triggers: ['http-api'] } }));
  expect(r.code).toBe(0);
  expect(listed(r.stdout)).toEqual(expect.arrayContaining(['enrich', 'spend', 'api-key']));
  expect(listed(r.stdout)).not.toContain('hubspot');
  expect(listed(r.stdout)).not.toContain('digest');
  const disabled = r.stdout.split('Commands of disabled plugins:\n')[1]!.trim().split('\n').map((l) => l.trim());
  expect(disabled).toEqual([
    'digest     daily-digest: disabled; enable it: add daily-digest to plugins.triggers in your config (the file ENRICHBOT_CONFIG names; see config/default.yaml); then list slack before it and set DAILY_DIGEST_CHANNEL.',
    'hubspot    hubspot: disabled; enable it: add hubspot to plugins.triggers in your config (the file ENRICHBOT_CONFIG names; see config/default.yaml); then set HUBSPOT_ACCESS_TOKEN, HUBSPOT_CLIENT_SECRET and HUBSPOT_PORTAL_IDS.',
  ]);
  const sub = await runCli(['api-key', '--help'], env({ plugins: { triggers: ['http-api'] } }));
  expect(sub.stdout).toMatch(/create \[options\]/);
});

test("a disabled plugin's command says how to enable it, not 'unknown command'; a name no plugin has is still unknown", async () => {
  const e = env({});
  const r = await runCli(['hubspot', 'conflicts', '--json'], e);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('enrichbot: hubspot: disabled; enable it: add hubspot to plugins.triggers in your config (the file ENRICHBOT_CONFIG names; see config/default.yaml); then set HUBSPOT_ACCESS_TOKEN, HUBSPOT_CLIENT_SECRET and HUBSPOT_PORTAL_IDS. [ENRICHBOT_ERR_TRIGGER_UNKNOWN]\n');
  const help = await runCli(['hubspot', '--help'], e);
  expect(help.code).toBe(1);
  expect(help.stderr).toContain('hubspot: disabled');
  const unknown = await runCli(['hubspot-ish'], e);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("unknown command 'hubspot-ish'");
});

test('a plugin listed with enabled: false is told to be enabled there', async () => {
  const r = await runCli(['api-key', 'list'], env({ plugins: { triggers: ['http-api'] }, triggers: { 'http-api': { enabled: false } } }));
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('http-api: disabled; enable it: remove triggers.http-api.enabled: false from your config.');
});

test('with a config that does not load, plugin commands are there and report the config problem when run', async () => {
  const broken = writeConfig({ port: 'eighty' });
  const help = await runCli(['--help'], env(broken));
  expect(listed(help.stdout)).toEqual(expect.arrayContaining(['api-key', 'digest', 'hubspot']));
  const r = await runCli(['hubspot', 'setup'], env(broken));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^enrichbot cannot start:\n {2}- config: port: got "eighty"/);
});

test("a plugin command whose name is taken, or a register that throws, costs that plugin its commands with one line, not the CLI", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-clash-'));
  const plugin = (id: string, register: string) => {
    const file = path.join(dir, `${id}.mjs`);
    writeFileSync(file, `export default { kind: 'trigger', id: '${id}', description: 'test', configSchema: { safeParse: (v) => ({ success: true, data: v }) }, cli: { register(program) { ${register} } } };\n`);
    return file;
  };
  const clashy = plugin('clashy', "program.command('spend').description('not the core one'); program.command('clashy-ok').description('a command of its own');");
  const broken = plugin('broken', "throw new Error('boom');");
  const r = await runCli(['--help'], env({ plugins: { triggers: [clashy, broken] } }));
  expect(r.code).toBe(0);
  expect(listed(r.stdout)).toEqual(expect.arrayContaining(['spend', 'clashy-ok']));
  expect(r.stdout).toMatch(/spend \[options\] +What was spent/);
  expect(r.stderr.split('\n').filter(Boolean)).toEqual([
    'enrichbot: plugin "clashy": command "spend" is already taken; rename it in the plugin.',
    'enrichbot: plugin "broken" adds no commands: its cli.register failed: boom',
  ]);
});
