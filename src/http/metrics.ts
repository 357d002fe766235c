// GET /metrics in Prometheus text format (prom-client). Every figure is read at scrape time
// from Redis counters that the workers keep (src/service/usage-counters.ts) and from the queue,
// so one web process reports the work of every worker, and nothing is lost when one restarts.
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { LATENCY_BUCKETS_MS, metricKeys } from '../service/usage-counters.js';
import type { BreakerState, CapUsage, QueueHealth } from '../plugin/service.js';
import type { Plugin } from '../plugin/contract.js';
import { readPluginMetric } from '../platform/plugin-metrics.js';
import { utcDay, type Clock } from '../clock.js';
import { bearerAuth } from './server.js';

export interface MetricsDeps {
  redis: Redis;
  prefix: string;
  clock: Clock;
  queueHealth(): Promise<QueueHealth>;
  capUsage(): Promise<CapUsage>;
  breakerStates(): Promise<Record<string, BreakerState>>;
  /** The enabled plugins: their declared metrics and push counters are shown too. */
  plugins?: Plugin[];
}

/** Breaker states as numbers, so an alert rule is `> 0` (not closed) or `== 2` (open). */
export const BREAKER_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** A histogram whose buckets are kept in Redis: prom-client's own Histogram can only observe. */
function redisLatencyHistogram(deps: MetricsDeps, keys: ReturnType<typeof metricKeys>) {
  const name = 'enrichbot_provider_latency_seconds';
  return {
    name,
    help: 'Provider call latency (all attempts of one call), by provider.',
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const providers = (await deps.redis.smembers(keys.latencyProviders)).sort();
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const provider of providers) {
        const h = await deps.redis.hgetall(keys.latency(provider));
        let cumulative = 0;
        for (const b of LATENCY_BUCKETS_MS) {
          cumulative += Number(h[String(b)] ?? 0);
          values.push({ labels: { provider, le: b / 1000 }, value: cumulative, metricName: `${name}_bucket` });
        }
        const count = Number(h.count ?? 0);
        values.push({ labels: { provider, le: '+Inf' }, value: count, metricName: `${name}_bucket` });
        values.push({ labels: { provider }, value: Number(h.sumMs ?? 0) / 1000, metricName: `${name}_sum` });
        values.push({ labels: { provider }, value: count, metricName: `${name}_count` });
      }
      return { name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

export function createMetricsRegistry(deps: MetricsDeps): Registry {
  const registry = new Registry();
  const keys = metricKeys(deps.prefix);
  registerWorkMetrics(registry, deps, keys);
  registry.registerMetric(redisLatencyHistogram(deps, keys) as unknown as Metric);
  registerWorkspaceSpendMetrics(registry, deps, keys);
  registerBreakerMetric(registry, deps);
  registerPluginMetrics(registry, deps, keys);
  // The web process's own CPU, memory, event-loop lag, handles and GC (standard names, so stock
  // Node.js dashboards work); the workers' figures above come from Redis.
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** A counter whose values are a Redis hash's fields, read at scrape time (`labels` names a field's series). */
function hashCounter(registry: Registry, redis: Redis, opts: { name: string; help: string; labelNames: string[]; key: string; labels: (field: string) => Record<string, string>; divisor?: number }): void {
  new Counter({
    name: opts.name,
    help: opts.help,
    labelNames: opts.labelNames,
    registers: [registry],
    async collect() {
      const h = await redis.hgetall(opts.key);
      this.reset();
      for (const [field, v] of Object.entries(h)) this.inc(opts.labels(field), Number(v) / (opts.divisor ?? 1));
    },
  });
}

/** Jobs, provider calls, spend and the queue: what the workers did. */
function registerWorkMetrics(registry: Registry, deps: MetricsDeps, keys: ReturnType<typeof metricKeys>): void {
  const { redis } = deps;
  hashCounter(registry, redis, { name: 'enrichbot_jobs_total', help: 'Jobs finished, by outcome (done, failed, paused, cancelled).', labelNames: ['status'], key: keys.jobs, labels: (status) => ({ status }) });
  hashCounter(registry, redis, {
    name: 'enrichbot_provider_calls_total',
    help: 'Provider calls by provider and outcome (matched, no_match, error, timeout, cached, circuit_open, cap_reached).',
    labelNames: ['provider', 'outcome'],
    key: keys.calls,
    labels: (f) => ({ provider: f.slice(0, f.lastIndexOf('|')), outcome: f.slice(f.lastIndexOf('|') + 1) }),
  });
  hashCounter(registry, redis, { name: 'enrichbot_spend_usd_total', help: 'Money spent on provider calls, in USD, by provider.', labelNames: ['provider'], key: keys.spendMicros, labels: (provider) => ({ provider }), divisor: 1e6 });
  new Gauge({
    name: 'enrichbot_spend_today_usd',
    help: 'Spent so far today (UTC) across all workspaces, as counted against the daily cap.',
    registers: [registry],
    async collect() {
      const micros = await redis.get(`${deps.prefix}:spend:${utcDay(deps.clock.now())}:global`);
      this.set(Number(micros ?? 0) / 1e6);
    },
  });
  new Gauge({
    name: 'enrichbot_queue_jobs',
    help: 'Jobs in the queue by state (waiting, active, delayed, failed).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const h = await deps.queueHealth();
      for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.set({ state }, h[state]);
    },
  });
}

/**
 * Spend by workspace, and today's use of each cap beside the cap itself, so an alert rule is
 * `use / cap > 0.8` with no number written into it. One series per workspace that spent (or has a
 * cap of its own): workspace ids, never names or tokens.
 */
function registerWorkspaceSpendMetrics(registry: Registry, deps: MetricsDeps, keys: ReturnType<typeof metricKeys>): void {
  hashCounter(registry, deps.redis, { name: 'enrichbot_workspace_spend_usd_total', help: 'Money spent on provider calls, in USD, by workspace.', labelNames: ['workspace'], key: keys.workspaceSpendMicros, labels: (workspace) => ({ workspace }), divisor: 1e6 });
  // One read of the cap counters per scrape, shared by the three gauges below.
  let usage: Promise<CapUsage> | undefined;
  const capUsage = () => (usage ??= deps.capUsage().finally(() => setImmediate(() => (usage = undefined))));
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge<string>, u: CapUsage) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const u = await capUsage();
        this.reset();
        fill(this, u);
      },
    });
  gauge('enrichbot_spend_cap_usd', 'The global daily spend cap, in USD (absent when there is none).', [], (g, u) => {
    if (u.global.capUsd !== null) g.set(u.global.capUsd);
  });
  gauge('enrichbot_workspace_spend_today_usd', 'Spent so far today (UTC) by a workspace, as counted against its daily cap.', ['workspace'], (g, u) => {
    for (const w of u.workspaces) g.set({ workspace: w.workspace }, w.spentUsd);
  });
  gauge('enrichbot_workspace_spend_cap_usd', "A workspace's daily spend cap, in USD (absent for a workspace without one).", ['workspace'], (g, u) => {
    for (const w of u.workspaces) if (w.capUsd !== null) g.set({ workspace: w.workspace }, w.capUsd);
  });
}

function registerBreakerMetric(registry: Registry, deps: MetricsDeps): void {
  new Gauge({
    name: 'enrichbot_provider_breaker_state',
    help: "Each enabled provider's circuit breaker, shared by every worker: 0 closed, 1 half-open, 2 open.",
    labelNames: ['provider'],
    registers: [registry],
    async collect() {
      const states = await deps.breakerStates();
      this.reset();
      for (const [provider, state] of Object.entries(states)) this.set({ provider }, BREAKER_VALUES[state]);
    },
  });
}

/** What the enabled plugins declare: their own metrics, and a destination's pushes by result. */
function registerPluginMetrics(registry: Registry, deps: MetricsDeps, keys: ReturnType<typeof metricKeys>): void {
  for (const plugin of deps.plugins ?? []) {
    for (const def of plugin.metrics ?? []) {
      const read = () => readPluginMetric(deps.redis, deps.prefix, def);
      const base = { name: def.name, help: def.help, labelNames: def.labelNames ?? [], registers: [registry] };
      if (def.type === 'counter') {
        new Counter({
          ...base,
          async collect() {
            const rows = await read();
            this.reset();
            for (const r of rows) this.inc(r.labels, r.value);
          },
        });
      } else {
        new Gauge({
          ...base,
          async collect() {
            const rows = await read();
            this.reset();
            for (const r of rows) this.set(r.labels, r.value);
          },
        });
      }
    }
    const push = plugin.kind === 'trigger' ? plugin.pushActivity?.metric : undefined;
    if (push) hashCounter(registry, deps.redis, { name: push.name, help: push.help, labelNames: ['result'], key: keys.push(plugin.id), labels: (result) => ({ result }) });
  }
}

/** Mounts GET /metrics, behind a bearer token when one is given. */
export function mountMetrics(app: Express, deps: MetricsDeps, token?: string): void {
  const registry = createMetricsRegistry(deps);
  const guard = token ? [bearerAuth(token)] : [];
  app.get('/metrics', ...guard, async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.type(registry.contentType).send(body);
    } catch {
      res.status(503).type('text/plain').send('metrics unavailable: Redis or the queue did not answer\n');
    }
  });
}
