// The composition root: builds the shared services once (logger, store, Redis, queue, engine,
// HTTP) and hands them to plugins through their contexts. Roles: web serves HTTP, worker
// consumes the queue, all does both.
import type { Redis } from 'ioredis';
import express from 'express';
import type { Config } from './config/schema.js';
import { createLogger, type Logger } from './logger.js';
import { connectStore, type Store } from './store/store.js';
import { connectRedis } from './platform/redis-connection.js';
import { EnrichQueue, cancelKey, jobIdOfBee, runOfBee } from './queue/enrich-queue.js';
import { JobRunner } from './queue/job-runner.js';
import { Delivery } from './delivery/delivery.js';
import { Registry, type PluginLoader } from './plugin/registry.js';
import type { Plugin, PluginContext, ProviderContext, TriggerContext, TriggerPlugin } from './plugin/contract.js';
import type { SubmitResult } from './plugin/service.js';
import { Engine } from './engine/engine.js';
import { buildProviderRuntimes } from './engine/provider-runtime.js';
import { Ledger } from './engine/ledger.js';
import { ProviderCache } from './engine/provider-cache.js';
import { SpendCap } from './engine/spend-cap.js';
import { RequestBudgets } from './engine/request-budget.js';
import { refreshBalances, storedBalances, type BalanceRow } from './service/credit-balances.js';
import { RateLimiter } from './engine/rate-limit.js';
import { createSafeFetch, type SafeFetch } from './net/safe-fetch.js';
import { answersWithin, createAdminServer, createHttpServer, type HttpServer, type Listener } from './http/server.js';
import { mountMetrics } from './http/metrics.js';
import { mountArena } from './http/arena.js';
import { Sweeper } from './sweeper.js';
import { systemClock, type Clock } from './clock.js';
import type { EnrichRequestInput, JobResult } from './engine/types.js';
import { EnrichbotError, ErrorCodes, errorMessage } from './errors.js';
import type { ProviderRuntime } from './engine/provider-call.js';
import { EnrichServiceImpl } from './service/enrich-service.js';
import { serviceFacade } from './service/service-facade.js';
import { Leases } from './platform/lease.js';
import { Scheduler, type ScheduleOptions } from './platform/scheduler.js';
import { csvModule } from './csv/index.js';
import { cliTrigger } from './cli/cli-trigger.js';
import { pushActivityOf } from './plugin/contributions.js';
import { metricsRecorder } from './platform/plugin-metrics.js';

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
  /** The road back to triggers (answers, batch deliveries, push, notify), shared by the service and the runner. */
  delivery!: Delivery;
  leases!: Leases;
  safeFetch: SafeFetch;
  http?: HttpServer;
  port?: number;
  /** The admin listener (/metrics, /arena) and its port, on the web role. */
  admin?: Listener;
  adminPort?: number;
  sweeper?: Sweeper;
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
    await this.connect();
    try {
      await this.buildQueueAndEngine();
      this.buildService();
      if (this.isWeb) this.mountHttp();
      await this.registry.start(
        (loaded) => this.contextFor(loaded.plugin, loaded.config, loaded.settings),
        (loaded) => loaded.plugin.kind === 'provider' || this.runsTrigger(loaded.plugin as TriggerPlugin),
      );
      if (this.isWorker) this.startWorker();
      await this.listen();
    } catch (err) {
      // Close what is open (Redis, the queue's clients, MongoDB, plugins started so far), or the
      // process that reports the failure keeps reconnecting in the background and never exits.
      await this.stop().catch((e) => this.logger.warn({ err: e }, 'could not close everything after a failed start'));
      throw err;
    }
    this.logger.info({ role: this.role, providers: [...this.providers.values()].filter((p) => p.enabled).map((p) => p.id) }, 'enrichbot started');
    return this;
  }

  /** MongoDB, then Redis (closing MongoDB again if Redis is not there), and what hangs on them. */
  private async connect(): Promise<void> {
    this.store = await connectStore(this.config.mongodbUrl);
    try {
      this.redis = await connectRedis(this.config, { maxRetriesPerRequest: 2 });
    } catch (err) {
      await this.store.close();
      throw err;
    }
    this.leases = new Leases(this.redis, this.config.queue.prefix, this.logger.child({ part: 'lease' }));
    this.ledger = new Ledger(this.store.models, this.config.engine.rawResponseMaxBytes);
  }

  private async buildQueueAndEngine(): Promise<void> {
    const { config, redis, clock } = this;
    const { prefix } = config.queue;
    this.queue = new EnrichQueue({
      leases: this.leases, redis, redisUrl: config.redisUrl, redisTlsCaFile: config.redisTlsCaFile, prefix, store: this.store, clock,
      logger: this.logger.child({ part: 'queue' }),
      isWorker: this.isWorker,
      stallIntervalMs: config.queue.stallIntervalMs, retries: config.queue.retries, retryBackoffMs: config.queue.retryBackoffMs,
      jobRetentionDays: config.sweeper.jobRetentionDays,
    });
    await this.queue.ready();
    this.providers = buildProviderRuntimes(this.registry.providers, config, this.logger, { redis, prefix, clock });
    this.spendCap = new SpendCap(redis, this.store.models, config.spendCaps, clock, prefix);
    this.engine = new Engine({
      config, store: this.store, clock, providers: this.providers, leases: this.leases,
      logger: this.logger.child({ part: 'engine' }),
      services: {
        ledger: this.ledger,
        cache: new ProviderCache(this.store.models),
        spendCap: this.spendCap,
        budgets: new RequestBudgets(redis, this.store.models, prefix),
        rateLimiter: new RateLimiter(redis, prefix),
        clock,
        safeFetch: this.safeFetch,
      },
    });
  }

  /** The road back to triggers, built once over the registry, and the service that uses it. */
  private buildService(): void {
    this.delivery = new Delivery({ triggers: this.registry, redis: this.redis, prefix: this.config.queue.prefix, logger: this.logger.child({ part: 'delivery' }), answersHere: this.isWorker });
    this.service = new EnrichServiceImpl({
      config: this.config, store: this.store, redis: this.redis, queue: this.queue, clock: this.clock, leases: this.leases,
      logger: this.logger.child({ part: 'service' }),
      delivery: this.delivery, providers: this.providers, spendCap: this.spendCap,
      pushActivity: pushActivityOf(this.enabledDefinitions()),
    });
  }

  /** The web role's listener, and the admin one (/metrics, /arena) when either is on. */
  private mountHttp(): void {
    const { prefix } = this.config.queue;
    this.http = createHttpServer({ logger: this.logger, ready: () => this.readiness() });
    const { metrics, arena, admin } = this.config.observability;
    if (metrics || arena.enabled) this.admin = createAdminServer();
    if (metrics) {
      const deps = { redis: this.redis, prefix, clock: this.clock, queueHealth: () => this.service.queueHealth(), capUsage: () => this.service.capUsage(), breakerStates: () => this.service.breakerStates(), plugins: this.enabledDefinitions() };
      mountMetrics(this.admin!.app, deps, admin.token);
    }
    if (arena.enabled) this.closeArena = mountArena(this.admin!.app, { path: arena.path, username: arena.username!, password: arena.password!, redisUrl: this.config.redisUrl, redisTlsCaFile: this.config.redisTlsCaFile, prefix });
  }

  /** The worker role: the job runner on the queue, the sweeper, and the balance readings. */
  private startWorker(): void {
    const { config } = this;
    const { prefix } = config.queue;
    const runner = new JobRunner({
      store: this.store, engine: this.engine, clock: this.clock, leases: this.leases, redis: this.redis, prefix, ledger: this.ledger,
      logger: this.logger.child({ part: 'worker' }),
      delivery: this.delivery,
      isCancelled: async (jobId) => (await this.redis.exists(cancelKey(prefix, jobId))) === 1,
      maxStalls: config.queue.maxStalls,
      runLeaseTtlMs: Math.max(3 * config.queue.stallIntervalMs, 3000),
      onFinished: (result) => this.service.jobFinished(result),
      ...(this.hooks.afterRunDone ? { afterRunDone: this.hooks.afterRunDone } : {}),
    });
    // bee-queue also emits 'failed' for an attempt it will retry (bee-queue #184): only
    // 'failed:fatal' (untyped in its .d.ts) is the last attempt.
    this.queue.bee.on('failed:fatal' as 'failed', (job, err) => void runner.giveUp(job.data, jobIdOfBee(job.id), runOfBee(job.id), err).catch((e) => this.logger.error({ err: e }, 'could not record failure')));
    this.queue.process(config.queue.concurrency, (req, id, run) => runner.handle(req, id, run));
    this.sweeper = new Sweeper({
      store: this.store, clock: this.clock, queue: this.queue, leases: this.leases, ledger: this.ledger,
      logger: this.logger.child({ part: 'sweeper' }),
      rawRetentionDays: config.sweeper.ledgerRawRetentionDays, requeueAfterMs: config.sweeper.requeueAfterMs,
      reconcileSpend: () => this.spendCap.reconcile(),
      resumeBatchQueueing: () => this.service.batches.resumeQueueing(),
      finishStalledBatches: () => this.service.batches.finishStalled(),
    });
    this.sweeper.start(config.sweeper.intervalMs);
    // A reading, not a task: a missed hour is read at the next one, not at every process's start.
    this.schedule('provider-balances', config.providerBalances.cron, 'UTC', async () => void (await this.refreshBalances()), { catchUp: false });
  }

  private async listen(): Promise<void> {
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
  private enabledDefinitions(): Plugin[] {
    return this.registry.enabledPlugins().map((l) => l.plugin);
  }

  private runsTrigger(plugin: TriggerPlugin): boolean {
    if (this.role === 'client') return plugin.id === 'cli' || this.clientTriggers.includes(plugin.id);
    const roles = plugin.roles ?? ['web', 'worker'];
    return (this.isWeb && roles.includes('web')) || (this.isWorker && roles.includes('worker'));
  }

  private contextFor(plugin: Plugin, config: unknown, settings?: ProviderContext['settings']): PluginContext {
    const base = { id: plugin.id, logger: this.logger.child({ plugin: plugin.id }), config, clock: this.clock, metrics: metricsRecorder(this.redis, this.config.queue.prefix, plugin) };
    if (plugin.kind === 'provider') return { ...base, settings, safeFetch: this.safeFetch } satisfies ProviderContext;
    const mount = (plugin as TriggerPlugin).mountPath ?? `/${plugin.id}`;
    const router = this.http ? this.http.routerFor(mount) : createDetachedRouter();
    return {
      ...base,
      service: serviceFacade(this.service),
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

  /** Reads every provider's credit balance now, stores it, and alerts on those under their floor. */
  refreshBalances(): Promise<{ rows: BalanceRow[]; alerted: string[] }> {
    const { alertChannel: channel, alertVia } = this.config.providerBalances;
    return refreshBalances({
      providers: this.providers, models: this.store.models, redis: this.redis, prefix: this.config.queue.prefix, clock: this.clock, safeFetch: this.safeFetch,
      logger: this.logger.child({ part: 'balances' }),
      alert: async (row, text) => {
        this.logger.warn({ provider: row.provider, credits: row.credits, floor: row.floor }, text);
        if (channel) await this.service.notify(alertVia, { channel, text });
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
      try {
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
      } finally {
        // Whatever failed above (a plugin's stop, a half-started part), the connections close.
        for (const r of this.pluginRedises.values()) r.disconnect();
        this.redis?.disconnect();
        await this.store?.close();
      }
    })();
    return this.stopping;
  }
}

// Without the web role, routes go nowhere; plugins may still register them.
const createDetachedRouter = () => express.Router();
