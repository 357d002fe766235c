// Config = config/default.yaml, then an optional overlay file (ENRICHBOT_CONFIG), then the
// environment, then in-code overrides (tests). Parsed once with zod; every bad value becomes
// one line naming the key, the value and what was expected.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigSchema, type Config } from './schema.js';
import { ErrorCodes, StartupError, type ErrorCode } from '../errors.js';
import { REDACTED, isSecretKey, redactText, redactValue } from '../redaction.js';
import { normalizeAllowedAddress } from '../net/safe-fetch.js';

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  let dir = start;
  while (dir !== path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'config'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge where arrays and scalars from `over` replace those in `base`. */
export function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  }
  return out;
}

function readYaml(file: string): Plain {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StartupError([
      { code: ErrorCodes.CONFIG_INVALID, message: `config: cannot read ${file}: ${redactText((err as Error).message)}` },
    ]);
  }
  return isPlain(parsed) ? parsed : {};
}

/** `sec-edgar` -> `SEC_EDGAR`: the prefix of a plugin's environment variables. */
export function envPrefix(pluginId: string): string {
  return pluginId.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

const numberOrUndefined = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

/** Environment overrides. Provider keys and base URLs follow `<PROVIDER>_API_KEY` / `_BASE_URL`. */
/**
 * A trigger's settings from its own variables only: `SLACK_BOT_TOKEN` -> triggers.slack.botToken,
 * `HTTP_API_WAIT_MS` -> triggers.http-api.waitMs. Values stay strings; the plugin's schema coerces.
 */
export function triggerEnv(env: NodeJS.ProcessEnv, triggerId: string): Plain {
  const prefix = `${envPrefix(triggerId)}_`;
  const out: Plain = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined || value === '') continue;
    const key = name
      .slice(prefix.length)
      .toLowerCase()
      .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (key) out[key] = value;
  }
  return out;
}

export function envOverrides(env: NodeJS.ProcessEnv, providerIds: string[], triggerIds: string[] = []): Plain {
  const out: Plain = {
    role: env.ENRICHBOT_ROLE || undefined,
    port: numberOrUndefined(env.PORT),
    logLevel: env.LOG_LEVEL || undefined,
    mongodbUrl: env.MONGODB_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    redisTlsCaFile: env.REDIS_TLS_CA_FILE || undefined,
  };
  if (env.ENRICHBOT_QUEUE_PREFIX) out.queue = { prefix: env.ENRICHBOT_QUEUE_PREFIX };
  if (env.ENRICHBOT_ALLOW_PRIVATE_HOSTS) {
    out.net = { allowPrivateHosts: allowPrivateHostsFromEnv(env.ENRICHBOT_ALLOW_PRIVATE_HOSTS, env) };
  }
  if (env.ENRICHBOT_DNS_SERVERS) {
    out.net = { ...(out.net as Plain), dnsServers: env.ENRICHBOT_DNS_SERVERS.split(',').map((s) => s.trim()).filter(Boolean) };
  }
  const caps: Plain = {};
  if (env.ENRICHBOT_DAILY_CAP_USD) caps.dailyUsd = Number(env.ENRICHBOT_DAILY_CAP_USD);
  if (env.ENRICHBOT_WORKSPACE_DAILY_CAP_USD) caps.perWorkspaceDailyUsd = Number(env.ENRICHBOT_WORKSPACE_DAILY_CAP_USD);
  if (Object.keys(caps).length) out.spendCaps = caps;
  const providers: Plain = {};
  for (const id of providerIds) {
    const p = envPrefix(id);
    const entry: Plain = {};
    if (env[`${p}_API_KEY`]) entry.apiKey = env[`${p}_API_KEY`];
    if (env[`${p}_BASE_URL`]) entry.baseUrl = env[`${p}_BASE_URL`];
    // Providers that must identify the operator (SEC EDGAR) take a User-Agent the same way.
    if (env[`${p}_USER_AGENT`]) entry.userAgent = env[`${p}_USER_AGENT`];
    if (Object.keys(entry).length) providers[id] = entry;
  }
  if (Object.keys(providers).length) out.providers = providers;
  const arena: Plain = {};
  if (env.ENRICHBOT_ARENA_ENABLED) arena.enabled = env.ENRICHBOT_ARENA_ENABLED === 'true';
  if (env.ENRICHBOT_ARENA_USERNAME) arena.username = env.ENRICHBOT_ARENA_USERNAME;
  if (env.ENRICHBOT_ARENA_PASSWORD) arena.password = env.ENRICHBOT_ARENA_PASSWORD;
  const admin: Plain = {};
  if (env.ADMIN_PORT) admin.port = env.ADMIN_PORT;
  if (env.ADMIN_HOST) admin.host = env.ADMIN_HOST;
  if (env.ADMIN_TOKEN) admin.token = env.ADMIN_TOKEN;
  if (Object.keys(arena).length || Object.keys(admin).length) out.observability = { ...(Object.keys(arena).length ? { arena } : {}), ...(Object.keys(admin).length ? { admin } : {}) };
  if (env.ENRICHBOT_PRIVACY_SALT) out.service = { privacySalt: env.ENRICHBOT_PRIVACY_SALT };
  const triggers: Plain = {};
  for (const id of triggerIds) {
    const entry = triggerEnv(env, id);
    if (Object.keys(entry).length) triggers[id] = entry;
  }
  if (Object.keys(triggers).length) out.triggers = triggers;
  return out;
}

/**
 * ENRICHBOT_ALLOW_PRIVATE_HOSTS opens the SSRF guard for local test sites: IP addresses only (a
 * name could be re-pointed), and never in production, where it would let a user-chosen domain
 * reach internal services.
 */
function allowPrivateHostsFromEnv(value: string, env: NodeJS.ProcessEnv): string[] {
  if (env.NODE_ENV === 'production') {
    throw new StartupError([
      { code: ErrorCodes.CONFIG_INVALID, message: 'config: ENRICHBOT_ALLOW_PRIVATE_HOSTS is refused when NODE_ENV=production; unset it (it exists for local test sites only).' },
    ]);
  }
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  const problems: { code: ErrorCode; message: string }[] = [];
  for (const e of entries) {
    try {
      normalizeAllowedAddress(e);
    } catch {
      problems.push({ code: ErrorCodes.CONFIG_INVALID, message: `config: ENRICHBOT_ALLOW_PRIVATE_HOSTS: got ${JSON.stringify(redactText(e))}; IP addresses only (e.g. 127.0.0.1), no host names.` });
    }
  }
  if (problems.length) throw new StartupError(problems);
  return entries;
}

/** A value as shown in a config error: secrets hidden, URLs without credentials or query. */
function shownValue(key: string | undefined, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (key !== undefined && isSecretKey(key)) return REDACTED;
  return JSON.stringify(redactValue(value));
}

export function formatZodIssues(prefix: string, error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    let value: unknown = input;
    for (const p of issue.path) value = isPlain(value) || Array.isArray(value) ? (value as Plain)[p as string] : undefined;
    const last = issue.path.at(-1);
    const shown = shownValue(last === undefined ? undefined : String(last), value);
    return `${key}: got ${shown}; ${issue.message.replace(/^Invalid input: /, '')}`;
  });
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Applied last; tests use it instead of files. */
  overrides?: Plain;
  defaultFile?: string;
  /** false: start from the schema defaults only, not config/default.yaml (tests). */
  useDefaultFile?: boolean;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  let raw = options.useDefaultFile === false ? {} : readYaml(options.defaultFile ?? path.join(PACKAGE_ROOT, 'config', 'default.yaml'));
  if (env.ENRICHBOT_CONFIG) raw = deepMerge(raw, readYaml(path.resolve(env.ENRICHBOT_CONFIG)));
  if (options.overrides) raw = deepMerge(raw, options.overrides);
  const plugins = isPlain(raw.plugins) ? raw.plugins : {};
  // An out-of-tree provider is listed by package name or path; its id is in the waterfalls, so
  // <ID>_API_KEY and <ID>_BASE_URL reach it too.
  const waterfallIds = isPlain(raw.waterfalls) ? Object.values(raw.waterfalls).flatMap((ids) => (Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [])) : [];
  const providerIds = [...new Set([...(Array.isArray(plugins.providers) ? (plugins.providers as string[]) : []), ...waterfallIds])];
  const triggerIds = Array.isArray(plugins.triggers) ? (plugins.triggers as string[]) : [];
  raw = deepMerge(raw, envOverrides(env, providerIds, triggerIds));
  if (options.overrides) raw = deepMerge(raw, options.overrides);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StartupError(
      formatZodIssues('', parsed.error, raw).map((message) => ({ code: ErrorCodes.CONFIG_INVALID, message: `config: ${message}` })),
    );
  }
  const badHosts = parsed.data.net.allowPrivateHosts.filter((h) => {
    try {
      normalizeAllowedAddress(h);
      return false;
    } catch {
      return true;
    }
  });
  if (badHosts.length) {
    throw new StartupError(badHosts.map((h) => ({ code: ErrorCodes.CONFIG_INVALID, message: `config: net.allowPrivateHosts: got ${JSON.stringify(redactText(h))}; IP addresses only (e.g. 127.0.0.1), no host names.` })));
  }
  if (parsed.data.net.allowPrivateHosts.length && env.NODE_ENV === 'production') {
    throw new StartupError([{ code: ErrorCodes.CONFIG_INVALID, message: 'config: net.allowPrivateHosts must be empty when NODE_ENV=production; it exists for local test sites only.' }]);
  }
  const caProblem = redisCaProblem(parsed.data);
  if (caProblem) throw new StartupError([{ code: ErrorCodes.CONFIG_INVALID, message: `config: redisTlsCaFile (REDIS_TLS_CA_FILE): ${caProblem}` }]);
  return parsed.data;
}

/** A CA file that cannot serve: unreadable, not PEM, or set for a connection without TLS. */
function redisCaProblem(c: Config): string | undefined {
  if (c.redisTlsCaFile === undefined) return undefined;
  if (!/^rediss:\/\//.test(c.redisUrl)) return `set, but REDIS_URL is not rediss:// (TLS); use rediss:// or unset REDIS_TLS_CA_FILE.`;
  let pem: string;
  try {
    pem = readFileSync(c.redisTlsCaFile, 'utf8');
  } catch (err) {
    return `cannot read ${c.redisTlsCaFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of the CA certificate file (PEM).`;
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return `${c.redisTlsCaFile} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); give the CA certificate file your Redis provider publishes.`;
  return undefined;
}
