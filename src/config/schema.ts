// The core's own settings, parsed once at start-up. Plugin-specific keys inside
// `providers.<id>` and `triggers.<id>` are validated by each plugin's own schema.
import { z } from 'zod';

export const RoleSchema = z.enum(['web', 'worker', 'all']);
export type Role = z.infer<typeof RoleSchema>;

const CostSchema = z.object({
  usd: z.number().min(0),
  /** Whether the provider bills a lookup that finds nothing. */
  missCharged: z.boolean().default(false),
});
export type OperationCost = z.infer<typeof CostSchema>;

/** Settings the engine applies to every provider the same way. */
export const ProviderSettingsSchema = z
  .object({
    /** auto: on when its API key is set (free providers: always); true: must start; false: off. */
    enabled: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    apiKey: z.string().min(1).optional(),
    baseUrl: z.url().optional(),
    costs: z.record(z.string(), CostSchema).default({}),
    /** Requests per second across all worker processes (Redis-backed). */
    ratePerSecond: z.number().positive().optional(),
    freshnessDays: z.number().min(0).default(30),
    timeoutMs: z.number().int().positive().optional(),
    breakerCooldownMs: z.number().int().positive().optional(),
    /** Credits left below which one alert is sent (at most once a day); providers with a balance endpoint only. */
    balanceFloor: z.number().min(0).optional(),
  })
  .loose();
export type ProviderSettings = z.infer<typeof ProviderSettingsSchema>;

export const MergePolicySchema = z.enum(['fill', 'overwrite', 'never']);
export type MergePolicy = z.infer<typeof MergePolicySchema>;

export const ConfigSchema = z.object({
  role: RoleSchema.default('all'),
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  mongodbUrl: z.string().regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// URL').default('mongodb://127.0.0.1:27017/enrichbot'),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').default('redis://127.0.0.1:6379'),
  /** REDIS_TLS_CA_FILE: PEM file of the CA that signed a rediss:// server's certificate, when Node's bundled CAs do not (a managed Redis's own CA, a self-signed one). */
  redisTlsCaFile: z.string().min(1).optional(),
  queue: z
    .object({
      prefix: z.string().min(1).default('enrichbot'),
      concurrency: z.number().int().positive().default(5),
      stallIntervalMs: z.number().int().positive().default(5000),
      retries: z.number().int().min(0).default(3),
      retryBackoffMs: z.number().int().positive().default(2000),
      /** How long the CLI and API wait for a job before giving up (the job itself goes on). */
      waitTimeoutMs: z.number().int().positive().default(120000),
      shutdownTimeoutMs: z.number().int().positive().default(10000),
      /** A job whose worker died or hung this many times mid-run is failed instead of run again. */
      maxStalls: z.number().int().min(0).default(3),
    })
    .prefault({}),
  plugins: z
    .object({
      providers: z.array(z.string()).default([]),
      triggers: z.array(z.string()).default([]),
    })
    .prefault({}),
  providers: z.record(z.string(), ProviderSettingsSchema).default({}),
  triggers: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  /** Field group -> provider ids, tried in this order. */
  waterfalls: z.record(z.string(), z.array(z.string())).default({}),
  engine: z
    .object({
      minConfidence: z.number().min(0).max(1).default(0.7),
      recordFreshnessDays: z.number().min(0).default(30),
      /** How long a domain's catch-all fact stands before its email is verified again (issue 20). */
      catchAllFreshnessDays: z.number().min(0).default(30),
      rawResponseMaxBytes: z.number().int().positive().default(32768),
      mergePolicy: z.record(z.string(), MergePolicySchema).default({}),
      lookalikes: z
        .object({
          max: z.number().int().min(1).max(20).default(10),
          /** Company providers that confirm a candidate exists (in order; first confirmation wins). */
          verifyWith: z.array(z.string()).default(['dns', 'website']),
        })
        .prefault({}),
      /** Job changes found by a refresh (issue 21): on by default; sources that must agree, and their confidence (default minConfidence). */
      jobChanges: z
        .object({
          enabled: z.boolean().default(true),
          minConfidence: z.number().min(0).max(1).optional(),
          minSources: z.number().int().min(1).default(1),
        })
        .prefault({}),
    })
    .prefault({}),
  resilience: z
    .object({
      timeoutMs: z.number().int().positive().default(10000),
      maxRetries: z.number().int().min(0).default(3),
      backoffBaseMs: z.number().int().positive().default(1000),
      /** A Retry-After longer than this fails the call instead of holding a worker. */
      maxRetryAfterMs: z.number().int().positive().default(60000),
      breakerThreshold: z.number().int().positive().default(5),
      breakerCooldownMs: z.number().int().positive().default(30000),
      /**
       * Calls are paced this share below a provider's ratePerSecond: a worker that sends a
       * booked call late bunches it with the next one, and a strict provider answers 429.
       */
      rateHeadroom: z.number().min(0).max(0.5).default(0.03),
    })
    .prefault({}),
  spendCaps: z
    .object({
      dailyUsd: z.number().min(0).nullable().default(null),
      perWorkspaceDailyUsd: z.number().min(0).nullable().default(null),
      workspaces: z.record(z.string(), z.number().min(0)).default({}),
    })
    .prefault({}),
  net: z
    .object({
      /** Hosts or IPs that may be fetched even though private/loopback. For tests only. */
      allowPrivateHosts: z.array(z.string()).default([]),
      maxBodyBytes: z.number().int().positive().default(2_000_000),
      fetchTimeoutMs: z.number().int().positive().default(10000),
      maxRedirects: z.number().int().min(0).default(5),
      userAgent: z.string().default('enrichbot/0.1 (+https://github.com/enrichbot/enrichbot)'),
      /** host:port DNS servers for user-supplied hosts instead of the system resolver. */
      dnsServers: z.array(z.string()).optional(),
    })
    .prefault({}),
  /** The trigger platform's service (batches, activity log, forgetting). */
  service: z
    .object({
      batch: z
        .object({
          maxItems: z.number().int().positive().default(10000),
          /** At most one progress event per batch this often (Slack edits one message with it). */
          progressIntervalMs: z.number().int().positive().default(2000),
          retentionDays: z.number().min(0).default(14),
          /** A batch whose worst-case estimate is above this asks before it runs (CLI `--yes`, Slack Run). */
          confirmAboveUsd: z.number().min(0).default(5),
          /** A batch unfinished whose counts have not moved this long is recounted from its items by the sweeper. */
          recountAfterMs: z.number().int().min(0).default(60_000),
        })
        .prefault({}),
      activityRetentionDays: z.number().min(0).default(90),
      /** A schedule occurrence missed while no worker ran is run at start-up if it is younger than this. */
      scheduleGraceMs: z.number().int().min(0).default(3_600_000),
      /** Salt of forgotten identities' hashes (ENRICHBOT_PRIVACY_SALT); generated and stored once when unset. */
      privacySalt: z.string().min(16).optional(),
    })
    .prefault({}),
  /**
   * Operators' views on the web role: /metrics (Prometheus) and the bull-arena queue dashboard,
   * served on their own admin listener (loopback by default), never on the public one.
   */
  observability: z
    .object({
      /** GET /metrics in Prometheus format. */
      metrics: z.boolean().default(true),
      admin: z
        .object({
          port: z.coerce.number().int().min(0).max(65535).default(9464),
          /** Where the admin listener binds; 0.0.0.0 only behind a firewall or with a token. */
          host: z.string().min(1).default('127.0.0.1'),
          /** Bearer token /metrics asks for when set. */
          token: z.string().min(16, 'at least 16 characters').optional(),
        })
        .prefault({}),
      arena: z
        .object({
          /** Off by default; on, it needs a username and password (basic auth). */
          enabled: z.boolean().default(false),
          /** Where it is mounted. */
          path: z.string().regex(/^\/[\w/-]*$/, 'a path such as /arena').default('/arena'),
          username: z.string().min(1).optional(),
          password: z.string().min(12, 'at least 12 characters').optional(),
        })
        .prefault({})
        .refine((a) => !a.enabled || (a.username && a.password), 'the queue dashboard needs observability.arena.username and password (ENRICHBOT_ARENA_USERNAME / ENRICHBOT_ARENA_PASSWORD) when enabled'),
    })
    .prefault({}),
  /** Provider credit balances, read on a schedule by one worker (src/service/credit-balances.ts). */
  providerBalances: z
    .object({
      /** When to read them (cron, UTC). */
      cron: z.string().min(1).default('7 * * * *'),
      /** Slack channel for the low-balance alert; without it the alert is a warning in the log. */
      alertChannel: z.string().min(1).optional(),
      /** The trigger whose `notify` posts the alert to alertChannel. */
      alertVia: z.string().min(1).default('slack'),
    })
    .prefault({}),
  sweeper: z
    .object({
      intervalMs: z.number().int().positive().default(60000),
      jobRetentionDays: z.number().min(0).default(14),
      ledgerRawRetentionDays: z.number().min(0).default(30),
      /** An open job unchanged this long whose Redis job is gone (Redis lost it) is queued again. */
      requeueAfterMs: z.number().int().positive().default(300000),
    })
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
