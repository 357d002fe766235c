// Calls one provider operation the way the engine does (real HTTP through the core's
// provider-http, the plugin's parsed config), without queue or database: for plugin tests.
import { ProviderSettingsSchema } from '../../src/config/schema.js';
import { createProviderHttp } from '../../src/net/provider-http.js';
import { createSafeFetch } from '../../src/net/safe-fetch.js';
import { createLogger } from '../../src/logger.js';
import { envPrefix } from '../../src/config/load.js';
import type { LookupInput, LookupResult, ProviderPlugin } from '../../src/plugin/contract.js';
import { ProviderError } from '../../src/engine/provider-error.js';

export interface HarnessOptions {
  baseUrl: string;
  apiKey?: string;
  /** The plugin's own config block (providers.<id>). */
  config?: Record<string, unknown>;
  timeoutMs?: number;
  dnsServers?: string[];
  allowPrivateHosts?: string[];
}

export async function lookup(plugin: ProviderPlugin, operation: string, input: LookupInput, opts: HarnessOptions): Promise<LookupResult> {
  const op = plugin.operations.find((o) => o.name === operation);
  if (!op) throw new Error(`${plugin.id} has no operation ${operation}`);
  const raw = { ...(opts.config ?? {}), apiKey: opts.apiKey, baseUrl: opts.baseUrl };
  const settings = ProviderSettingsSchema.parse(raw);
  const parsed = plugin.configSchema.parse(raw);
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 10000);
  return op.lookup(input, {
    config: parsed,
    settings,
    http: createProviderHttp({ providerId: plugin.id, baseUrl: opts.baseUrl, signal, keyEnvName: `${envPrefix(plugin.id)}_API_KEY` }),
    safeFetch: createSafeFetch({
      allowPrivateHosts: opts.allowPrivateHosts ?? [],
      maxBodyBytes: 1_000_000,
      fetchTimeoutMs: 5000,
      maxRedirects: 5,
      userAgent: 'enrichbot-test',
      dnsServers: opts.dnsServers,
    }),
    logger: createLogger({ level: 'silent' }),
    signal,
  });
}

/** The ProviderError a lookup failed with (anything else, or success, fails the test). */
export async function providerFailure(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProviderError) return err;
    throw err;
  }
  throw new Error('expected the lookup to fail with a ProviderError');
}
