// Loads the plugins named in config, in the listed order, and checks everything before any
// plugin runs: known id, valid definition, valid config, declared dependencies enabled and
// listed earlier, API key present for a paid provider that is explicitly enabled. All problems
// are reported together, one line each. Then init and start in order; stop in reverse order.
// A list entry is a built-in id, or an npm package name or path of an out-of-tree plugin.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { Config, ProviderSettings } from '../config/schema.js';
import { ProviderSettingsSchema } from '../config/schema.js';
import { envPrefix, formatZodIssues, PACKAGE_ROOT } from '../config/load.js';
import { ErrorCodes, StartupError, errorMessage, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Plugin, PluginContext, ProviderPlugin, TriggerPlugin } from './contract.js';
import { FIELD_GROUPS, servesGroup, type FieldGroup } from '../engine/fields.js';
import { contributionProblems } from './contributions.js';

export type PluginKind = 'provider' | 'trigger';
export type PluginLoader = (kind: PluginKind, id: string) => Promise<unknown>;

/** A plugin id: lowercase letters, digits and dashes, starting with a letter. */
export const ID = /^[a-z][a-z0-9-]{1,40}$/;

/** Finds plugins/<kind>s/<id>/index.(js|ts) next to this build, else an installed package or a path. */
export const defaultLoader: PluginLoader = async (kind, id) => {
  const file = builtinFile(kind, id) ?? resolveOutOfTree(id);
  if (!file) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  return mod.default;
};

function builtinFile(kind: PluginKind, id: string): string | undefined {
  if (!ID.test(id)) return undefined;
  const here = path.dirname(new URL(import.meta.url).pathname);
  const candidates = [
    path.resolve(here, '../../plugins', `${kind}s`, id, 'index.js'),
    path.resolve(here, '../../plugins', `${kind}s`, id, 'index.ts'),
    path.resolve(PACKAGE_ROOT, 'dist/plugins', `${kind}s`, id, 'index.js'),
  ];
  return candidates.find((f) => existsSync(f));
}

/**
 * Resolves a path against the working directory, and a package name from the working directory's
 * node_modules (where the operator installed it), then from enrichbot's own (enrichbot installed
 * as a dependency of the same project).
 */
function resolveOutOfTree(entry: string): string | undefined {
  const isPath = /^(\.{1,2}\/|\/)/.test(entry);
  if (!isPath && !/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(entry)) return undefined;
  for (const dir of isPath ? [process.cwd()] : [process.cwd(), PACKAGE_ROOT]) {
    try {
      return createRequire(path.join(dir, 'package.json')).resolve(isPath ? path.resolve(dir, entry) : entry);
    } catch {
      // not there: try the next place
    }
  }
  return undefined;
}

export interface LoadedPlugin {
  plugin: Plugin;
  config: unknown;
  settings?: ProviderSettings;
  enabled: boolean;
  disabledReason?: string;
}

const DefinitionSchema = z.object({
  kind: z.enum(['provider', 'trigger']),
  id: z.string().regex(ID),
  description: z.string().min(1),
  configSchema: z.custom<z.ZodType>((v) => !!v && typeof (v as z.ZodType).safeParse === 'function', 'a zod schema'),
  dependencies: z.array(z.string()).optional(),
});

const ProviderShape = z.object({
  requiresApiKey: z.boolean(),
  defaults: z.object({}).loose(),
  operations: z
    .array(z.object({ name: z.string().min(1), needs: z.array(z.array(z.string()).min(1)).min(1), returns: z.array(z.string()).min(1), lookup: z.function() }).loose())
    .min(1),
});

/** Adds one start-up problem to the list load() reports at once. */
type AddIssue = (code: ErrorCode, message: string) => void;

export interface RegistryOptions {
  config: Config;
  logger: Logger;
  loader?: PluginLoader;
  plugins?: Record<string, Plugin>;
  /** Triggers loaded whether or not the config lists them (the CLI's own). */
  builtins?: Record<string, Plugin>;
}

export class Registry {
  readonly providers = new Map<string, LoadedPlugin>();
  readonly triggers = new Map<string, LoadedPlugin>();
  private readonly started: { loaded: LoadedPlugin; ctx: PluginContext }[] = [];
  private readonly contexts = new Map<string, PluginContext>();

  constructor(private readonly opts: RegistryOptions) {}

  /** Loads and validates every listed plugin; throws one StartupError listing every problem. */
  async load(): Promise<void> {
    const issues: { code: ErrorCode; message: string }[] = [];
    const add: AddIssue = (code, message) => issues.push({ code, message });
    const order = await this.loadListed(add);
    this.loadBuiltins(add);
    const all = new Map([...this.providers, ...this.triggers]);
    checkDependencies(all, order, add);
    // Metrics and error codes the enabled plugins declare: well formed, and nobody else's.
    for (const problem of contributionProblems([...all.values()].filter((l) => l.enabled).map((l) => l.plugin))) add(ErrorCodes.PLUGIN_INVALID, problem);
    this.checkWaterfalls(add);
    if (issues.length) throw new StartupError(issues);
    for (const [id, l] of all) {
      if (!l.enabled) this.opts.logger.info({ plugin: id }, `plugin ${id} skipped: ${l.disabledReason}`);
    }
  }

  /** The plugins the config lists, providers then triggers, each list in order; returns their ids in load order. */
  private async loadListed(add: AddIssue): Promise<string[]> {
    const { config } = this.opts;
    const loader = this.opts.loader ?? defaultLoader;
    const order: string[] = [];
    for (const kind of ['provider', 'trigger'] as const) {
      const list = kind === 'provider' ? config.plugins.providers : config.plugins.triggers;
      const seen = new Set<string>();
      for (const [i, entry] of list.entries()) {
        const where = `plugins.${kind}s[${i}]`;
        if (seen.has(entry)) {
          add(ErrorCodes.PLUGIN_INVALID, `${where}: "${entry}" is listed twice; list each plugin once.`);
          continue;
        }
        seen.add(entry);
        const plugin = await this.definition({ kind, entry, where, loader }, add);
        if (!plugin) continue;
        const loaded = kind === 'provider' ? this.loadProvider(plugin as ProviderPlugin, add) : this.loadTrigger(plugin as TriggerPlugin, add);
        if (!loaded) continue;
        (kind === 'provider' ? this.providers : this.triggers).set(plugin.id, loaded);
        order.push(plugin.id);
      }
    }
    return order;
  }

  /** The triggers loaded whether or not the config lists them (the CLI's own). */
  private loadBuiltins(add: AddIssue): void {
    for (const [id, def] of Object.entries(this.opts.builtins ?? {})) {
      if (this.triggers.has(id)) continue;
      const loaded = this.loadTrigger(def as TriggerPlugin, add);
      if (loaded) this.triggers.set(id, loaded);
    }
  }

  /** Waterfalls name known groups and listed providers that can serve them. */
  private checkWaterfalls(add: AddIssue): void {
    const { config } = this.opts;
    for (const [group, ids] of Object.entries(config.waterfalls)) {
      if (!(group in FIELD_GROUPS)) {
        add(ErrorCodes.CONFIG_INVALID, `waterfalls.${group}: unknown field group; expected one of ${Object.keys(FIELD_GROUPS).join(', ')}.`);
        continue;
      }
      const stop = FIELD_GROUPS[group as FieldGroup].stopFields as readonly string[];
      const verifies = (FIELD_GROUPS[group as FieldGroup] as { verifies?: string }).verifies;
      for (const [i, id] of ids.entries()) {
        if (!this.providers.has(id) && !config.plugins.providers.includes(id)) {
          add(ErrorCodes.CONFIG_INVALID, `waterfalls.${group}[${i}]: "${id}" is not in plugins.providers; add it there or remove it here.`);
          continue;
        }
        const p = this.providers.get(id)?.plugin as ProviderPlugin | undefined;
        if (p && !p.operations.some((op) => op.returns.some((f) => stop.includes(f)))) {
          add(ErrorCodes.CONFIG_INVALID, `waterfalls.${group}[${i}]: provider "${id}" returns none of ${stop.join(', ')}; remove it from this waterfall.`);
        } else if (p && verifies && !p.operations.some((op) => servesGroup(op, group as FieldGroup))) {
          add(ErrorCodes.CONFIG_INVALID, `waterfalls.${group}[${i}]: provider "${id}" has no operation that checks a given ${verifies} (it only finds one); remove it from this waterfall.`);
        }
      }
    }
  }

  /** The entry's plugin definition, checked (shape, kind, id), or null with the problem added. */
  private async definition(at: { kind: PluginKind; entry: string; where: string; loader: PluginLoader }, add: AddIssue): Promise<Plugin | null> {
    const { kind, entry, where, loader } = at;
    // An out-of-tree plugin (package name or path) names itself: its definition's id is used.
    const outOfTree = !ID.test(entry) || (!this.opts.plugins?.[entry] && !builtinFile(kind, entry));
    let def: unknown;
    try {
      def = this.opts.plugins?.[entry] ?? (await loader(kind, entry));
    } catch (err) {
      add(ErrorCodes.PLUGIN_INVALID, `${where}: plugin "${entry}" failed to load: ${errorMessage(err)}`);
      return null;
    }
    if (def === undefined) {
      const expected = ID.test(entry) ? `plugins/${kind}s/${entry}/index.ts, or an npm package of that name installed where enrichbot runs` : 'an npm package installed where enrichbot runs, or a path starting with ./ or /';
      add(ErrorCodes.PLUGIN_UNKNOWN, `${where}: no ${kind} plugin named "${entry}" (expected ${expected}).`);
      return null;
    }
    const id = (def as Plugin).id;
    const shape = DefinitionSchema.safeParse(def);
    const extra = kind === 'provider' ? ProviderShape.safeParse(def) : { success: true as const };
    if (!shape.success || !extra.success || (def as Plugin).kind !== kind || (!outOfTree && id !== entry)) {
      const why = !shape.success ? formatZodIssues('', shape.error, def).join('; ') : !extra.success ? formatZodIssues('', extra.error, def).join('; ') : `its kind/id is ${(def as Plugin).kind}/${id}`;
      add(ErrorCodes.PLUGIN_INVALID, `${where}: plugin "${entry}" does not export a valid ${kind} definition (${why}).`);
      return null;
    }
    if (this.providers.has(id) || this.triggers.has(id)) {
      add(ErrorCodes.PLUGIN_INVALID, `${where}: "${entry}" defines plugin id "${id}", which another listed plugin already has; list one of them.`);
      return null;
    }
    return def as Plugin;
  }

  private loadProvider(plugin: ProviderPlugin, add: AddIssue): LoadedPlugin | null {
    const id = plugin.id;
    const raw = this.opts.config.providers[id] ?? {};
    const settings = ProviderSettingsSchema.parse(raw);
    const parsed = plugin.configSchema.safeParse(raw);
    if (!parsed.success) {
      // Only required settings missing and not explicitly enabled: not configured, so skipped.
      const missing = parsed.error.issues.filter((i) => valueAt(raw, i.path) === undefined).map((i) => `providers.${id}.${i.path.join('.')}`);
      if (settings.enabled !== true && missing.length === parsed.error.issues.length) {
        return { plugin, config: undefined, settings, enabled: false, disabledReason: `not configured: set ${missing.join(', ')}` };
      }
      for (const line of formatZodIssues(`providers.${id}`, parsed.error, raw)) add(ErrorCodes.PLUGIN_CONFIG_INVALID, line);
      return null;
    }
    const env = `${envPrefix(id)}_API_KEY`;
    let enabled = settings.enabled !== false;
    let disabledReason = settings.enabled === false ? `providers.${id}.enabled is false` : undefined;
    if (enabled && plugin.requiresApiKey && !settings.apiKey) {
      if (settings.enabled === true) {
        add(ErrorCodes.PLUGIN_API_KEY_MISSING, `providers.${id}.apiKey: ${env} is not set, but providers.${id}.enabled is true; set ${env} or set enabled to auto.`);
        return null;
      }
      enabled = false;
      disabledReason = `no API key: set ${env} to use it`;
    }
    if (enabled) {
      for (const op of plugin.operations) {
        const cost = settings.costs[op.name] ?? plugin.defaults.costs?.[op.name];
        if (!cost && plugin.requiresApiKey) add(ErrorCodes.PLUGIN_CONFIG_INVALID, `providers.${id}.costs.${op.name}: missing; expected { usd: <number>, missCharged: <true|false> } so spend can be tracked.`);
      }
      if (!(settings.baseUrl ?? plugin.defaults.baseUrl) && plugin.requiresApiKey) {
        add(ErrorCodes.PLUGIN_CONFIG_INVALID, `providers.${id}.baseUrl: missing; set ${envPrefix(id)}_BASE_URL.`);
      }
    }
    return { plugin, config: parsed.data, settings, enabled, disabledReason };
  }

  private loadTrigger(plugin: TriggerPlugin, add: AddIssue): LoadedPlugin | null {
    const raw = this.opts.config.triggers[plugin.id] ?? {};
    const parsed = plugin.configSchema.safeParse(raw);
    if (!parsed.success) {
      for (const line of formatZodIssues(`triggers.${plugin.id}`, parsed.error, raw)) add(ErrorCodes.PLUGIN_CONFIG_INVALID, line);
      return null;
    }
    const enabled = (raw as { enabled?: unknown }).enabled !== false;
    return { plugin, config: parsed.data, enabled, disabledReason: enabled ? undefined : `triggers.${plugin.id}.enabled is false` };
  }

  enabledPlugins(): LoadedPlugin[] {
    return [...this.providers.values(), ...this.triggers.values()].filter((l) => l.enabled);
  }

  /** Runs init for each enabled plugin in order, then start; `makeContext` builds each one's context. */
  async start(makeContext: (loaded: LoadedPlugin) => PluginContext, shouldStart: (loaded: LoadedPlugin) => boolean = () => true, timeoutMs = 10000): Promise<void> {
    const list = this.enabledPlugins().filter(shouldStart);
    for (const loaded of list) this.contexts.set(loaded.plugin.id, makeContext(loaded));
    for (const phase of ['init', 'start'] as const) {
      for (const loaded of list) {
        const ctx = this.contexts.get(loaded.plugin.id)!;
        const fn = (loaded.plugin as unknown as Record<string, unknown>)[phase] as ((c: PluginContext) => unknown) | undefined;
        try {
          if (fn) await withTimeout(Promise.resolve(fn.call(loaded.plugin, ctx)), timeoutMs, `plugin "${loaded.plugin.id}" ${phase}`);
        } catch (err) {
          await this.stop().catch(() => undefined);
          const code = (err as { code?: string }).code === ErrorCodes.PLUGIN_TIMEOUT ? ErrorCodes.PLUGIN_TIMEOUT : ErrorCodes.PLUGIN_INIT_FAILED;
          throw new StartupError([{ code, message: `plugin "${loaded.plugin.id}" failed to ${phase}: ${errorMessage(err)}` }]);
        }
        if (phase === 'start') this.started.push({ loaded, ctx });
      }
    }
  }

  /** Stops started plugins in reverse order; one failing stop does not stop the others. */
  async stop(): Promise<void> {
    while (this.started.length) {
      const { loaded, ctx } = this.started.pop()!;
      try {
        await (loaded.plugin.stop as ((c: PluginContext) => unknown) | undefined)?.call(loaded.plugin, ctx);
      } catch (err) {
        this.opts.logger.error({ err, plugin: loaded.plugin.id }, 'plugin stop failed');
      }
    }
  }

  /** Whether the plugin was started in this process (a trigger runs only in its roles). */
  isStarted(id: string): boolean {
    return this.started.some((s) => s.loaded.plugin.id === id);
  }

  context(id: string): PluginContext | undefined {
    return this.contexts.get(id);
  }
}

/** Dependencies: enabled, and listed before the dependent. */
function checkDependencies(all: Map<string, LoadedPlugin>, order: string[], add: AddIssue): void {
  for (const [id, loaded] of all) {
    if (!loaded.enabled) continue;
    for (const dep of loaded.plugin.dependencies ?? []) {
      const target = all.get(dep);
      if (!target || !target.enabled) {
        add(ErrorCodes.PLUGIN_DEPENDENCY_MISSING, `plugin "${id}" depends on "${dep}", which is not enabled: add "${dep}" to plugins (before "${id}") and configure it.`);
      } else if (order.indexOf(dep) > order.indexOf(id)) {
        add(ErrorCodes.PLUGIN_DEPENDENCY_MISSING, `plugin "${id}" depends on "${dep}", which is listed after it: move "${dep}" earlier.`);
      }
    }
  }
}

function valueAt(obj: unknown, path: PropertyKey[]): unknown {
  let v: unknown = obj;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(Object.assign(new Error(`${what} did not finish within ${ms} ms`), { code: ErrorCodes.PLUGIN_TIMEOUT })), ms);
    }),
  ]);
}
