// The composition root: builds the shared services once (logger, store, Redis, queue, engine,
// HTTP) and hands them to plugins through their contexts. Roles: web serves HTTP, worker
// consumes the queue, all does both.
import { Redis } from 'ioredis';
import express from 'express';
import type { Config } from './config/schema.js';
import { createLogger, type Logger } from './logger.js';
import { connectStore, redactUrl, type Store } from './store/store.js';
import { EnrichQueue, jobIdOfBee, runOfBee } from './queue/enrich-queue.js';
import { Leases } from './platform/lease.js';
import { JobRunner } from './queue/job-runner.js';
import { answerRequesters } from './queue/requesters.js';
import { Registry, type PluginLoader } from './plugin/registry.js';
import type { Plugin, PluginContext, TriggerPlugin } from './plugin/contract.js';
import { Engine, identityOf } from './engine/engine.js';
import { buildProviderRuntimes } from './engine/provider-runtime.js';
import { Ledger } from './engine/ledger.js';
import { ProviderCache } from './engine/provider-cache.js';
import { SpendCap } from './engine/spend-cap.js';
import { RateLimiter } from './engine/rate-limit.js';
import { createSafeFetch, type SafeFetch } from './net/safe-fetch.js';
import { createHttpServer, type HttpServer } from './http/server.js';
import { Sweeper } from './sweeper.js';
import { systemClock, type Clock } from './clock.js';
import { EnrichRequestSchema, type EnrichRequestInput, type JobResult, type ReplyTo } from './engine/types.js';
import { EnrichbotError, ErrorCodes } from './errors.js';
import { formatZodIssues } from './config/load.js';
import type { ProviderRuntime } from './engine/provider-call.js';

export interface AppOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  loader?: PluginLoader;
  plugins?: Record<string, Plugin>;
  /** DNS servers for user-supplied hosts (tests point this at a local server). */
  dnsServers?: string[];
  /** Override the role from config (the CLI client runs without a worker). */
  role?: Config['role'] | 'client';
}

export class App {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly role: Config['role'] | 'client';
  store!: Store;
  redis!: Redis;
  queue!: EnrichQueue;
  engine!: Engine;
  providers!: Map<string, ProviderRuntime>;
  spendCap!: SpendCap;
  safeFetch: SafeFetch;
  http?: HttpServer;
  port?: number;
  sweeper?: Sweeper;
  private runner?: JobRunner;
  leases!: Leases;
  ledger!: Ledger;
  private stopping?: Promise<void>;

  constructor(opts: AppOptions) {
    this.config = opts.config;
    this.role = opts.role ?? opts.config.role;
    this.logger = opts.logger ?? createLogger({ level: opts.config.logLevel });
    this.clock = opts.clock ?? systemClock;
    this.registry = new Registry({ config: this.config, logger: this.logger, loader: opts.loader, plugins: opts.plugins });
    this.safeFetch = createSafeFetch({ ...this.config.net, dnsServers: opts.dnsServers ?? this.config.net.dnsServers });
  }

  get isWorker(): boolean {
    return this.role === 'worker' || this.role === 'all';
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

    this.providers = buildProviderRuntimes(this.registry.providers, this.config, this.logger);
    this.spendCap = new SpendCap(this.redis, this.store.models, this.config.spendCaps, this.clock, prefix);
    this.engine = new Engine({
      config: this.config,
      store: this.store,
      logger: this.logger.child({ part: 'engine' }),
      clock: this.clock,
      providers: this.providers,
      services: {
        ledger: this.ledger,
        cache: new ProviderCache(this.store.models),
        spendCap: this.spendCap,
        rateLimiter: new RateLimiter(this.redis, prefix),
        clock: this.clock,
        safeFetch: this.safeFetch,
      },
    });

    if (this.isWeb) this.http = createHttpServer({ logger: this.logger, ready: () => this.readiness() });
    await this.registry.start((loaded) => this.contextFor(loaded.plugin, loaded.config, loaded.settings));

    if (this.isWorker) {
      this.runner = new JobRunner({
        store: this.store,
        engine: this.engine,
        clock: this.clock,
        logger: this.logger.child({ part: 'worker' }),
        deliver: (result, replyTo) => this.deliver(result, replyTo),
        claimOnce: (key) => this.claimOnce(key),
        isCancelled: async (jobId) => (await this.redis.exists(`${prefix}:cancel:${jobId}`)) === 1,
        leases: this.leases,
        ledger: this.ledger,
        maxStalls: this.config.queue.maxStalls,
        runLeaseTtlMs: Math.max(3 * this.config.queue.stallIntervalMs, 3000),
      });
      this.queue.bee.on('failed', (job, err) => void this.runner!.giveUp(job.data, jobIdOfBee(job.id), runOfBee(job.id), err).catch((e) => this.logger.error({ err: e }, 'could not record failure')));
      this.queue.process(this.config.queue.concurrency, (req, id, run) => this.runner!.handle(req, id, run));
      this.sweeper = new Sweeper({ store: this.store, clock: this.clock, logger: this.logger.child({ part: 'sweeper' }), queue: this.queue, rawRetentionDays: this.config.sweeper.ledgerRawRetentionDays, leases: this.leases, ledger: this.ledger });
      this.sweeper.start(this.config.sweeper.intervalMs);
    }
    if (this.http) {
      this.port = await this.http.listen(this.config.port);
      this.logger.info({ port: this.port, role: this.role }, 'enrichbot web listening');
    }
    this.logger.info({ role: this.role, providers: [...this.providers.values()].filter((p) => p.enabled).map((p) => p.id) }, 'enrichbot started');
    return this;
  }

  private contextFor(plugin: Plugin, config: unknown, settings?: PluginContext['settings']): PluginContext {
    const mount = plugin.kind === 'trigger' ? ((plugin as TriggerPlugin).mountPath ?? `/${plugin.id}`) : `/providers/${plugin.id}`;
    const router = this.http ? this.http.routerFor(mount) : createDetachedRouter();
    return {
      id: plugin.id,
      logger: this.logger.child({ plugin: plugin.id }),
      config,
      appConfig: this.config,
      store: this.store,
      queue: this.queue,
      router,
      safeFetch: this.safeFetch,
      clock: this.clock,
      settings,
    };
  }

  private async readiness(): Promise<Record<string, boolean>> {
    const [mongodb, redis] = await Promise.all([this.store.ping(), this.redis.ping().then((r) => r === 'PONG').catch(() => false)]);
    return { mongodb, redis };
  }

  /** Validates and queues a request (or joins the identical one in flight). */
  async enqueue(input: EnrichRequestInput): Promise<{ jobId: string; joined: boolean }> {
    const parsed = EnrichRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Invalid request: ${formatZodIssues('', parsed.error, input).join('; ')}`);
    }
    const identity = identityOf(parsed.data);
    return this.queue.enqueue(parsed.data, identity);
  }

  async enrichAndWait(input: EnrichRequestInput, timeoutMs = this.config.queue.waitTimeoutMs): Promise<JobResult> {
    const { jobId } = await this.enqueue(input);
    return this.queue.waitFor(jobId, timeoutMs);
  }

  /** Asks a queued or running job to stop: providers not yet called are marked not_run. */
  async cancel(jobId: string): Promise<void> {
    await this.redis.set(`${this.config.queue.prefix}:cancel:${jobId}`, '1', 'EX', 86400);
    const result = await this.queue.cancel(jobId);
    if (result) await answerRequesters(this.store.models, result, (r, to) => this.deliver(r, to), (key) => this.claimOnce(key), this.logger);
  }

  private async claimOnce(key: string): Promise<boolean> {
    return (await this.redis.set(`${this.config.queue.prefix}:claim:${key}`, '1', 'EX', 30 * 86400, 'NX')) === 'OK';
  }

  private async deliver(result: JobResult, replyTo: ReplyTo): Promise<void> {
    const loaded = this.registry.triggers.get(replyTo.trigger);
    const plugin = loaded?.plugin as TriggerPlugin | undefined;
    if (!plugin?.deliver || !loaded?.enabled) return;
    await plugin.deliver(result, replyTo, this.registry.context(plugin.id)!);
  }

  /** Graceful: stop taking work, let in-flight jobs finish (or leave them for another worker), close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.http?.close();
      await this.sweeper?.stop();
      await this.queue?.close(this.config.queue.shutdownTimeoutMs);
      await this.registry.stop();
      this.redis?.disconnect();
      await this.store?.close();
    })();
    return this.stopping;
  }
}

// Without the web role, routes go nowhere; plugins may still register them.
const createDetachedRouter = () => express.Router();
