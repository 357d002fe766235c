// Builds the engine's view of each loaded provider: its settings, base URL, prices and its own
// resilience policy (one circuit breaker per provider, kept in Redis when given one so every
// worker process shares it).
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { ProviderPlugin } from '../plugin/contract.js';
import type { LoadedPlugin } from '../plugin/registry.js';
import { createProviderPolicy } from './resilience.js';
import type { ProviderRuntime } from './provider-call.js';

export function buildProviderRuntimes(loaded: Map<string, LoadedPlugin>, config: Config, logger: Logger, shared?: { redis: Redis; prefix: string; clock?: Clock }): Map<string, ProviderRuntime> {
  const out = new Map<string, ProviderRuntime>();
  for (const [id, l] of loaded) {
    const plugin = l.plugin as ProviderPlugin;
    const settings = { ...l.settings!, ratePerSecond: l.settings!.ratePerSecond ?? plugin.defaults.ratePerSecond };
    const log = logger.child({ provider: id });
    const policy = createProviderPolicy(
      {
        ...config.resilience,
        timeoutMs: settings.timeoutMs ?? config.resilience.timeoutMs,
        breakerCooldownMs: settings.breakerCooldownMs ?? config.resilience.breakerCooldownMs,
      },
      {
        onRetry: ({ attempt, delay, error }) => log.warn({ attempt, delayMs: delay, error: (error as Error)?.message }, 'retrying provider call'),
        shared: shared ? { redis: shared.redis, key: `${shared.prefix}:breaker:${id}` } : undefined,
        // The breaker's cool-down runs on the app's clock, so tests move time instead of sleeping.
        now: shared?.clock ? () => shared.clock!.now().getTime() : undefined,
      },
    );
    out.set(id, {
      id,
      plugin,
      enabled: l.enabled,
      disabledReason: l.disabledReason,
      settings,
      config: l.config,
      logger: log,
      baseUrl: settings.baseUrl ?? plugin.defaults.baseUrl ?? '',
      policy,
      pacePerSecond: settings.ratePerSecond ? settings.ratePerSecond * (1 - config.resilience.rateHeadroom) : undefined,
      cost: (op) => settings.costs[op] ?? plugin.defaults.costs?.[op] ?? { usd: 0, missCharged: false },
    });
  }
  return out;
}
