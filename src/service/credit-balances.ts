// Provider credit balances: each enabled provider whose plugin has a `balance` operation (its
// own free account endpoint) is read on a schedule, never per job, and the answer is stored in
// the `settings` collection as `provider-balance:<id>` (JSON: credits, usdPerCredit, plan,
// renewsAt, at). A balance under the provider's `balanceFloor` sends one alert, at most once a
// day per provider across every worker (Redis SET NX EX 86400). A provider without such an
// endpoint is listed as having none: a balance is never guessed.
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Clock } from '../clock.js';
import type { ServiceModels } from '../store/service-models.js';
import type { ProviderRuntime } from '../engine/provider-call.js';
import type { SafeFetch } from '../net/safe-fetch.js';
import { createProviderHttp } from '../net/provider-http.js';
import { envPrefix } from '../config/load.js';
import { errorMessage } from '../errors.js';

export const ALERT_EVERY_S = 86400;

/** Why a provider shows no balance: free, or its plugin knows no documented free endpoint. */
const noBalance = (p: ProviderRuntime) => (p.plugin.requiresApiKey ? 'its plugin reads no balance (no free account endpoint confirmed in its docs)' : 'free: no credits to count');
const settingId = (provider: string) => `provider-balance:${provider}`;

export interface BalanceRow {
  provider: string;
  /** ok: read; none: the provider offers no free balance endpoint; off: not enabled; error: the read failed. */
  status: 'ok' | 'none' | 'off' | 'error';
  credits?: number;
  usdPerCredit?: number;
  /** credits x usdPerCredit, when the price per credit is known. */
  usd?: number;
  plan?: string;
  renewsAt?: string;
  /** When it was read (ISO). */
  at?: string;
  floor?: number;
  note?: string;
}

export interface BalanceDeps {
  providers: Map<string, ProviderRuntime>;
  models: ServiceModels;
  redis: Redis;
  prefix: string;
  clock: Clock;
  safeFetch: SafeFetch;
  logger: Logger;
  /** Sends the low-balance alert (Slack, or the log). */
  alert(row: BalanceRow, text: string): Promise<void>;
}

/** Reads every balance now, stores it, and alerts on those under their floor. Returns the rows and who was alerted. */
export async function refreshBalances(deps: BalanceDeps): Promise<{ rows: BalanceRow[]; alerted: string[] }> {
  const rows: BalanceRow[] = [];
  const alerted: string[] = [];
  for (const provider of deps.providers.values()) {
    const row = await readOne(deps, provider);
    rows.push(row);
    if (row.status === 'ok') await deps.models.Setting.updateOne({ _id: settingId(row.provider) }, { $set: { value: JSON.stringify(row) } }, { upsert: true });
    if (row.status !== 'ok' || row.floor === undefined || row.credits! >= row.floor) continue;
    const key = `${deps.prefix}:balance-alert:${row.provider}`;
    if ((await deps.redis.set(key, row.at!, 'EX', ALERT_EVERY_S, 'NX')) !== 'OK') continue;
    const text = `${row.provider} has ${row.credits} credits left${row.usd !== undefined ? ` (about $${row.usd.toFixed(2)})` : ''}, under its floor of ${row.floor}: top up or lower its place in the waterfalls.`;
    try {
      await deps.alert(row, text);
      alerted.push(row.provider);
    } catch (err) {
      // Not sent: the next read tries again instead of staying silent for a day.
      await deps.redis.del(key);
      deps.logger.error({ err, provider: row.provider }, 'could not send the low-balance alert; retrying at the next read');
    }
  }
  return { rows, alerted };
}

async function readOne(deps: BalanceDeps, provider: ProviderRuntime): Promise<BalanceRow> {
  const base = { provider: provider.id, floor: provider.settings.balanceFloor };
  if (!provider.plugin.balance) return { ...base, status: 'none', note: noBalance(provider) };
  if (!provider.enabled) return { ...base, status: 'off', note: provider.disabledReason ?? 'not enabled' };
  const signal = AbortSignal.timeout(provider.policy.timeoutMs);
  const http = createProviderHttp({ providerId: provider.id, baseUrl: provider.baseUrl, signal, keyEnvName: `${envPrefix(provider.id)}_API_KEY` });
  try {
    const b = await provider.plugin.balance({ config: provider.config, settings: provider.settings, http, safeFetch: deps.safeFetch, logger: provider.logger, signal });
    const usd = b.usdPerCredit === undefined ? undefined : Math.round(b.credits * b.usdPerCredit * 100) / 100;
    return { ...base, status: 'ok', credits: b.credits, usdPerCredit: b.usdPerCredit, usd, plan: b.plan, renewsAt: b.renewsAt, at: deps.clock.now().toISOString() };
  } catch (err) {
    deps.logger.warn({ err, provider: provider.id }, 'could not read the provider balance');
    return { ...base, status: 'error', note: errorMessage(err) };
  }
}

/** What `enrichbot credits` prints: the stored balances (as last read), and why the others have none. */
export async function storedBalances(deps: Pick<BalanceDeps, 'providers' | 'models'>): Promise<BalanceRow[]> {
  const out: BalanceRow[] = [];
  for (const provider of deps.providers.values()) {
    const base = { provider: provider.id, floor: provider.settings.balanceFloor };
    if (!provider.plugin.balance) out.push({ ...base, status: 'none', note: noBalance(provider) });
    else if (!provider.enabled) out.push({ ...base, status: 'off', note: provider.disabledReason ?? 'not enabled' });
    else {
      const doc = await deps.models.Setting.findOne({ _id: settingId(provider.id) }).lean();
      out.push(doc ? { ...(JSON.parse(doc.value) as BalanceRow), floor: base.floor } : { ...base, status: 'error', note: 'not read yet: run `enrichbot credits --refresh`' });
    }
  }
  return out;
}

export function formatBalances(rows: BalanceRow[]): string {
  return rows
    .map((r) => {
      if (r.status !== 'ok') return `${r.provider.padEnd(12)} ${r.status === 'none' ? 'no balance' : r.status}: ${r.note}`;
      const usd = r.usd !== undefined ? ` (about $${r.usd.toFixed(2)})` : '';
      const low = r.floor !== undefined && r.credits! < r.floor ? `  LOW: under ${r.floor}` : '';
      return `${r.provider.padEnd(12)} ${r.credits} credits${usd}${r.plan ? `, plan ${r.plan}` : ''}${r.renewsAt ? `, renews ${r.renewsAt.slice(0, 10)}` : ''}; read ${r.at}${low}`;
    })
    .join('\n');
}
