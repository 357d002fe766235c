// Plugins' own commands (their `cli`), mounted on `enrichbot` from the config: a plugin listed in
// plugins.providers / plugins.triggers and not `enabled: false` gets its commands. A disabled
// plugin's commands are hidden: `--help` lists them with how to enable the plugin, and running
// one says the same instead of "unknown command". Disabled built-in plugins are only read for
// that (help, or a command name nothing else knows), so an ordinary command loads none of them.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { defaultLoader, ID, type PluginKind } from '../plugin/registry.js';
import type { CliContext, Plugin, PluginCli, PluginContext } from '../plugin/contract.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import { formatEstimate } from '../service/estimate.js';
import { cliActor, fail, runWithApp } from './cli-app.js';
import { confirmSpend } from './confirm-spend.js';

interface Found {
  kind: PluginKind;
  plugin: Plugin;
  /** How to enable it, when it is not. */
  disabled?: string;
}

export async function mountPluginCommands(program: Command, argv: string[]): Promise<void> {
  const config = readConfig();
  const found = config ? await listedPlugins(config) : await builtinPlugins({ listed: new Set(), enabled: true });
  for (const f of found.filter((f) => !f.disabled)) mountEnabled(program, f.plugin);
  if (!wantsDisabled(program, argv[2])) return;
  const shown = new Set(found.map((f) => f.plugin.id));
  mountDisabled(program, [...found.filter((f) => f.disabled), ...(config ? await builtinPlugins({ listed: shown, enabled: false }) : [])]);
}

/** The config as `start` reads it; when it does not load, every built-in plugin's commands are mounted and fail with its problems when run. */
function readConfig(): Config | undefined {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}

/** The plugins the config lists that have commands, each enabled or with how to enable it. */
async function listedPlugins(config: Config): Promise<Found[]> {
  const out: Found[] = [];
  for (const kind of ['provider', 'trigger'] as const) {
    for (const entry of kind === 'provider' ? config.plugins.providers : config.plugins.triggers) {
      const plugin = await definition(kind, entry);
      if (!plugin?.cli) continue;
      const settings = (kind === 'provider' ? config.providers : config.triggers)[plugin.id] as { enabled?: unknown } | undefined;
      out.push({ kind, plugin, ...(settings?.enabled === false ? { disabled: `remove ${kind}s.${plugin.id}.enabled: false from your config` } : {}) });
    }
  }
  return out;
}

/** Built-in plugins with commands that the config does not list: disabled, or all taken as enabled when there is no config to read. */
async function builtinPlugins({ listed, enabled }: { listed: Set<string>; enabled: boolean }): Promise<Found[]> {
  const out: Found[] = [];
  const here = path.dirname(new URL(import.meta.url).pathname);
  for (const kind of ['provider', 'trigger'] as const) {
    const dir = path.resolve(here, '../../plugins', `${kind}s`);
    const ids = existsSync(dir) ? readdirSync(dir).filter((id) => ID.test(id) && !listed.has(id)).sort() : [];
    for (const id of ids) {
      const plugin = await definition(kind, id);
      if (!plugin?.cli) continue;
      out.push({ kind, plugin, ...(enabled ? {} : { disabled: `add ${id} to plugins.${kind}s in your config (the file ENRICHBOT_CONFIG names; see config/default.yaml)` }) });
    }
  }
  return out;
}

/** A plugin's definition, or undefined when it does not load (start and check-config report why). */
async function definition(kind: PluginKind, entry: string): Promise<Plugin | undefined> {
  try {
    const def = (await defaultLoader(kind, entry)) as Plugin | undefined;
    return def?.kind === kind && typeof def.id === 'string' ? def : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds a plugin's commands, defined on a scratch program first: a command whose name is taken (a
 * core command's, or an earlier plugin's), or a `register` that throws, costs that plugin its
 * commands with one line on stderr, never the whole CLI (`start` included).
 */
function mountEnabled(program: Command, plugin: Plugin): void {
  const scratch = new Command().showHelpAfterError();
  try {
    register(plugin, scratch);
  } catch (err) {
    process.stderr.write(`enrichbot: plugin "${plugin.id}" adds no commands: its cli.register failed: ${errorMessage(err)}\n`);
    return;
  }
  for (const cmd of scratch.commands) {
    if (program.commands.some((c) => c.name() === cmd.name())) {
      process.stderr.write(`enrichbot: plugin "${plugin.id}": command "${cmd.name()}" is already taken; rename it in the plugin.\n`);
      continue;
    }
    program.addCommand(cmd);
  }
}

/** Whether disabled plugins' commands matter to this run: help is shown, or the command is no enabled one. */
function wantsDisabled(program: Command, name: string | undefined): boolean {
  if (!name || name.startsWith('-') || name === 'help') return true;
  return !program.commands.some((c) => c.name() === name || c.aliases().includes(name));
}

/** Hidden stand-ins for a disabled plugin's commands, and one help line each saying how to enable it. */
function mountDisabled(program: Command, disabled: Found[]): void {
  const lines: string[] = [];
  for (const f of disabled) {
    const sentence = `${f.plugin.id}: disabled; enable it: ${f.disabled}${f.plugin.cli?.setup ? `; then ${f.plugin.cli.setup}` : ''}.`;
    const code = f.kind === 'trigger' ? ErrorCodes.TRIGGER_UNKNOWN : ErrorCodes.PLUGIN_UNKNOWN;
    for (const name of commandNames(f.plugin)) {
      if (program.commands.some((c) => c.name() === name)) continue;
      program
        .command(name, { hidden: true })
        .description(sentence)
        .helpOption(false)
        .allowUnknownOption()
        .allowExcessArguments()
        .argument('[args...]')
        .action(() => fail(new EnrichbotError(code, sentence)));
      lines.push(`  ${name.padEnd(10)} ${sentence}`);
    }
  }
  if (lines.length) program.addHelpText('after', `\nCommands of disabled plugins:\n${lines.join('\n')}\n`);
}

/** The top-level commands a plugin adds, read by registering them on a scratch program (register only defines them). */
function commandNames(plugin: Plugin): string[] {
  const scratch = new Command();
  try {
    register(plugin, scratch);
  } catch {
    return [];
  }
  return scratch.commands.map((c) => c.name());
}

/** Mounts a plugin's commands; its `run` hands them the plugin's own context, of its kind. */
function register(plugin: Plugin, program: Command): void {
  (plugin.cli as PluginCli<PluginContext> | undefined)?.register(program, cliContext(plugin));
}

/** What a plugin's command is given: run it against a started App with the plugin's own context. */
function cliContext(plugin: Plugin): CliContext<PluginContext> {
  return {
    actor: cliActor(),
    confirm: (question) => confirmSpend(question),
    formatEstimate,
    run: ({ role = 'client', alongside = [] }, fn) =>
      runWithApp({ worker: role === 'worker', ...(role === 'client' ? { triggers: [plugin.id, ...alongside] } : {}) }, async (_cli, app) => {
        const ctx = app.registry.context(plugin.id);
        if (!ctx || !app.registry.isStarted(plugin.id)) {
          const why = role === 'worker' && app.role === 'client' ? 'ENRICHBOT_ROLE is web, which runs no worker; run it where ENRICHBOT_ROLE is worker or all' : '`enrichbot check-config` says why';
          throw new EnrichbotError(ErrorCodes.PLUGIN_INIT_FAILED, `plugin "${plugin.id}" did not start for this command: ${why}.`);
        }
        return fn(ctx);
      }),
  };
}
