// The composition root: builds the shared services once (logger, store, Redis, queue, engine,
// HTTP) and hands them to plugins through their contexts. Roles: web serves HTTP, worker
// consumes the queue, all does both.
import { Redis } from 'ioredis';
import express from 'express';
import type { Config } from './config/schema.js';
import { createLogger, type Logger } from './logger.js';
import { connectStore, redactUrl, type Store } from './store/store.js';
import { EnrichQueue, cancelKey, jobIdOfBee, runOfBee } from './queue/enrich-queue.js';
import { JobRunner } from './queue/job-runner.js';
import { answerRequesters, claimKey, type Delivery } from './queue/requesters.js';
import { Registry, type PluginLoader } from './plugin/registry.js';
import type { Plugin, PluginContext, ProviderContext, PushRequest, PushResult, TriggerContext, TriggerPlugin } from './plugin/contract.js';
import type { BatchStatus, BreakerState, EnrichService, SubmitResult } from './plugin/service.js';
import { Engine } from './engine/engine.js';
import { buildProviderRuntimes } from './engine/provider-runtime.js';
import { Ledger } from './engine/ledger.js';
import { ProviderCache } from './engine/provider-cache.js';
import { SpendCap } from './engine/spend-cap.js';
import { RequestBudgets } from './engine/request-budget.js';
import { estimateBatch } from './service/estimate.js';
import { refreshBalances, storedBalances, type BalanceRow } from './service/credit-balances.js';
import { RateLimiter } from './engine/rate-limit.js';
import { createSafeFetch, type SafeFetch } from './net/safe-fetch.js';
import { answersWithin, createAdminServer, createHttpServer, type HttpServer, type Listener } from './http/server.js';
import { mountMetrics } from './http/metrics.js';
import { mountArena } from './http/arena.js';
import { Sweeper } from './sweeper.js';
import { systemClock, type Clock } from './clock.js';
import type { EnrichRequestInput, JobResult, ReplyTo } from './engine/types.js';
import { EnrichbotError, ErrorCodes, errorMessage } from './errors.js';
import type { ProviderRuntime } from './engine/provider-call.js';
import { EnrichServiceImpl, BATCH_REPLY_TRIGGER } from './service/enrich-service.js';
import { Leases } from './platform/lease.js';
import { Scheduler, type ScheduleOptions } from './platform/scheduler.js';
import { csvModule } from './csv/index.js';
import { cliTrigger } from './cli/cli-trigger.js';
import { announceJobChange } from './service/job-change-notice.js';

export interface AppOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  loader?: PluginLoader;
  plugins?: Record<string, Plugin>;
  /** DNS servers for user-supplied hosts (tests point this at a local server). */
  dnsServers?: string[];
  /**
   * Override the role from config. `client`: a one-shot CLI command that queues and waits; it
   * starts no trigger but the CLI's own, no worker and no HTTP server.
   */
  role?: Config['role'] | 'client';
  /**
   * In the `client` role, triggers to start besides the CLI's own: a one-shot command that needs
   * a trigger's context (`enrichbot api-key` manages the HTTP API's keys in its collection).
   */
  clientTriggers?: string[];
  /** Test hooks (fault injection in child processes): called at the named instant. */
  hooks?: { afterRunDone?: (jobId: string, run: number) => void };
}

/** Triggers every process has, whatever the config lists: the CLI answers its own commands. */
const BUILTIN_TRIGGERS: Record<string, Plugin> = { cli: cliTrigger as unknown as Plugin };

export class App {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly role: Config['role'] | 'client';
  private readonly clientTriggers: string[];
  private readonly hooks: NonNullable<AppOptions['hooks']>;
  store!: Store;
  redis!: Redis;
  queue!: EnrichQueue;
  engine!: Engine;
  providers!: Map<string, ProviderRuntime>;
  spendCap!: SpendCap;
  service!: EnrichServiceImpl;
  leases!: Leases;
  safeFetch: SafeFetch;
  http?: HttpServer;
  port?: number;
  /** The admin listener (/metrics, /arena) and its port, on the web role. */
  admin?: Listener;
  adminPort?: number;
  sweeper?: Sweeper;
  private runner?: JobRunner;
  ledger!: Ledger;
  private scheduler?: Scheduler;
  private stopping?: Promise<void>;
  private closeArena?: () => Promise<void>;

  constructor(opts: AppOptions) {
    this.config = opts.config;
    this.role = opts.role ?? opts.config.role;
    this.clientTriggers = opts.clientTriggers ?? [];
    this.hooks = opts.hooks ?? {};
    this.logger = opts.logger ?? createLogger({ level: opts.config.logLevel });
    this.clock = opts.clock ?? systemClock;
    this.registry = new Registry({ config: this.config, logger: this.logger, loader: opts.loader, plugins: opts.plugins, builtins: BUILTIN_TRIGGERS });
    this.safeFetch = createSafeFetch({ ...this.config.net, dnsServers: opts.dnsServers ?? this.config.net.dnsServers, logger: this.logger });
  }

  get isWorker(): boolean {
    return this.role === 'worker' || this.role === 'all';
  }
  /** The address the admin listener is bound to (127.0.0.1 by default). */
  get adminAddress(): string | undefined {
    return this.admin?.address();
  }
  get isWeb(): boolean {
    return this.role === 'web' || this.role === 'all';
  }

  /** Validates plugins first (bad config fails before touching any service), then connects and starts. */
  async start(): Promise<this> {
    await this.registry.load();
    this.store = await connectStore(this.config.mongodbUrl);
    this.redis = new Redis(this.config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
    try {
      await this.redis.connect();
    } catch (err) {
      await this.store.close();
      throw new EnrichbotError(ErrorCodes.SERVICE_UNREACHABLE, `Redis is not reachable at ${redactUrl(this.config.redisUrl)}: start it (redis-server) or set REDIS_URL.`, { cause: err });
    }
    const { prefix } = this.config.queue;
    this.leases = new Leases(this.redis, prefix, this.logger.child({ part: 'lease' }));
    this.ledger = new Ledger(this.store.models, this.config.engine.rawResponseMaxBytes);
    this.queue = new EnrichQueue({
      leases: this.leases,
      redis: this.redis,
      redisUrl: this.config.redisUrl,
      prefix,
      store: this.store,
      clock: this.clock,
      logger: this.logger.child({ part: 'queue' }),
      isWorker: this.isWorker,
      stallIntervalMs: this.config.queue.stallIntervalMs,
      retries: this.config.queue.retries,
      retryBackoffMs: this.config.queue.retryBackoffMs,
      jobRetentionDays: this.config.sweeper.jobRetentionDays,
    });
    await this.queue.ready();

    this.providers = buildProviderRuntimes(this.registry.providers, this.config, this.logger, { redis: this.redis, prefix, clock: this.clock });
    this.spendCap = new SpendCap(this.redis, this.store.models, this.config.spendCaps, this.clock, prefix);
    this.engine = new Engine({
      config: this.config,
      store: this.store,
      logger: this.logger.child({ part: 'engine' }),
      clock: this.clock,
      providers: this.providers,
      leases: this.leases,
      services: {
        ledger: this.ledger,
        cache: new ProviderCache(this.store.models),
        spendCap: this.spendCap,
        budgets: new RequestBudgets(this.redis, this.store.models, prefix),
        rateLimiter: new RateLimiter(this.redis, prefix),
        clock: this.clock,
        safeFetch: this.safeFetch,
      },
    });

    this.service = new EnrichServiceImpl({
      config: this.config,
      store: this.store,
      redis: this.redis,
      queue: this.queue,
      clock: this.clock,
      logger: this.logger.child({ part: 'service' }),
      leases: this.leases,
      triggerExists: (id) => !!this.registry.triggers.get(id)?.enabled,
      notifyTrigger: (kind, status, replyTo) => this.notifyBatch(kind, status, replyTo),
      answer: async (result, requesters) => {
        if (!this.isWorker) return false;
        await answerRequesters(requesters, result, (r, to) => this.deliver(r, to), (keys) => this.claimMany(keys), this.logger);
        return true;
      },
      estimator: (items, options) => estimateBatch({ config: this.config, models: this.store.models, providers: this.providers, spendCap: this.spendCap, clock: this.clock }, items, options),
      pushTo: (destination, request) => this.pushTo(destination, request),
      conflictsVia: async (destination, request) => {
        const t = this.triggerFor(destination);
        if (!t?.plugin.conflicts) throw new EnrichbotError(ErrorCodes.PUSH_UNAVAILABLE, `No enabled trigger "${destination}" keeps conflicts here: enable it (plugins.triggers) with its credentials.`);
        if (request.op === 'count') return t.plugin.conflicts(request, t.ctx);
        return t.plugin.conflicts({ ...request, fromSoleWorkspace: (await this.soleWorkspaces()).includes(request.workspace) }, t.ctx);
      },
      notifyVia: async (destination, message) => {
        const t = this.triggerFor(destination);
        if (!t?.plugin.notify) throw new EnrichbotError(ErrorCodes.PUSH_UNAVAILABLE, `No enabled trigger "${destination}" can post messages here: enable it (plugins.triggers) with its credentials.`);
        return t.plugin.notify(message, t.ctx);
      },
      notifiers: () => [...this.registry.triggers.keys()].filter((id) => !!this.triggerFor(id)?.plugin.notify),
      breakerStates: () => this.breakerStates(),
    });

    if (this.isWeb) {
      this.http = createHttpServer({ logger: this.logger, ready: () => this.readiness() });
      const { metrics, arena, admin } = this.config.observability;
      if (metrics || arena.enabled) this.admin = createAdminServer();
      if (metrics) {
        const deps = { redis: this.redis, prefix, clock: this.clock, queueHealth: () => this.service.queueHealth(), capUsage: () => this.service.capUsage(), breakerStates: () => this.breakerStates() };
        mountMetrics(this.admin!.app, deps, admin.token);
      }
      if (arena.enabled) this.closeArena = mountArena(this.admin!.app, { path: arena.path, username: arena.username!, password: arena.password!, redisUrl: this.config.redisUrl, prefix });
    }
    await this.registry.start(
      (loaded) => this.contextFor(loaded.plugin, loaded.config, loaded.settings),
      (loaded) => loaded.plugin.kind === 'provider' || this.runsTrigger(loaded.plugin as TriggerPlugin),
    );

    if (this.isWorker) {
      this.runner = new JobRunner({
        store: this.store,
        engine: this.engine,
        clock: this.clock,
        logger: this.logger.child({ part: 'worker' }),
        deliver: (result, to) => this.deliver(result, to),
        claim: (keys) => this.claimMany(keys),
        isCancelled: async (jobId) => (await this.redis.exists(cancelKey(prefix, jobId))) === 1,
        leases: this.leases,
        redis: this.redis,
        prefix,
        ledger: this.ledger,
        maxStalls: this.config.queue.maxStalls,
        runLeaseTtlMs: Math.max(3 * this.config.queue.stallIntervalMs, 3000),
        onFinished: async (result) => {
          await this.service.jobFinished(result);
          if (result.jobChange) await announceJobChange({ models: this.store.models, logger: this.logger, triggers: () => this.runningTriggers() }, result);
        },
        ...(this.hooks.afterRunDone ? { afterRunDone: this.hooks.afterRunDone } : {}),
      });
      // bee-queue also emits 'failed' for an attempt it will retry (bee-queue #184): only
      // 'failed:fatal' (untyped in its .d.ts) is the last attempt.
      this.queue.bee.on('failed:fatal' as 'failed', (job, err) => void this.runner!.giveUp(job.data, jobIdOfBee(job.id), runOfBee(job.id), err).catch((e) => this.logger.error({ err: e }, 'could not record failure')));
      this.queue.process(this.config.queue.concurrency, (req, id, run) => this.runner!.handle(req, id, run));
      this.sweeper = new Sweeper({ store: this.store, clock: this.clock, logger: this.logger.child({ part: 'sweeper' }), queue: this.queue, rawRetentionDays: this.config.sweeper.ledgerRawRetentionDays, requeueAfterMs: this.config.sweeper.requeueAfterMs, leases: this.leases, ledger: this.ledger, reconcileSpend: () => this.spendCap.reconcile(), resumeBatchQueueing: () => this.service.batches.resumeQueueing(), finishStalledBatches: () => this.service.batches.finishStalled() });
      this.sweeper.start(this.config.sweeper.intervalMs);
      // A reading, not a task: a missed hour is read at the next one, not at every process's start.
      this.schedule('provider-balances', this.config.providerBalances.cron, 'UTC', async () => void (await this.refreshBalances()), { catchUp: false });
    }
    if (this.http) {
      this.port = await this.http.listen(this.config.port);
      this.logger.info({ port: this.port, role: this.role }, 'enrichbot web listening');
    }
    if (this.admin) {
      const { host, port } = this.config.observability.admin;
      this.adminPort = await this.admin.listen(port, host).catch((err: unknown) => {
        throw new EnrichbotError(ErrorCodes.CONFIG_INVALID, `The admin listener (/metrics, /arena) cannot listen on ${host}:${port} (${errorMessage(err)}): set ADMIN_PORT or observability.admin.port to a free port.`, { cause: err });
      });
      this.logger.info({ port: this.adminPort, host }, 'enrichbot admin listening (/metrics, /arena)');
    }
    this.logger.info({ role: this.role, providers: [...this.providers.values()].filter((p) => p.enabled).map((p) => p.id) }, 'enrichbot started');
    return this;
  }

  private readonly pluginRedises = new Map<string, Redis>();
  /** One Redis connection per trigger, every key under `<prefix>:plugin:<id>:`. */
  private pluginRedis(id: string): Redis {
    let r = this.pluginRedises.get(id);
    if (!r) {
      r = this.redis.duplicate({ keyPrefix: `${this.config.queue.prefix}:plugin:${id}:`, lazyConnect: true });
      this.pluginRedises.set(id, r);
    }
    return r;
  }

  /** A trigger starts only in the roles it declares; a one-shot CLI command starts only the CLI's. */
  private runsTrigger(plugin: TriggerPlugin): boolean {
    if (this.role === 'client') return plugin.id === 'cli' || this.clientTriggers.includes(plugin.id);
    const roles = plugin.roles ?? ['web', 'worker'];
    return (this.isWeb && roles.includes('web')) || (this.isWorker && roles.includes('worker'));
  }

  /**
   * What a trigger holds of the service: its methods and nothing else, so no plugin can walk
   * from its context to the config (and another plugin's API key).
   */
  private serviceFacade(): EnrichService {
    const impl = this.service;
    const methods: (keyof EnrichService)[] = ['submit', 'submitBatch', 'estimate', 'keepEstimate', 'batchConfirmAboveUsd', 'status', 'cancel', 'waitFor', 'waitForBatch', 'onBatchProgress', 'results', 'record', 'ageingRecords', 'correct', 'forget', 'unforget', 'isForgotten', 'spend', 'activity', 'logActivity', 'push', 'conflicts', 'notify', 'alert', 'dailyReport', 'spendSeries', 'queueHealth', 'providerOutages', 'providerStatus', 'breakerStates', 'capUsage', 'listJobs', 'listBatches', 'usage'];
    const facade = Object.create(null) as Record<string, unknown>;
    for (const m of methods) {
      const fn = impl[m] as (...args: unknown[]) => unknown;
      facade[m] = (...args: unknown[]) => fn.apply(impl, args);
    }
    return Object.freeze(facade) as unknown as EnrichService;
  }

  private contextFor(plugin: Plugin, config: unknown, settings?: ProviderContext['settings']): PluginContext {
    const base = { id: plugin.id, logger: this.logger.child({ plugin: plugin.id }), config, clock: this.clock };
    if (plugin.kind === 'provider') return { ...base, settings, safeFetch: this.safeFetch } satisfies ProviderContext;
    const mount = (plugin as TriggerPlugin).mountPath ?? `/${plugin.id}`;
    const router = this.http ? this.http.routerFor(mount) : createDetachedRouter();
    return {
      ...base,
      service: this.serviceFacade(),
      router,
      role: this.role,
      lease: (key, ttlMs) => this.leases.acquire(`${plugin.id}:${key}`, ttlMs),
      schedule: (name, cron, timeZone, fn, opts) => this.schedule(`${plugin.id}:${name}`, cron, timeZone, fn, opts),
      csv: csvModule,
      collection: (name) => {
        if (!/^[a-z][a-z0-9_]{0,40}$/.test(name)) throw new EnrichbotError(ErrorCodes.PLUGIN_INVALID, `collection name "${name}" of plugin ${plugin.id}: lowercase letters, digits and _ only.`);
        return this.store.connection.db!.collection(`plugin_${plugin.id.replace(/-/g, '_')}_${name}`);
      },
      redis: this.pluginRedis(plugin.id),
      safeFetch: this.safeFetch,
    } satisfies TriggerContext;
  }

  /** Each enabled provider's breaker, read from the state every worker shares in Redis. */
  private async breakerStates(): Promise<Record<string, BreakerState>> {
    const out: Record<string, BreakerState> = {};
    for (const p of [...this.providers.values()].filter((r) => r.enabled).sort((a, b) => a.id.localeCompare(b.id))) out[p.id] = await p.policy.breaker.state();
    return out;
  }

  private async readiness(): Promise<Record<string, boolean>> {
    // Each check is bounded: /readyz answers 503 while a service is down instead of hanging.
    const [mongodb, redis] = await Promise.all([answersWithin(() => this.store.ping()), answersWithin(async () => (await this.redis.ping()) === 'PONG')]);
    return { mongodb, redis };
  }

  /** Queues one request through the service (default answer: the CLI trigger). For tests and tools. */
  async enqueue(input: EnrichRequestInput): Promise<SubmitResult> {
    const { replyTo, ...request } = input;
    return this.service.submit(request, replyTo ? { trigger: replyTo.trigger, address: replyTo.address ?? {} } : { trigger: 'cli', address: {} });
  }

  async enrichAndWait(input: EnrichRequestInput, timeoutMs = this.config.queue.waitTimeoutMs): Promise<JobResult> {
    const { jobId } = await this.enqueue(input);
    return this.service.waitFor(jobId, timeoutMs);
  }

  cancel(jobId: string): Promise<void> {
    return this.service.cancelJob(jobId);
  }

  /** Claims taken in one round trip (a job's requesters are answered together). */
  private async claimMany(keys: string[]): Promise<boolean[]> {
    const tx = this.redis.pipeline();
    for (const key of keys) tx.set(claimKey(this.config.queue.prefix, key), '1', 'EX', 30 * 86400, 'NX');
    const out = (await tx.exec()) ?? [];
    return keys.map((_, i) => {
      const [err, v] = out[i] ?? [new Error('no reply')];
      if (err) throw err;
      return v === 'OK';
    });
  }

  private runningTriggers(): { plugin: TriggerPlugin; ctx: TriggerContext }[] {
    return [...this.registry.triggers.keys()].map((id) => this.triggerFor(id)).filter((t): t is { plugin: TriggerPlugin; ctx: TriggerContext } => !!t);
  }

  /** The trigger and its context when it runs in this process. */
  private triggerFor(id: string): { plugin: TriggerPlugin; ctx: TriggerContext } | undefined {
    const loaded = this.registry.triggers.get(id);
    const ctx = this.registry.context(id) as TriggerContext | undefined;
    if (!loaded?.enabled || !ctx || !this.registry.isStarted(id)) return undefined;
    return { plugin: loaded.plugin as TriggerPlugin, ctx };
  }

  /** Answers a job's requesters: batch rows in bulk, each trigger's requesters one by one. */
  private async deliver(result: JobResult, to: Delivery[]): Promise<void> {
    const rows = to.filter((d) => d.replyTo.trigger === BATCH_REPLY_TRIGGER);
    if (rows.length) await this.service.onBatchItems(result, rows).catch((err) => this.logger.error({ err, jobId: result.jobId }, 'could not record the result on its batch rows'));
    for (const d of to) {
      if (d.replyTo.trigger === BATCH_REPLY_TRIGGER) continue;
      await this.deliverTo(result, d.replyTo).catch((err) => this.logger.error({ err, jobId: result.jobId, trigger: d.replyTo.trigger }, 'could not deliver the result'));
    }
  }

  private async deliverTo(result: JobResult, replyTo: ReplyTo): Promise<void> {
    const plugin = this.registry.triggers.get(replyTo.trigger)?.plugin as TriggerPlugin | undefined;
    // A trigger without deliver (the HTTP API, the CLI) learns results by waiting on the service.
    if (plugin && !plugin.deliver) return;
    const t = this.triggerFor(replyTo.trigger);
    if (!t) {
      // Never silently: the result stays on the job record, and the operator learns why nobody got it.
      this.logger.error({ jobId: result.jobId, trigger: replyTo.trigger }, 'result not delivered: that trigger is not enabled or does not run in this role (the result is kept on the job record)');
      return;
    }
    await t.plugin.deliver!(result, replyTo, t.ctx);
  }

  private async notifyBatch(kind: 'progress' | 'done', status: BatchStatus, replyTo: ReplyTo): Promise<void> {
    const t = this.triggerFor(replyTo.trigger);
    if (!t) {
      if (kind === 'done') this.logger.error({ batchId: status.batchId, trigger: replyTo.trigger }, 'finished batch not delivered: that trigger is not enabled in this process');
      return;
    }
    await (kind === 'done' ? t.plugin.deliverBatch : t.plugin.batchProgress)?.call(t.plugin, status, replyTo, t.ctx);
  }

  private async pushTo(destination: string, request: PushRequest): Promise<PushResult> {
    const t = this.triggerFor(destination);
    if (!t?.plugin.push) {
      throw new EnrichbotError(ErrorCodes.PUSH_UNAVAILABLE, `No enabled trigger "${destination}" can take a push: enable it (plugins.triggers) and configure its credentials.`);
    }
    return t.plugin.push({ ...request, fromSoleWorkspace: (await this.soleWorkspaces()).includes(request.workspace) }, t.ctx);
  }

  /** Workspaces that an enabled trigger serves alone (a destination's default binding). */
  private async soleWorkspaces(): Promise<string[]> {
    const out: string[] = [];
    for (const id of this.registry.triggers.keys()) {
      const t = this.triggerFor(id);
      const sole = t?.plugin.soleWorkspace ? await t.plugin.soleWorkspace(t.ctx).catch(() => undefined) : undefined;
      if (sole) out.push(sole);
    }
    return out;
  }

  /** Reads every provider's credit balance now, stores it, and alerts on those under their floor. */
  refreshBalances(): Promise<{ rows: BalanceRow[]; alerted: string[] }> {
    const channel = this.config.providerBalances.alertChannel;
    return refreshBalances({
      providers: this.providers, models: this.store.models, redis: this.redis, prefix: this.config.queue.prefix, clock: this.clock, safeFetch: this.safeFetch,
      logger: this.logger.child({ part: 'balances' }),
      alert: async (row, text) => {
        this.logger.warn({ provider: row.provider, credits: row.credits, floor: row.floor }, text);
        if (channel) await this.service.notify('slack', { channel, text });
      },
    });
  }

  /** The balances as last read (`enrichbot credits`). */
  balances(): Promise<BalanceRow[]> {
    return storedBalances({ providers: this.providers, models: this.store.models });
  }

  private schedule(name: string, cron: string, timeZone: string, fn: (occurrence: Date) => Promise<void>, opts?: ScheduleOptions): void {
    if (!this.isWorker) {
      this.logger.warn({ schedule: name }, 'schedules run in the worker role only; this process will not run it');
      return;
    }
    if (!this.scheduler) {
      this.scheduler = new Scheduler({ redis: this.redis, leases: this.leases, prefix: this.config.queue.prefix, logger: this.logger.child({ part: 'scheduler' }), clock: this.clock, graceMs: this.config.service.scheduleGraceMs });
      this.scheduler.start();
    }
    this.scheduler.schedule(name, cron, timeZone, fn, opts);
  }

  /** Graceful: stop taking work, let in-flight jobs finish (or leave them for another worker), close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.http?.close();
      await this.admin?.close();
      await this.closeArena?.();
      await this.scheduler?.stop();
      await this.sweeper?.stop();
      // Batches being queued here stop at the next item; a sweeper finishes them.
      await this.service?.batches.stop();
      await this.queue?.close(this.config.queue.shutdownTimeoutMs);
      await this.registry.stop();
      await this.service?.close();
      for (const r of this.pluginRedises.values()) r.disconnect();
      this.redis?.disconnect();
      await this.store?.close();
    })();
    return this.stopping;
  }
}

// Without the web role, routes go nowhere; plugins may still register them.
const createDetachedRouter = () => express.Router();
