// One provider call, done the same way for every provider: cache, spend reservation, rate
// limit, resilience policy, settlement, ledger row. Providers themselves only look up.
import { Types } from 'mongoose';
import type { Logger } from '../logger.js';
import type { ProviderSettings } from '../config/schema.js';
import type { LookupInput, LookupResult, ProviderOperation, ProviderPlugin } from '../plugin/contract.js';
import type { SafeFetch } from '../net/safe-fetch.js';
import { createProviderHttp } from '../net/provider-http.js';
import { envPrefix } from '../config/load.js';
import type { Clock } from '../clock.js';
import type { Ledger, Settlement } from './ledger.js';
import { ProviderCache, hashInput } from './provider-cache.js';
import { confirmedKeys, inputKeys, type Subject } from './call-identity.js';
import { FIELD_GROUPS } from './fields.js';
import type { SpendCap } from './spend-cap.js';
import type { BudgetRef, RequestBudgets } from './request-budget.js';
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
  /** Per-request budgets (`maxCostUsd`); a request with a budget needs them. */
  budgets?: RequestBudgets;
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
  /**
   * This execution of the job, "<jobId>#<run>.<attempt>": with provider, operation and input hash
   * it is the idempotency key of the call's ledger row.
   */
  runTag?: string;
  /** The identity the call is about (the job's person or company); derived from the input when absent. */
  identityKey?: string;
  /** The request's own budget (maxCostUsd), checked before the daily caps. */
  budget?: BudgetRef;
  signal: AbortSignal;
}

export interface CallResult {
  outcome: ProviderOutcome;
  result?: LookupResult;
  fetchedAt: Date;
  /** The cap that stopped this call, if any: the job pauses. */
  capReached?: { scope: 'global' | 'workspace'; capUsd: number };
  /** The request's budget that stopped this call, if any: the job stops, it is not paused. */
  budgetReached?: { maxUsd: number; spentUsd: number };
}

function subjectOf(group: string): Subject {
  return (FIELD_GROUPS as Record<string, { subject: Subject } | undefined>)[group]?.subject ?? 'company';
}

export async function callProvider(req: CallRequest, svc: CallServices): Promise<CallResult> {
  const { provider, operation, group, workspace } = req;
  const base = { group, provider: provider.id, operation: operation.name };
  const inputHash = hashInput(provider.id, operation.name, req.input);
  const subject = subjectOf(group);
  const lookupKeys = [...new Set([req.identityKey, ...inputKeys(req.input, subject)].filter((k): k is string => !!k))];
  // An input that names no person or company (free text for a summary) is known by its hash.
  if (!lookupKeys.length) lookupKeys.push(`input:${inputHash}`);
  const identityKey = lookupKeys[0];
  const now = svc.clock.now();
  const rowBase = { workspace, jobId: req.jobId, provider: provider.id, operation: operation.name, group, inputHash, budget: req.budget?.key };

  const cached = await svc.cache.get(workspace, provider.id, operation.name, lookupKeys, now);
  if (cached) {
    const ledgerId = await svc.ledger.record({ ...rowBase, outcome: 'cached', costUsd: 0, charged: false, at: now });
    return {
      outcome: { ...base, outcome: 'cached', reason: `${cached.result.outcome === 'matched' ? 'match' : 'no match'} from ${cached.fetchedAt.toISOString().slice(0, 10)}`, costUsd: 0, ledgerId },
      result: cached.result,
      fetchedAt: cached.fetchedAt,
    };
  }

  // An open circuit is left to the policy: it refuses at once (BrokenCircuitError, no request),
  // and lets one trial call through once the cool-down has passed (half-open).
  const price = provider.cost(operation.name);
  const budget = await reserveBudget(req, svc, price.usd);
  if (budget && !budget.ok) {
    return {
      outcome: { ...base, outcome: 'budget_reached', reason: `the request's budget of $${budget.maxUsd.toFixed(2)} would be passed ($${budget.spentUsd.toFixed(4)} spent, this call costs $${price.usd.toFixed(4)})`, costUsd: 0 },
      fetchedAt: now,
      budgetReached: { maxUsd: budget.maxUsd, spentUsd: budget.spentUsd },
    };
  }
  const reservation = await svc.spendCap.reserve(workspace, price.usd);
  if (!reservation.ok) {
    if (budget) await svc.budgets!.settle(budget, 0);
    const scope = reservation.scope === 'global' ? 'the daily spend cap' : `workspace ${workspace}'s daily spend cap`;
    return {
      outcome: { ...base, outcome: 'cap_reached', reason: `${scope} of $${reservation.capUsd.toFixed(2)} is reached ($${reservation.spentUsd.toFixed(4)} spent)`, costUsd: 0 },
      fetchedAt: now,
      capReached: { scope: reservation.scope, capUsd: reservation.capUsd },
    };
  }
  // A paid call leaves a pending row first: if this worker dies during the call, the next run
  // finds it and counts it as lost (billed), so the books still match the provider's invoice.
  const pendingKey = `${req.runTag ?? req.jobId ?? 'direct'}|${provider.id}|${operation.name}|${inputHash}`;
  const pendingId =
    reservation.micros > 0
      ? await svc.ledger
          .begin(pendingKey, { ...rowBase, outcome: 'pending', costUsd: price.usd, reservedUsd: price.usd, charged: false, at: now, day: reservation.day })
          .catch(async (err: unknown) => {
            // The call is not made (the job is retried). The row may have been written with its
            // acknowledgement lost: marked not run, else it would be counted as a lost (billed) call.
            // And the reservation must not stay counted against the caps.
            await svc.ledger.abandon(pendingKey, now, 'its ledger row could not be written (the database failed), so the call was not made').catch(() => undefined);
            await svc.spendCap.settle(reservation, 0).catch(() => undefined);
            if (budget) await svc.budgets!.settle(budget, 0).catch(() => undefined);
            throw err;
          })
      : undefined;

  const started = Date.now();
  let attempts = 0;
  let result: LookupResult | undefined;
  let error: unknown;
  try {
    result = (await provider.policy.policy.execute(async ({ signal }) => {
      attempts++;
      const callSignal = AbortSignal.any([signal, req.signal]);
      // Paced per HTTP request, at the moment it leaves (see provider-http's beforeSend).
      const pace = provider.pacePerSecond;
      const beforeSend = pace
        ? async () => {
            const grant = await svc.rateLimiter.acquire(provider.id, pace, callSignal);
            return { sent: () => void svc.rateLimiter.sent(grant).catch((err) => provider.logger.warn({ err }, 'could not move a late grant in the rate log')) };
          }
        : undefined;
      const http = createProviderHttp({ providerId: provider.id, baseUrl: provider.baseUrl, signal: callSignal, keyEnvName: `${envPrefix(provider.id)}_API_KEY`, beforeSend });
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

  let row: Settlement;
  let outcome: ProviderOutcome;
  if (result) {
    const reason = result.outcome === 'no_match' ? result.reason : undefined;
    row = { outcome: result.outcome, httpStatus: result.httpStatus, latencyMs, attempts, costUsd, charged: costUsd > 0, usage: result.usage, raw: result.raw, at };
    outcome = { ...base, outcome: result.outcome, reason, costUsd, latencyMs };
  } else {
    const circuit = error instanceof BrokenCircuitError;
    const timedOut = isTimeout(error);
    const message = circuit
      ? 'circuit open after consecutive failures; tried again after the cool-down'
      : timedOut && !(error instanceof ProviderError)
        ? `no answer within ${provider.policy.timeoutMs} ms time limit`
        : error instanceof Error
          ? error.message
          : String(error);
    if (!failed && !circuit && !timedOut) provider.logger.error({ err: error }, 'provider lookup threw an unexpected error');
    const kind = circuit ? 'circuit_open' : timedOut ? 'timeout' : 'error';
    row = {
      outcome: kind, httpStatus: failed?.httpStatus, latencyMs, attempts, costUsd, charged: costUsd > 0, usage: failed?.usage,
      error: message, errorKind: failed?.kind ?? (timedOut ? 'timeout' : circuit ? 'circuit_open' : 'internal'), raw: failed?.raw, at,
    };
    outcome = { ...base, outcome: kind, reason: message, costUsd, latencyMs };
  }

  // The answer is cached before the books are written: if a ledger write fails after this, a
  // re-run finds the answer here and does not call (and pay) again.
  // Free calls have no pending row; their row's id is chosen now so the cache can point at it.
  const rowId = pendingId ?? new Types.ObjectId().toHexString();
  if (result) {
    const keys = [...new Set([...lookupKeys, ...confirmedKeys(result, subject)])];
    await svc.cache
      .put(workspace, provider.id, operation.name, { identityKey, keys, inputHash, result, ledgerId: rowId, now: at, freshnessDays: provider.settings.freshnessDays })
      .catch((err) => provider.logger.error({ err }, 'could not cache the answer; a later request may pay for it again'));
  }
  let ledgerId: string | undefined;
  try {
    if (pendingId) {
      await svc.ledger.settle(pendingId, row);
      ledgerId = pendingId;
    } else {
      ledgerId = await svc.ledger.record({ ...rowBase, ...row, day: reservation.day }, rowId);
    }
    // Spend counters follow the ledger: settled only once the row is, so both agree either way.
    await svc.spendCap.settle(reservation, costUsd);
    if (budget) await svc.budgets!.settle(budget, costUsd);
  } catch (err) {
    // The call happened and its answer is kept; the row stays pending (counted at its
    // reservation, as are the counters) until the sweeper marks it lost.
    provider.logger.error({ err, ledgerId: pendingId }, 'could not settle the ledger row of a finished call; its reservation stays counted');
    ledgerId = pendingId;
  }
  return { outcome: { ...outcome, ledgerId }, result, fetchedAt: at };
}

/** A free call or a request without a budget reserves nothing. */
async function reserveBudget(req: CallRequest, svc: CallServices, usd: number) {
  if (!req.budget || usd <= 0) return undefined;
  if (!svc.budgets) throw new Error('a request with maxCostUsd needs the budgets service (CallServices.budgets)');
  return svc.budgets.reserve(req.budget, usd);
}
