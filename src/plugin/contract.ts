// The plugin contract. A plugin is one folder under plugins/providers/<id>/ or
// plugins/triggers/<id>/ that default-exports one of these definitions. Plugins receive what
// they need through an injected context and never import the core's singletons (there are none).
import type { z } from 'zod';
import type { Command } from 'commander';
import type { Router } from 'express';
import type { Collection } from 'mongodb';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { ProviderSettings } from '../config/schema.js';
import type { FieldPath } from '../engine/fields.js';
import type { ProviderHttp } from '../net/provider-http.js';
import type { SafeFetch } from '../net/safe-fetch.js';
import type { Clock } from '../clock.js';
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { PluginErrorCode } from '../errors.js';
import type { AcquireLease, BatchEstimate, BatchStatus, CsvModule, EnrichService, JobChangeNotice, NotifyMessage, NotifyResult, Schedule } from './service.js';

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

/** What a provider's account endpoint says about its credits. */
export interface CreditBalance {
  credits: number;
  /** The plan's price per credit, when the plugin's config knows it: the balance in USD. */
  usdPerCredit?: number;
  plan?: string;
  /** When the plan's credits renew (ISO), if the provider says. */
  renewsAt?: string;
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
  /** Metrics it keeps: the core shows them on /metrics; the plugin records them through `ctx.metrics`. */
  metrics?: MetricDefinition[];
  /** Its own coded errors with what the user can do (`defineErrors`), checked against the core's and every other plugin's. */
  errors?: ErrorCatalogue;
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
  /**
   * Reads the account's remaining credits from the provider's own free account endpoint, on a
   * schedule (never per job). Only for a provider whose docs name such an endpoint; without it
   * `enrichbot credits` says the provider has none.
   */
  balance?(ctx: LookupContext<z.infer<S>>): Promise<CreditBalance>;
  init?(ctx: ProviderContext<z.infer<S>>): Promise<void> | void;
  start?(ctx: ProviderContext<z.infer<S>>): Promise<void> | void;
  stop?(ctx: ProviderContext<z.infer<S>>): Promise<void> | void;
  /** `enrichbot` subcommands it adds while it is enabled. */
  cli?: PluginCli<ProviderContext<z.infer<S>>>;
}

/** Where a trigger runs: `web` (HTTP routes, webhooks), `worker` (schedules, deliveries). */
export type TriggerRole = 'web' | 'worker';

export interface TriggerPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<S> {
  kind: 'trigger';
  /** Roles it starts in (default both). One-shot CLI commands start no trigger but the CLI's own. */
  roles?: TriggerRole[];
  /** Where its HTTP routes are mounted (default /<id>). */
  mountPath?: string;
  init?(ctx: TriggerContext<z.infer<S>>): Promise<void> | void;
  start?(ctx: TriggerContext<z.infer<S>>): Promise<void> | void;
  stop?(ctx: TriggerContext<z.infer<S>>): Promise<void> | void;
  /** Hands a finished job back to where it came from (a Slack channel, a HubSpot record...). */
  deliver?(result: JobResult, replyTo: ReplyTo, ctx: TriggerContext<z.infer<S>>): Promise<void>;
  /** A batch's progress (throttled: at most one call per batch every `batch.progressIntervalMs`). */
  batchProgress?(status: BatchStatus, replyTo: ReplyTo, ctx: TriggerContext<z.infer<S>>): Promise<void>;
  /** A batch finished (every item done, failed or cancelled): called once, on one worker. */
  deliverBatch?(status: BatchStatus, replyTo: ReplyTo, ctx: TriggerContext<z.infer<S>>): Promise<void>;
  /**
   * Other triggers may ask this one to act on a stored record through `service.push`
   * (Slack's "Push to HubSpot" reaches the HubSpot trigger this way, never its token).
   */
  push?(request: PushRequest, ctx: TriggerContext<z.infer<S>>): Promise<PushResult>;
  /** Conflicts it keeps for review, listed or settled for one workspace (through `service.conflicts`). */
  conflicts?(request: import('./service.js').ConflictRequest, ctx: TriggerContext<z.infer<S>>): Promise<import('./service.js').ConflictAnswer>;
  /**
   * Other triggers may ask this one to post a message through `service.notify` (the digest posts
   * to Slack this way, never holding Slack's token).
   */
  notify?(message: NotifyMessage, ctx: TriggerContext<z.infer<S>>): Promise<NotifyResult>;
  /**
   * The one workspace this trigger serves, when it serves exactly one (Slack with a single bot
   * token): the operator's own, which a destination binds to itself by default (`PushRequest.fromSoleWorkspace`).
   */
  soleWorkspace?(ctx: TriggerContext<z.infer<S>>): Promise<string | undefined>;
  /** A refresh found a person's job change: called once per change, on the worker that found it. */
  jobChanged?(notice: JobChangeNotice, ctx: TriggerContext<z.infer<S>>): Promise<void>;
  /** `enrichbot` subcommands it adds while it is enabled (`enrichbot hubspot backfill`, `enrichbot api-key`). */
  cli?: PluginCli<TriggerContext<z.infer<S>>>;
  /** What pushes to it count as, for a trigger that takes them (a CRM): how reports name it, and its /metrics counter. */
  pushActivity?: PushActivity;
}

/**
 * `enrichbot` subcommands of a plugin. The core mounts them while the plugin is enabled; while it
 * is not, `enrichbot --help` and the command names say how to enable it instead.
 */
export interface PluginCli<X = TriggerContext> {
  /** Adds the commands to `program` (commander). Called at every CLI start: define commands here, run nothing. */
  register(program: Command, cli: CliContext<X>): void;
  /** What enabling it takes besides listing it, said while it is disabled: "set HUBSPOT_ACCESS_TOKEN and ...". */
  setup?: string;
}

/** What a plugin's command is given. A command that throws is reported with its code, exit status 1. */
export interface CliContext<X = TriggerContext> {
  /**
   * Starts enrichbot for this one command, runs `fn` with the plugin's own started context, stops
   * it and exits with the code `fn` returns (an error is printed with its code, exit status 1).
   */
  run(options: CliRunOptions, fn: (ctx: X) => Promise<number>): Promise<never>;
  /** Who runs it, for the activity log: `cli:<user>`. */
  actor: string;
  /** Asks yes or no on a terminal; in a pipe nobody can say yes, so it says to add --yes and answers no. */
  confirm(question: string): Promise<boolean>;
  /** An estimate as the CLI prints it: one line per field group and a total. */
  formatEstimate(estimate: BatchEstimate): string;
}

export interface CliRunOptions {
  /**
   * `client` (default): only the CLI's own trigger, this plugin and `alongside` start, and jobs are
   * queued for the workers. `worker`: the process starts as a worker (every trigger of that role,
   * and it works the queue), as `hubspot backfill` needs to write its results back.
   */
  role?: 'client' | 'worker';
  /** Other triggers to start in the client role (the digest posts through Slack's `notify`). */
  alongside?: string[];
}

/** A metric a plugin keeps, kept in Redis so the web role's /metrics shows every process's counts. */
export interface MetricDefinition {
  /** `enrichbot_<plugin id, dashes as underscores>_<what>`; a counter's name ends in `_total`. */
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labelNames?: string[];
}

/** Records the plugin's declared metrics (`metrics`); a name it did not declare is refused. */
export interface MetricsRecorder {
  inc(name: string, labels?: Record<string, string>, by?: number): Promise<void>;
  set(name: string, value: number, labels?: Record<string, string>): Promise<void>;
}

/**
 * What pushes to a destination count as. The core counts each `push` activity entry whose
 * `detail.destination` is the trigger's id (a `service.push` that succeeded, and the failures the
 * trigger logs itself with `ok: false`) by result, and lists the failures in the daily report.
 */
export interface PushActivity {
  /** How reports name where it writes: "HubSpot" gives the digest's "HubSpot records that failed to write". */
  label: string;
  /** A counter of those entries by `result` (ok, failed) on /metrics: `enrichbot_<id>_writes_total`. */
  metric?: { name: string; help: string };
}

/** A plugin's error codes, each with what the user can do about it (see `defineErrors`). */
export type ErrorCatalogue = Record<string, { code: PluginErrorCode; help: string }>;

// Defined beside the service that carries them (service.ts must not import this file: no cycle).
export type { NotifyMessage, NotifyResult } from './service.js';

export interface PushRequest {
  /** The workspace the push came from: its records are sent, and the destination checks it is bound to it. */
  workspace: string;
  /** True when `workspace` is the sole workspace of an enabled trigger (single-workspace Slack). */
  fromSoleWorkspace?: boolean;
  person?: import('./service.js').RecordView;
  company?: import('./service.js').RecordView;
  by: string;
}
export interface PushResult {
  /** What was written where, for a message ("contact 123 updated: 4 fields"). */
  summary: string;
  /** Fields the destination already had and kept (default policy: fill empty only). */
  kept?: string[];
}

export type Plugin = ProviderPlugin | TriggerPlugin;

interface ContextBase<C> {
  id: string;
  logger: Logger;
  /** The plugin's own parsed config: nothing of any other plugin's. */
  config: C;
  clock: Clock;
  /** Records the metrics it declares in `metrics`. */
  metrics: MetricsRecorder;
}

export interface ProviderContext<C = unknown> extends ContextBase<C> {
  /** The engine-level settings (apiKey, baseUrl, costs...). */
  settings?: ProviderSettings;
  safeFetch: SafeFetch;
}

export interface TriggerContext<C = unknown> extends ContextBase<C> {
  /** The only way a trigger reaches the core. */
  service: EnrichService;
  /** Routes under the trigger's mount path (web role; detached elsewhere). */
  router: Router;
  /** The process's role: a trigger may register routes only on `web`, schedules only on `worker`. */
  role: 'web' | 'worker' | 'all' | 'client';
  schedule: Schedule;
  lease: AcquireLease;
  csv: CsvModule;
  /**
   * A MongoDB collection of the plugin's own (named `plugin_<id>_<name>`), for what only it keeps
   * (API keys, Slack installations, HubSpot conflicts). FerretDB rules apply: no TTL indexes,
   * no dotted keys, conditional updates are not locks (take a `lease`).
   */
  collection(name: string): Collection;
  /** Redis with the plugin's own key prefix (dedup keys, rate limits, throttles). */
  redis: Redis;
  /** Fetches a user-supplied URL (a webhook's callbackUrl) through the SSRF guard. */
  safeFetch: SafeFetch;
}

/** Either context, where the registry handles both kinds alike. */
export type PluginContext<C = unknown> = ProviderContext<C> | TriggerContext<C>;

/** Identity helpers so a plugin file gets full type inference for its config. */
export function defineProvider<S extends z.ZodType>(plugin: ProviderPlugin<S>): ProviderPlugin<S> {
  return plugin;
}
export function defineTrigger<S extends z.ZodType>(plugin: TriggerPlugin<S>): TriggerPlugin<S> {
  return plugin;
}
