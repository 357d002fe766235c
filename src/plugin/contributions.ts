// What plugins add to the core's surfaces besides their kind's hooks (issue 18): CLI commands,
// metrics, what pushes to them count as, and error codes. Checked when the registry loads, so a
// metric or an error code claimed twice fails start-up with one line, not the first scrape.
import { ErrorCodes } from '../errors.js';
import type { Plugin, PushActivity } from './contract.js';

const METRIC_NAME = /^[a-z_][a-z0-9_]*$/;
const CODE = /^ENRICHBOT_ERR_[A-Z0-9_]+$/;

/** `enrichbot_<id>_` (dashes as underscores): every metric of a plugin starts with it, so none takes another's name. */
export const metricPrefix = (id: string) => `enrichbot_${id.replace(/-/g, '_')}_`;

/** The names of the metrics a plugin declares, its push counter included. */
export function metricNames(plugin: Plugin): string[] {
  const push = plugin.kind === 'trigger' ? plugin.pushActivity?.metric?.name : undefined;
  return [...(plugin.metrics ?? []).map((m) => m.name), ...(push ? [push] : [])];
}

/** One line per problem in the enabled plugins' metrics and error codes. */
export function contributionProblems(plugins: Plugin[]): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>(Object.values(ErrorCodes).map((c) => [c, 'the core']));
  const metrics = new Set<string>();
  for (const p of plugins) {
    for (const name of metricNames(p)) {
      if (!name.startsWith(metricPrefix(p.id)) || !METRIC_NAME.test(name)) {
        problems.push(`plugin "${p.id}": metric "${name}" must start with ${metricPrefix(p.id)} and use lowercase letters, digits and _ only.`);
      } else if (metrics.has(name)) {
        problems.push(`plugin "${p.id}": metric "${name}" is declared twice; declare it once.`);
      }
      metrics.add(name);
    }
    for (const [name, e] of Object.entries(p.errors ?? {})) {
      if (!CODE.test(e?.code ?? '') || !e.help?.trim()) {
        problems.push(`plugin "${p.id}": error ${name} needs a code ENRICHBOT_ERR_<CAPITALS, DIGITS, _> and a help text (defineErrors gives both).`);
      } else if (owners.has(e.code)) {
        problems.push(`plugin "${p.id}": error code ${e.code} is already ${owners.get(e.code)}'s; name it differently.`);
      } else {
        owners.set(e.code, `plugin "${p.id}"`);
      }
    }
  }
  return problems;
}

/** Each destination's declaration of what pushes to it count as, by trigger id. */
export function pushActivityOf(plugins: Plugin[]): Record<string, PushActivity> {
  return Object.fromEntries(plugins.flatMap((p) => (p.kind === 'trigger' && p.pushActivity ? [[p.id, p.pushActivity]] : [])));
}
