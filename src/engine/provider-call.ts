// One provider call, done the same way for every provider: cache, spend reservation, rate
// limit, resilience policy, settlement, ledger row. Providers themselves only look up.
import { Types } from 'mongoose';
import type { Logger } from '../logger.js';
import type { ProviderSettings } from '../config/schema.js';
import type { LookupInput, LookupResult, ProviderOperation, ProviderPlugin } from '../plugin/contract.js';
import type { SafeFetch } from '../net/safe-fetch.js';
import { createProviderHttp, type ProviderHttpOptions } from '../net/provider-http.js';
import { envPrefix } from '../config/load.js';
import type { Clock } from '../clock.js';
import type { Ledger, LedgerInput, Settlement } from './ledger.js';
import { ProviderCache, hashInput } from './provider-cache.js';
import { confirmedKeys, inputKeys, type Subject } from './call-identity.js';
import { FIELD_GROUPS } from './fields.js';
import type { Reservation, SpendCap } from './spend-cap.js';
import type { BudgetRef, BudgetReservation, RequestBudgets } from './request-budget.js';
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

/** What names one call: its outcome line, the keys its answer is found and filed under, its ledger row. */
interface Call {
  req: CallRequest;
  base: { group: string; provider: string; operation: string };
  inputHash: string;
  subject: Subject;
  /** Whom the answer is about, then every other key it can be found by. */
  lookupKeys: string[];
  now: Date;
  rowBase: Pick<LedgerInput, 'workspace' | 'jobId' | 'provider' | 'operation' | 'group' | 'inputHash' | 'budget'>;
}

/** What one lookup through the resilience policy gave: an answer or the last error. */
interface Attempted {
  result?: LookupResult;
  error?: unknown;
  attempts: number;
  latencyMs: number;
}

/** The spend held for a paid call: the request's budget (if it has one) and the daily caps. */
interface Held {
  budget?: BudgetReservation;
  reservation: Extract<Reservation, { ok: true }>;
}

/**
 * cache -> spend reserved (budget, daily caps) -> pending ledger row -> lookup through the
 * policy -> answer cached -> ledger row and counters settled.
 */
export async function callProvider(req: CallRequest, svc: CallServices): Promise<CallResult> {
  const call = describeCall(req, svc.clock.now());
  const cached = await fromCache(call, svc);
  if (cached) return cached;
  // An open circuit is left to the policy: it refuses at once (BrokenCircuitError, no request),
  // and lets one trial call through once the cool-down has passed (half-open).
  const price = req.provider.cost(req.operation.name);
  const held = await holdSpend(call, svc, price.usd);
  if ('refused' in held) return held.refused;
  const pendingId = await beginPendingRow(call, svc, held, price.usd);
  const attempted = await lookUp(req, svc);
  const at = svc.clock.now();
  const { row, outcome } = settlementOf(call, { attempted, price, at });
  // The answer is cached before the books are written: if a ledger write fails after this, a
  // re-run finds the answer here and does not call (and pay) again.
  // Free calls have no pending row; their row's id is chosen now so the cache can point at it.
  const rowId = pendingId ?? new Types.ObjectId().toHexString();
  if (attempted.result) await cacheAnswer(call, svc, { result: attempted.result, rowId, at });
  const ledgerId = await settleBooks(call, svc, { held, pendingId, rowId, row });
  return { outcome: { ...outcome, ledgerId }, result: attempted.result, fetchedAt: at };
}

function describeCall(req: CallRequest, now: Date): Call {
  const { provider, operation, group, workspace } = req;
  const inputHash = hashInput(provider.id, operation.name, req.input);
  const subject = subjectOf(group);
  const lookupKeys = [...new Set([req.identityKey, ...inputKeys(req.input, subject)].filter((k): k is string => !!k))];
  // An input that names no person or company (free text for a summary) is known by its hash.
  if (!lookupKeys.length) lookupKeys.push(`input:${inputHash}`);
  return {
    req, inputHash, subject, lookupKeys, now,
    base: { group, provider: provider.id, operation: operation.name },
    rowBase: { workspace, jobId: req.jobId, provider: provider.id, operation: operation.name, group, inputHash, budget: req.budget?.key },
  };
}

/** A fresh answer from the cache: free, with a ledger row that says so. */
async function fromCache(call: Call, svc: CallServices): Promise<CallResult | undefined> {
  const { provider, operation, workspace } = call.req;
  const cached = await svc.cache.get(workspace, provider.id, operation.name, call.lookupKeys, call.now);
  if (!cached) return undefined;
  const ledgerId = await svc.ledger.record({ ...call.rowBase, outcome: 'cached', costUsd: 0, charged: false, at: call.now });
  const said = cached.result.outcome === 'matched' ? 'match' : 'no match';
  return {
    outcome: { ...call.base, outcome: 'cached', reason: `${said} from ${cached.fetchedAt.toISOString().slice(0, 10)}`, costUsd: 0, ledgerId },
    result: cached.result,
    fetchedAt: cached.fetchedAt,
  };
}

/** The price reserved against the request's budget, then the daily caps; or the refusal that stops the job. */
async function holdSpend(call: Call, svc: CallServices, usd: number): Promise<Held | { refused: CallResult }> {
  const { base, now, req } = call;
  const budget = await reserveBudget(req, svc, usd);
  if (budget && !budget.ok) {
    return {
      refused: {
        outcome: { ...base, outcome: 'budget_reached', reason: `the request's budget of $${budget.maxUsd.toFixed(2)} would be passed ($${budget.spentUsd.toFixed(4)} spent, this call costs $${usd.toFixed(4)})`, costUsd: 0 },
        fetchedAt: now,
        budgetReached: { maxUsd: budget.maxUsd, spentUsd: budget.spentUsd },
      },
    };
  }
  const reservation = await svc.spendCap.reserve(req.workspace, usd);
  if (!reservation.ok) {
    if (budget) await svc.budgets!.settle(budget, 0);
    const scope = reservation.scope === 'global' ? 'the daily spend cap' : `workspace ${req.workspace}'s daily spend cap`;
    return {
      refused: {
        outcome: { ...base, outcome: 'cap_reached', reason: `${scope} of $${reservation.capUsd.toFixed(2)} is reached ($${reservation.spentUsd.toFixed(4)} spent)`, costUsd: 0 },
        fetchedAt: now,
        capReached: { scope: reservation.scope, capUsd: reservation.capUsd },
      },
    };
  }
  return { budget, reservation };
}

/**
 * A paid call leaves a pending row first: if this worker dies during the call, the next run
 * finds it and counts it as lost (billed), so the books still match the provider's invoice.
 */
async function beginPendingRow(call: Call, svc: CallServices, held: Held, usd: number): Promise<string | undefined> {
  if (held.reservation.micros <= 0) return undefined;
  const { req } = call;
  const key = `${req.runTag ?? req.jobId ?? 'direct'}|${req.provider.id}|${req.operation.name}|${call.inputHash}`;
  return svc.ledger
    .begin(key, { ...call.rowBase, outcome: 'pending', costUsd: usd, reservedUsd: usd, charged: false, at: call.now, day: held.reservation.day })
    .catch(async (err: unknown) => {
      // The call is not made (the job is retried). The row may have been written with its
      // acknowledgement lost: marked not run, else it would be counted as a lost (billed) call.
      // And the reservation must not stay counted against the caps.
      await svc.ledger.abandon(key, call.now, 'its ledger row could not be written (the database failed), so the call was not made').catch(() => undefined);
      await svc.spendCap.settle(held.reservation, 0).catch(() => undefined);
      if (held.budget) await svc.budgets!.settle(held.budget, 0).catch(() => undefined);
      throw err;
    });
}

/** The plugin's lookup, through the provider's resilience policy (time limit, retries, breaker). */
async function lookUp(req: CallRequest, svc: CallServices): Promise<Attempted> {
  const { provider, operation } = req;
  const started = Date.now();
  let attempts = 0;
  try {
    const result = (await provider.policy.policy.execute(async ({ signal }) => {
      attempts++;
      const callSignal = AbortSignal.any([signal, req.signal]);
      const http = createProviderHttp({ providerId: provider.id, baseUrl: provider.baseUrl, signal: callSignal, keyEnvName: `${envPrefix(provider.id)}_API_KEY`, beforeSend: pacing(provider, svc, callSignal) });
      return operation.lookup(req.input, { config: provider.config, settings: provider.settings, http, safeFetch: svc.safeFetch, logger: provider.logger, signal: callSignal });
    }, req.signal)) as LookupResult;
    return { result, attempts, latencyMs: Date.now() - started };
  } catch (error) {
    return { error, attempts, latencyMs: Date.now() - started };
  }
}

/** Paced per HTTP request, at the moment it leaves (see provider-http's beforeSend); none when unlimited. */
function pacing(provider: ProviderRuntime, svc: CallServices, signal: AbortSignal): ProviderHttpOptions['beforeSend'] {
  const pace = provider.pacePerSecond;
  if (!pace) return undefined;
  return async () => {
    const grant = await svc.rateLimiter.acquire(provider.id, pace, signal);
    return { sent: () => void svc.rateLimiter.sent(grant).catch((err) => provider.logger.warn({ err }, 'could not move a late grant in the rate log')) };
  };
}

/** What the call cost and how it ended, as its ledger row and its outcome line. */
function settlementOf(call: Call, ended: { attempted: Attempted; price: { usd: number; missCharged: boolean }; at: Date }): { row: Settlement; outcome: ProviderOutcome } {
  const { attempted, price, at } = ended;
  const { result, error, attempts, latencyMs } = attempted;
  const { base } = call;
  const { provider } = call.req;
  let costUsd = 0;
  if (result?.outcome === 'matched') costUsd = result.costUsd ?? price.usd;
  else if (result?.outcome === 'no_match') costUsd = result.costUsd ?? (price.missCharged ? price.usd : 0);
  const failed = error instanceof ProviderError ? error : undefined;
  if (!result && failed?.costUsd) costUsd = failed.costUsd;
  if (result) {
    const reason = result.outcome === 'no_match' ? result.reason : undefined;
    return {
      row: { outcome: result.outcome, httpStatus: result.httpStatus, latencyMs, attempts, costUsd, charged: costUsd > 0, usage: result.usage, raw: result.raw, at },
      outcome: { ...base, outcome: result.outcome, reason, costUsd, latencyMs },
    };
  }
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
  return {
    row: {
      outcome: kind, httpStatus: failed?.httpStatus, latencyMs, attempts, costUsd, charged: costUsd > 0, usage: failed?.usage,
      error: message, errorKind: failed?.kind ?? (timedOut ? 'timeout' : circuit ? 'circuit_open' : 'internal'), raw: failed?.raw, at,
    },
    outcome: { ...base, outcome: kind, reason: message, costUsd, latencyMs },
  };
}
/** The answer, filed under every key it is known by (the input's and those it confirmed). */
async function cacheAnswer(call: Call, svc: CallServices, answer: { result: LookupResult; rowId: string; at: Date }): Promise<void> {
  const { provider, operation, workspace } = call.req;
  const keys = [...new Set([...call.lookupKeys, ...confirmedKeys(answer.result, call.subject)])];
  await svc.cache
    .put(workspace, provider.id, operation.name, { identityKey: call.lookupKeys[0], keys, inputHash: call.inputHash, result: answer.result, ledgerId: answer.rowId, now: answer.at, freshnessDays: provider.settings.freshnessDays })
    .catch((err) => provider.logger.error({ err }, 'could not cache the answer; a later request may pay for it again'));
}

/** The ledger row settled (or written, for a free call), then the spend counters; returns the row's id. */
async function settleBooks(call: Call, svc: CallServices, books: { held: Held; pendingId?: string; rowId: string; row: Settlement }): Promise<string | undefined> {
  const { held, pendingId, rowId, row } = books;
  try {
    let ledgerId: string;
    if (pendingId) {
      await svc.ledger.settle(pendingId, row);
      ledgerId = pendingId;
    } else {
      ledgerId = await svc.ledger.record({ ...call.rowBase, ...row, day: held.reservation.day }, rowId);
    }
    // Spend counters follow the ledger: settled only once the row is, so both agree either way.
    await svc.spendCap.settle(held.reservation, row.costUsd);
    if (held.budget) await svc.budgets!.settle(held.budget, row.costUsd);
    return ledgerId;
  } catch (err) {
    // The call happened and its answer is kept; the row stays pending (counted at its
    // reservation, as are the counters) until the sweeper marks it lost.
    call.req.provider.logger.error({ err, ledgerId: pendingId }, 'could not settle the ledger row of a finished call; its reservation stays counted');
    return pendingId;
  }
}

/** A free call or a request without a budget reserves nothing. */
async function reserveBudget(req: CallRequest, svc: CallServices, usd: number) {
  if (!req.budget || usd <= 0) return undefined;
  if (!svc.budgets) throw new Error('a request with maxCostUsd needs the budgets service (CallServices.budgets)');
  return svc.budgets.reserve(req.budget, usd);
}
