// Spend cap alerts: at 80 % and at 100 % of each daily cap (the global one and each workspace's),
// once per cap per UTC day across every worker: the claim is a Redis SET NX that lives two days.
// Only the highest threshold reached is posted, so a jump past both says "reached" once.
import type { EnrichService, Logger } from '../../../src/sdk/index.js';
import type { Redis } from 'ioredis';
import { escapeMrkdwn } from './mrkdwn.js';

export const CAP_THRESHOLDS = [1, 0.8] as const;
const CLAIM_TTL_S = 2 * 86400;

export interface CapAlertDeps {
  service: EnrichService;
  redis: Redis;
  logger: Logger;
  channel: string;
  workspace?: string;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

function capText(scope: string | null, threshold: number, spent: number, cap: number, day: string): string {
  const who = scope === null ? 'The global daily spend cap' : `Workspace ${escapeMrkdwn(scope)}'s daily spend cap`;
  const figures = `${usd(spent)} of ${usd(cap)} spent on ${day} (UTC)`;
  if (threshold >= 1) return `:no_entry: *${who} is reached*: ${figures}. Paid calls are refused and jobs pause until 00:00 UTC; raise \`spendCaps\` to go on today.`;
  return `:warning: *${who} is ${Math.round(threshold * 100)}% used*: ${figures}. At 100% paid calls stop and jobs pause until 00:00 UTC.`;
}

/** Posts one alert per cap and threshold reached today; returns the claims it posted. */
export async function checkCaps(deps: CapAlertDeps): Promise<string[]> {
  const usage = await deps.service.capUsage();
  const scopes = [{ scope: null as string | null, ...usage.global }, ...usage.workspaces.map((w) => ({ ...w, scope: w.workspace }))];
  const posted: string[] = [];
  for (const s of scopes) {
    if (s.capUsd === null || s.capUsd <= 0) continue; // no cap, or a workspace switched off
    const threshold = CAP_THRESHOLDS.find((t) => s.spentUsd >= t * s.capUsd!);
    if (threshold === undefined) continue;
    const claim = `cap-alert:${usage.day}:${s.scope === null ? 'global' : `ws:${s.scope}`}:${threshold * 100}`;
    if ((await deps.redis.set(claim, '1', 'EX', CLAIM_TTL_S, 'NX')) !== 'OK') continue;
    const text = capText(s.scope, threshold, s.spentUsd, s.capUsd, usage.day);
    try {
      await deps.service.notify('slack', { ...(deps.workspace ? { workspace: deps.workspace } : {}), channel: deps.channel, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
      deps.logger.warn({ scope: s.scope ?? 'global', threshold, spentUsd: s.spentUsd, capUsd: s.capUsd }, 'spend cap alert posted');
      posted.push(claim);
    } catch (err) {
      // Not posted: the next check tries again instead of staying silent all day.
      await deps.redis.del(claim);
      deps.logger.error({ err, scope: s.scope ?? 'global' }, 'could not post the spend cap alert; retrying at the next check');
    }
  }
  return posted;
}
