// A plugin's own metrics (its `metrics` declaration), kept in Redis: the plugin records them
// through `ctx.metrics` in whichever process it runs, and the web role's /metrics reads the same
// hashes at scrape time, as it reads the core's usage counters. A gauge is the value last set by
// any process.
import type { Redis } from 'ioredis';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import type { MetricDefinition, MetricsRecorder, Plugin } from '../plugin/contract.js';

/** One hash per metric, one field per label set (the JSON list of its values in labelNames order). */
export const pluginMetricKey = (prefix: string, name: string) => `${prefix}:metrics:plugin:${name}`;

export function metricsRecorder(redis: Redis, prefix: string, plugin: Plugin): MetricsRecorder {
  const declared = new Map((plugin.metrics ?? []).map((m) => [m.name, m]));
  const field = (name: string, type: MetricDefinition['type'], labels: Record<string, string> = {}) => {
    const m = declared.get(name);
    if (m?.type !== type) {
      throw new EnrichbotError(ErrorCodes.PLUGIN_INVALID, `plugin "${plugin.id}" records the ${type} "${name}", which its metrics do not declare as a ${type}: declare it there.`);
    }
    const names = m.labelNames ?? [];
    const unknown = Object.keys(labels).filter((l) => !names.includes(l));
    if (unknown.length) throw new EnrichbotError(ErrorCodes.PLUGIN_INVALID, `plugin "${plugin.id}": metric "${name}" has no label ${unknown.join(', ')}; add it to its labelNames.`);
    return JSON.stringify(names.map((l) => labels[l] ?? ''));
  };
  return {
    async inc(name, labels, by = 1) {
      if (!(by >= 0)) throw new EnrichbotError(ErrorCodes.PLUGIN_INVALID, `plugin "${plugin.id}": counter "${name}" only goes up, not by ${by}; declare a gauge for a value that goes down.`);
      await redis.hincrbyfloat(pluginMetricKey(prefix, name), field(name, 'counter', labels), by);
    },
    async set(name, value, labels) {
      await redis.hset(pluginMetricKey(prefix, name), field(name, 'gauge', labels), value);
    },
  };
}

/** A plugin metric's values as recorded, one per label set. */
export async function readPluginMetric(redis: Redis, prefix: string, def: MetricDefinition): Promise<{ labels: Record<string, string>; value: number }[]> {
  const h = await redis.hgetall(pluginMetricKey(prefix, def.name));
  return Object.entries(h).map(([field, value]) => {
    const values = JSON.parse(field) as string[];
    return { labels: Object.fromEntries((def.labelNames ?? []).map((l, i) => [l, values[i] ?? ''])), value: Number(value) };
  });
}
