// Provider outage alerts. The breaker itself (src/engine/resilience.ts) publishes nothing; when
// it is open the engine records each refused call in the ledger as `circuit_open`. A schedule
// (once per minute across all workers) asks the service which providers had refused calls in
// the last minutes and posts one message per provider, at most once per hour: the throttle is
// a Redis SET NX EX 3600, so it holds across every worker and restart. A provider that was
// alerted on stays marked (`outage-open:<provider>`) until its shared breaker is closed again;
// the worker whose DEL removes the mark posts that it recovered, once.
import type { EnrichService, Logger, NotifyMessage } from '../../../src/sdk/index.js';
import type { Redis } from 'ioredis';
import { escapeMrkdwn, oneLine } from './mrkdwn.js';

/** How far back a check looks: more than one minute, so a late tick misses nothing (the throttle dedups). */
export const OUTAGE_WINDOW_MS = 3 * 60_000;
export const ALERT_THROTTLE_S = 3600;

export interface OutageDeps {
  service: EnrichService;
  redis: Redis;
  logger: Logger;
  channel: string;
  workspace?: string;
}

/** Posts an alert for each provider whose circuit is open and was not alerted on in the last hour. */
export async function checkOutages(deps: OutageDeps, now: Date): Promise<string[]> {
  const outages = await deps.service.providerOutages(new Date(now.getTime() - OUTAGE_WINDOW_MS));
  const alerted: string[] = [];
  for (const o of outages) {
    const key = `outage-alert:${o.provider}`;
    if ((await deps.redis.set(key, now.toISOString(), 'EX', ALERT_THROTTLE_S, 'NX')) !== 'OK') continue;
    const cause = o.lastError ? ` Last error${o.lastErrorKind ? ` (${escapeMrkdwn(o.lastErrorKind)})` : ''}: "${escapeMrkdwn(oneLine(o.lastError))}".` : '';
    const text = `:rotating_light: *${escapeMrkdwn(o.provider)} is failing*: its circuit breaker is open and refused ${o.refused} call${o.refused === 1 ? '' : 's'} in the last ${OUTAGE_WINDOW_MS / 60_000} minutes.${cause} Enrichment goes on with the other providers; the breaker retries after its cool-down.`;
    try {
      await deps.service.notify('slack', { ...(deps.workspace ? { workspace: deps.workspace } : {}), channel: deps.channel, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
      await deps.redis.set(openKey(o.provider), now.toISOString(), 'EX', OPEN_MARK_TTL_S);
      alerted.push(o.provider);
    } catch (err) {
      // Not posted: let the next check try again instead of staying silent for an hour.
      await deps.redis.del(key);
      deps.logger.error({ err, provider: o.provider }, 'could not post the outage alert; retrying at the next check');
    }
  }
  return alerted;
}

const openKey = (provider: string) => `outage-open:${provider}`;
/** A provider still failing after a week is no longer followed for a recovery message. */
const OPEN_MARK_TTL_S = 7 * 86400;

/** Posts "recovered" for each alerted provider whose shared breaker is closed again. */
export async function checkRecoveries(deps: OutageDeps): Promise<string[]> {
  const states = await deps.service.breakerStates();
  const recovered: string[] = [];
  for (const [provider, state] of Object.entries(states)) {
    if (state !== 'closed') continue;
    const since = await deps.redis.get(openKey(provider));
    if (since === null || (await deps.redis.del(openKey(provider))) !== 1) continue; // none, or another worker took it
    const text = `:white_check_mark: *${escapeMrkdwn(provider)} recovered*: its circuit breaker is closed again and calls go through (alerted at ${since}).`;
    try {
      await deps.service.notify('slack', { ...(deps.workspace ? { workspace: deps.workspace } : {}), channel: deps.channel, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
      recovered.push(provider);
    } catch (err) {
      await deps.redis.set(openKey(provider), since, 'EX', OPEN_MARK_TTL_S);
      deps.logger.error({ err, provider }, 'could not post the recovery message; retrying at the next check');
    }
  }
  return recovered;
}

/** The alert raised when the day's digest failed every attempt within the grace period. */
export function digestFailedAlert(target: { channel: string; workspace?: string }, day: string, attempts: number, error: Error): NotifyMessage {
  const text = `:warning: *The daily digest for ${day} was not posted*: ${attempts} attempts failed within the grace period. Last error: "${escapeMrkdwn(oneLine(error.message))}". Once the cause is fixed, post it with \`enrichbot digest --now --date ${day}\`.`;
  return { ...target, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
