// One provider call, done the same way for every provider: cache, spend reservation, rate
// limit, resilience policy, settlement, ledger row. Providers themselves only look up.
import type { Logger } from '../logger.js';
import type { ProviderSettings } from '../config/schema.js';
import type { LookupInput, LookupResult, ProviderOperation, ProviderPlugin } from '../plugin/contract.js';
import type { SafeFetch } from '../net/safe-fetch.js';
import { createProviderHttp } from '../net/provider-http.js';
import { envPrefix } from '../config/load.js';
import type { Clock } from '../clock.js';
import type { Ledger } from './ledger.js';
import { ProviderCache, hashInput } from './provider-cache.js';
import type { SpendCap } from './spend-cap.js';
import type { RateLimiter } from './rate-limit.js';
import { BrokenCircuitError, isTimeout, type ProviderPolicy } from './resilience.js';
import { ProviderError } from './provider-error.js';
import type { ProviderOutcome } from './types.js';

export interface ProviderRuntime {
  id: string;
  plugin: ProviderPlugin;
  enabled: boolean;
  /** Why it is off, for the outcome line ("no API key: set PROSPEO_API_KEY"). */
  disabledReason?: string;
  settings: ProviderSettings;
  config: unknown;
  logger: Logger;
  baseUrl: string;
  policy: ProviderPolicy;
  /** Calls per second actually paced to (ratePerSecond less the headroom); none when unlimited. */
  pacePerSecond?: number;
  cost(operation: string): { usd: number; missCharged: boolean };
}

export interface CallServices {
  ledger: Ledger;
  cache: ProviderCache;
  spendCap: SpendCap;
  rateLimiter: RateLimiter;
  clock: Clock;
  safeFetch: SafeFetch;
}

export interface CallRequest {
  provider: ProviderRuntime;
  operation: ProviderOperation;
  input: LookupInput;
  group: string;
  workspace: string;
  jobId?: string;
  signal: AbortSignal;
}

export interface CallResult {
  outcome: ProviderOutcome;
  result?: LookupResult;
  fetchedAt: Date;
  /** The cap that stopped this call, if any: the job pauses. */
  capReached?: { scope: 'global' | 'workspace'; capUsd: number };
}

export async function callProvider(req: CallRequest, svc: CallServices): Promise<CallResult> {
  const { provider, operation, group, workspace } = req;
  const base = { group, provider: provider.id, operation: operation.name };
  const inputHash = hashInput(provider.id, operation.name, req.input);
  const now = svc.clock.now();

  const cached = await svc.cache.get(workspace, provider.id, operation.name, inputHash, now);
  if (cached) {
    const ledgerId = await svc.ledger.record({ workspace, jobId: req.jobId, provider: provider.id, operation: operation.name, group, inputHash, outcome: 'cached', costUsd: 0, charged: false, at: now });
    return {
      outcome: { ...base, outcome: 'cached', reason: `${cached.result.outcome === 'matched' ? 'match' : 'no match'} from ${cached.fetchedAt.toISOString().slice(0, 10)}`, costUsd: 0, ledgerId },
      result: cached.result,
      fetchedAt: cached.fetchedAt,
    };
  }

  // An open circuit is left to the policy: it refuses at once (BrokenCircuitError, no request),
  // and lets one trial call through once the cool-down has passed (half-open).
  const price = provider.cost(operation.name);
  const reservation = await svc.spendCap.reserve(workspace, price.usd);
  if (!reservation.ok) {
    const scope = reservation.scope === 'global' ? 'the daily spend cap' : `workspace ${workspace}'s daily spend cap`;
    return {
      outcome: { ...base, outcome: 'cap_reached', reason: `${scope} of $${reservation.capUsd.toFixed(2)} is reached ($${reservation.spentUsd.toFixed(4)} spent)`, costUsd: 0 },
      fetchedAt: now,
      capReached: { scope: reservation.scope, capUsd: reservation.capUsd },
    };
  }

  const started = Date.now();
  let attempts = 0;
  let result: LookupResult | undefined;
  let error: unknown;
  try {
    result = (await provider.policy.policy.execute(async ({ signal }) => {
      attempts++;
      const callSignal = AbortSignal.any([signal, req.signal]);
      if (provider.pacePerSecond) await svc.rateLimiter.acquire(provider.id, provider.pacePerSecond, callSignal);
      const http = createProviderHttp({ providerId: provider.id, baseUrl: provider.baseUrl, signal: callSignal, keyEnvName: `${envPrefix(provider.id)}_API_KEY` });
      return operation.lookup(req.input, { config: provider.config, settings: provider.settings, http, safeFetch: svc.safeFetch, logger: provider.logger, signal: callSignal });
    }, req.signal)) as LookupResult;
  } catch (err) {
    error = err;
  }
  const latencyMs = Date.now() - started;
  const at = svc.clock.now();

  let costUsd = 0;
  if (result?.outcome === 'matched') costUsd = result.costUsd ?? price.usd;
  else if (result?.outcome === 'no_match') costUsd = result.costUsd ?? (price.missCharged ? price.usd : 0);
  const failed = error instanceof ProviderError ? error : undefined;
  if (!result && failed?.costUsd) costUsd = failed.costUsd;
  await svc.spendCap.settle(reservation, costUsd);

  if (result) {
    const ledgerId = await svc.ledger.record({
      workspace, jobId: req.jobId, provider: provider.id, operation: operation.name, group, inputHash,
      outcome: result.outcome, httpStatus: result.httpStatus, latencyMs, attempts, costUsd, charged: costUsd > 0,
      usage: result.usage, raw: result.raw, at,
    });
    await svc.cache.put(workspace, provider.id, operation.name, inputHash, result, ledgerId, at, provider.settings.freshnessDays);
    const reason = result.outcome === 'no_match' ? result.reason : undefined;
    return { outcome: { ...base, outcome: result.outcome, reason, costUsd, ledgerId }, result, fetchedAt: at };
  }

  const circuit = error instanceof BrokenCircuitError;
  const message = circuit
    ? 'circuit open after consecutive failures; tried again after the cool-down'
    : isTimeout(error) && !(error instanceof ProviderError)
      ? `no answer within ${provider.settings.timeoutMs ?? 'the'} ms time limit`
      : error instanceof Error
        ? error.message
        : String(error);
  const pe = failed;
  const ledgerId = await svc.ledger.record({
    workspace, jobId: req.jobId, provider: provider.id, operation: operation.name, group, inputHash,
    outcome: circuit ? 'circuit_open' : 'error', httpStatus: pe?.httpStatus, latencyMs, attempts, costUsd, charged: costUsd > 0, usage: pe?.usage,
    error: message, errorKind: pe?.kind ?? (isTimeout(error) ? 'timeout' : circuit ? 'circuit_open' : 'internal'), raw: pe?.raw, at,
  });
  if (!pe && !circuit && !isTimeout(error)) provider.logger.error({ err: error }, 'provider lookup threw an unexpected error');
  return { outcome: { ...base, outcome: circuit ? 'circuit_open' : 'error', reason: message, costUsd, ledgerId }, fetchedAt: at };
}
