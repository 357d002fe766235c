import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { z } from 'zod';
import { Registry } from '../../src/plugin/registry.js';
import { loadConfig } from '../../src/config/load.js';
import { defineTrigger, type Plugin } from '../../src/plugin/contract.js';
import { defineErrors, ErrorCodes, StartupError } from '../../src/errors.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function trigger(id: string, events: string[], extra: Partial<Plugin> = {}) {
  return defineTrigger({
    kind: 'trigger',
    id,
    description: `trigger ${id}`,
    configSchema: z.object({ greeting: z.string().default('hi') }),
    init: () => void events.push(`init:${id}`),
    start: () => void events.push(`start:${id}`),
    stop: () => void events.push(`stop:${id}`),
    ...(extra as object),
  });
}

async function loadErrors(overrides: Record<string, unknown>, plugins: Record<string, Plugin> = {}): Promise<StartupError> {
  const config = loadConfig({ env: {}, overrides, useDefaultFile: false });
  const registry = new Registry({ config, logger: pino({ level: 'silent' }), plugins });
  try {
    await registry.load();
  } catch (err) {
    return err as StartupError;
  }
  throw new Error('expected start-up to fail');
}

describe('plugin registry', () => {
  test('starts plugins in listed order (init for all, then start) and stops them in reverse', async () => {
    const events: string[] = [];
    const app = await startTestApp({
      file: 'registry-lifecycle',
      overrides: { plugins: { providers: [], triggers: ['alpha', 'beta', 'gamma'] } },
      plugins: { alpha: trigger('alpha', events), beta: trigger('beta', events, { dependencies: ['alpha'] }), gamma: trigger('gamma', events) },
    });
    expect(events).toEqual(['init:alpha', 'init:beta', 'init:gamma', 'start:alpha', 'start:beta', 'start:gamma']);
    expect(app.registry.context('beta')?.config).toEqual({ greeting: 'hi' });
    await app.stop();
    expect(events.slice(6)).toEqual(['stop:gamma', 'stop:beta', 'stop:alpha']);
    await dropTestData(app.names);
  });

  test('an unknown plugin id fails start-up naming the list entry', async () => {
    const err = await loadErrors({ plugins: { providers: ['website', 'prospe'] } });
    expect(err.codes).toEqual([ErrorCodes.PLUGIN_UNKNOWN]);
    expect(err.issues[0].message).toContain('plugins.providers[1]');
  });

  test('a bad config value fails start-up with one line naming the key and the expectation', async () => {
    const err = await loadErrors({ plugins: { providers: [], triggers: ['alpha'] }, triggers: { alpha: { greeting: 42 } } }, { alpha: trigger('alpha', []) });
    expect(err.codes).toEqual([ErrorCodes.PLUGIN_CONFIG_INVALID]);
    expect(err.issues[0].message).toMatch(/^triggers\.alpha\.greeting: got 42; expected string/);
  });

  test('a bad core config value fails with the key named', () => {
    let err: StartupError | undefined;
    try {
      loadConfig({ env: { PORT: 'eighty' } });
    } catch (e) {
      err = e as StartupError;
    }
    expect(err?.codes).toEqual([ErrorCodes.CONFIG_INVALID]);
    expect(err?.issues[0].message).toMatch(/^config: port: got "eighty"/);
  });

  test('a missing or later-listed dependency fails start-up', async () => {
    const missing = await loadErrors({ plugins: { providers: [], triggers: ['beta'] } }, { beta: trigger('beta', [], { dependencies: ['alpha'] }) });
    expect(missing.codes).toEqual([ErrorCodes.PLUGIN_DEPENDENCY_MISSING]);
    const late = await loadErrors({ plugins: { providers: [], triggers: ['beta', 'alpha'] } }, { alpha: trigger('alpha', []), beta: trigger('beta', [], { dependencies: ['alpha'] }) });
    expect(late.codes).toEqual([ErrorCodes.PLUGIN_DEPENDENCY_MISSING]);
  });

  test('an enabled paid provider without its key fails; an unconfigured one is skipped with one info line', async () => {
    const paid = httpProvider({ id: 'paidco', returns: ['company.name'], requiresApiKey: true });
    const err = await loadErrors({ plugins: { providers: ['paidco'] }, providers: { paidco: { enabled: true } } }, { paidco: paid });
    expect(err.codes).toEqual([ErrorCodes.PLUGIN_API_KEY_MISSING]);
    expect(err.issues[0].message).toContain('PAIDCO_API_KEY');

    const { logger, lines } = capture();
    const registry = new Registry({ config: loadConfig({ env: {}, useDefaultFile: false, overrides: { plugins: { providers: ['paidco'] } } }), logger, plugins: { paidco: paid } });
    await registry.load();
    expect(registry.providers.get('paidco')?.enabled).toBe(false);
    const info = lines.filter((l) => l.plugin === 'paidco');
    expect(info).toHaveLength(1);
    expect(info[0].level).toBe(30);
    expect(String(info[0].msg)).toContain('set PAIDCO_API_KEY');
  });

  test('every problem is reported at once, one line each', async () => {
    const err = await loadErrors(
      { plugins: { providers: ['nope'], triggers: ['alpha'] }, triggers: { alpha: { greeting: [] } }, waterfalls: { workEmail: ['ghost'], notAGroup: [] } },
      { alpha: trigger('alpha', []) },
    );
    expect(err.codes.sort()).toEqual([ErrorCodes.CONFIG_INVALID, ErrorCodes.CONFIG_INVALID, ErrorCodes.PLUGIN_CONFIG_INVALID, ErrorCodes.PLUGIN_UNKNOWN].sort());
    expect(err.issues).toHaveLength(4);
  });

  test('an entry listed twice, a plugin that fails to load or is no definition, and a provider that answers nothing its waterfall stops on: one line each', async () => {
    const config = loadConfig({ env: {}, useDefaultFile: false, overrides: { plugins: { providers: ['co', 'co', 'broken', 'shapeless'] }, waterfalls: { workEmail: ['co'] } } });
    const co = httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']] });
    const loader = async (_kind: string, id: string) => {
      if (id === 'broken') throw new Error('Unexpected token');
      return undefined;
    };
    const plugins = { co, shapeless: { kind: 'provider', id: 'shapeless' } as unknown as Plugin };
    const err = (await new Registry({ config, logger: pino({ level: 'silent' }), loader, plugins }).load().catch((e: unknown) => e)) as StartupError;
    expect(err).toBeInstanceOf(StartupError);
    expect(err.issues).toEqual([
      { code: ErrorCodes.PLUGIN_INVALID, message: 'plugins.providers[1]: "co" is listed twice; list each plugin once.' },
      { code: ErrorCodes.PLUGIN_INVALID, message: 'plugins.providers[2]: plugin "broken" failed to load: Unexpected token' },
      { code: ErrorCodes.PLUGIN_INVALID, message: expect.stringContaining('plugins.providers[3]: plugin "shapeless" does not export a valid provider definition (') },
      { code: ErrorCodes.CONFIG_INVALID, message: 'waterfalls.workEmail[0]: provider "co" returns none of person.workEmail; remove it from this waterfall.' },
    ]);
  });

  test('a verification waterfall refuses a provider that can only find, not check a given address', async () => {
    const finder = httpProvider({ id: 'finder', returns: ['person.workEmail', 'person.workEmailStatus'], needs: [['fullName', 'domain']] });
    const err = await loadErrors({ plugins: { providers: ['finder'] }, waterfalls: { emailVerification: ['finder'] } }, { finder });
    expect(err.codes).toEqual([ErrorCodes.CONFIG_INVALID]);
    expect(err.issues[0].message).toContain('waterfalls.emailVerification[0]: provider "finder" has no operation that checks a given workEmail');
  });

  test('a provider whose environment key is set is enabled with it', async () => {
    const paid = httpProvider({ id: 'paidco', returns: ['company.name'], requiresApiKey: true });
    const config = loadConfig({ env: { PAIDCO_API_KEY: 'k-123', PAIDCO_BASE_URL: 'http://127.0.0.1:9' }, useDefaultFile: false, overrides: { plugins: { providers: ['paidco'] } } });
    const registry = new Registry({ config, logger: pino({ level: 'silent' }), plugins: { paidco: paid } });
    await registry.load();
    expect(registry.providers.get('paidco')?.settings).toMatchObject({ apiKey: 'k-123', baseUrl: 'http://127.0.0.1:9' });
  });

  test('an out-of-tree plugin listed by path is loaded under its own id; a second plugin with that id is refused', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'enrichbot-plugin-')), 'alpha.mjs');
    writeFileSync(file, "export default { kind: 'trigger', id: 'alpha', description: 'alpha from a path', configSchema: { safeParse: (v) => ({ success: true, data: v }) } };\n");
    const registry = new Registry({ config: loadConfig({ env: {}, useDefaultFile: false, overrides: { plugins: { providers: [], triggers: [file] } } }), logger: pino({ level: 'silent' }) });
    await registry.load();
    expect(registry.triggers.get('alpha')?.plugin.description).toBe('alpha from a path');

    const twice = await loadErrors({ plugins: { providers: [], triggers: ['alpha', file] } }, { alpha: trigger('alpha', []) });
    expect(twice.codes).toEqual([ErrorCodes.PLUGIN_INVALID]);
    expect(twice.issues[0].message).toContain('plugins.triggers[1]');
    expect(twice.issues[0].message).toContain('"alpha"');
  });

  test('an out-of-tree provider named in a waterfall takes its key from <ID>_API_KEY', () => {
    const config = loadConfig({ env: { EXAMPLE_FINDER_API_KEY: 'k-9' }, useDefaultFile: false, overrides: { plugins: { providers: ['@acme/enrichbot-provider-example'] }, waterfalls: { workEmail: ['example-finder'] } } });
    expect(config.providers['example-finder']).toMatchObject({ apiKey: 'k-9' });
  });

  test("a plugin's metrics must carry its own prefix, and its error codes may be no one else's", async () => {
    const own = defineErrors({ ALPHA_BROKEN: 'alpha broke: restart it' });
    const taken = { CLASH: { code: ErrorCodes.INPUT_INVALID, help: 'the core has it' } };
    const shared = defineErrors({ ALPHA_SHARED: 'both claim it' });
    const err = await loadErrors(
      { plugins: { providers: [], triggers: ['alpha', 'beta'] } },
      {
        alpha: trigger('alpha', [], { errors: { ...own, ...shared }, metrics: [{ name: 'enrichbot_alpha_runs_total', help: 'runs', type: 'counter' }] }),
        beta: trigger('beta', [], { errors: { ...taken, ...shared }, metrics: [{ name: 'enrichbot_alpha_runs_total', help: 'runs', type: 'counter' }], pushActivity: { label: 'Beta', metric: { name: 'beta_writes_total', help: 'writes' } } } as Partial<Plugin>),
      },
    );
    expect(err.codes).toEqual([ErrorCodes.PLUGIN_INVALID, ErrorCodes.PLUGIN_INVALID, ErrorCodes.PLUGIN_INVALID, ErrorCodes.PLUGIN_INVALID]);
    expect(err.issues.map((i) => i.message)).toEqual([
      'plugin "beta": metric "enrichbot_alpha_runs_total" must start with enrichbot_beta_ and use lowercase letters, digits and _ only.',
      'plugin "beta": metric "beta_writes_total" must start with enrichbot_beta_ and use lowercase letters, digits and _ only.',
      'plugin "beta": error code ENRICHBOT_ERR_INPUT_INVALID is already the core\'s; name it differently.',
      'plugin "beta": error code ENRICHBOT_ERR_ALPHA_SHARED is already plugin "alpha"\'s; name it differently.',
    ]);
    expect(own.ALPHA_BROKEN).toEqual({ code: 'ENRICHBOT_ERR_ALPHA_BROKEN', help: 'alpha broke: restart it' });
  });
});
