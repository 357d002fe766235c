// The plugin contract. A plugin is one folder under plugins/providers/<id>/ or
// plugins/triggers/<id>/ that default-exports one of these definitions. Plugins receive what
// they need through an injected context and never import the core's singletons (there are none).
import type { z } from 'zod';
import type { Router } from 'express';
import type { Logger } from '../logger.js';
import type { ProviderSettings, Config } from '../config/schema.js';
import type { FieldPath } from '../engine/fields.js';
import type { ProviderHttp } from '../net/provider-http.js';
import type { SafeFetch } from '../net/safe-fetch.js';
import type { Store } from '../store/store.js';
import type { EnrichQueue } from '../queue/enrich-queue.js';
import type { Clock } from '../clock.js';
import type { JobResult, ReplyTo } from '../engine/types.js';

/** What a provider may be given. Everything is already normalized by the engine. */
export interface LookupInput {
  workEmail?: string;
  personalEmail?: string;
  firstName?: string;
  lastName?: string;
  fullName?: string;
  title?: string;
  linkedinUrl?: string;
  domain?: string;
  companyName?: string;
  companyLinkedinUrl?: string;
  ticker?: string;
  secCik?: string;
  /** Values known so far for the subject, for providers that summarize (Claude). */
  known?: Partial<Record<FieldPath, unknown>>;
}
export type InputKey = Exclude<keyof LookupInput, 'known'>;

export type MatchedResult = {
  outcome: 'matched';
  fields: Partial<Record<FieldPath, unknown>>;
  /** 0..1, from the provider where it reports one, otherwise the plugin's documented default. */
  confidence: number;
  fieldConfidence?: Partial<Record<FieldPath, number>>;
  raw?: unknown;
  httpStatus?: number;
  /** The actual cost when the provider reports it (Exa costDollars, Claude tokens). */
  costUsd?: number;
  usage?: { inputTokens?: number; outputTokens?: number; credits?: number };
};
export type NoMatchResult = {
  outcome: 'no_match';
  reason?: string;
  raw?: unknown;
  httpStatus?: number;
  costUsd?: number;
  usage?: { inputTokens?: number; outputTokens?: number; credits?: number };
};
export type LookupResult = MatchedResult | NoMatchResult;

export interface LookupContext<C = unknown> {
  /** The plugin's own parsed config (its configSchema applied to providers.<id>). */
  config: C;
  /** Engine-level settings for this provider: apiKey, baseUrl, costs, rate, freshness. */
  settings: ProviderSettings;
  http: ProviderHttp;
  /** Fetch for user-supplied hosts: refuses private, loopback and link-local addresses. */
  safeFetch: SafeFetch;
  logger: Logger;
  signal: AbortSignal;
}

export interface ProviderOperation<C = unknown> {
  /** Stable name used in costs config and the ledger, e.g. "enrich-person". */
  name: string;
  /** Alternative input sets; the first whose keys are all present is used. */
  needs: InputKey[][];
  returns: FieldPath[];
  lookup(input: LookupInput, ctx: LookupContext<C>): Promise<LookupResult>;
}

interface PluginBase<S extends z.ZodType> {
  id: string;
  description: string;
  configSchema: S;
  /** Ids of plugins that must be enabled and listed before this one. */
  dependencies?: string[];
}

export interface ProviderPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<S> {
  kind: 'provider';
  /** A paid provider needs `<ID>_API_KEY`; without it, it is skipped (or fails start-up if enabled: true). */
  requiresApiKey: boolean;
  /** Defaults the operator's config may override: the real host, published prices, rate limit. */
  defaults: {
    baseUrl?: string;
    costs?: Record<string, { usd: number; missCharged: boolean }>;
    ratePerSecond?: number;
  };
  operations: ProviderOperation<z.infer<S>>[];
  init?(ctx: PluginContext<z.infer<S>>): Promise<void> | void;
  start?(ctx: PluginContext<z.infer<S>>): Promise<void> | void;
  stop?(ctx: PluginContext<z.infer<S>>): Promise<void> | void;
}

export interface TriggerPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<S> {
  kind: 'trigger';
  /** Where its HTTP routes are mounted (default /<id>). */
  mountPath?: string;
  init?(ctx: PluginContext<z.infer<S>>): Promise<void> | void;
  start?(ctx: PluginContext<z.infer<S>>): Promise<void> | void;
  stop?(ctx: PluginContext<z.infer<S>>): Promise<void> | void;
  /** Hands a finished job back to where it came from (a Slack channel, a HubSpot record...). */
  deliver?(result: JobResult, replyTo: ReplyTo, ctx: PluginContext<z.infer<S>>): Promise<void>;
}

export type Plugin = ProviderPlugin | TriggerPlugin;

export interface PluginContext<C = unknown> {
  id: string;
  logger: Logger;
  config: C;
  appConfig: Config;
  store: Store;
  queue: EnrichQueue;
  router: Router;
  safeFetch: SafeFetch;
  clock: Clock;
  /** Providers only: the engine-level settings (apiKey, baseUrl, costs...). */
  settings?: ProviderSettings;
}

/** Identity helpers so a plugin file gets full type inference for its config. */
export function defineProvider<S extends z.ZodType>(plugin: ProviderPlugin<S>): ProviderPlugin<S> {
  return plugin;
}
export function defineTrigger<S extends z.ZodType>(plugin: TriggerPlugin<S>): TriggerPlugin<S> {
  return plugin;
}
