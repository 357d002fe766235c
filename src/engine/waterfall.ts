// A waterfall for one field group: providers in configured order, stopping at the first
// answer at or above the confidence threshold. Providers after the stop are not_run; a
// provider without the input it needs is skipped at no cost.
import type { InputKey, LookupInput, MatchedResult, ProviderOperation } from '../plugin/contract.js';
import { FIELD_GROUPS, servesGroup, type FieldGroup } from './fields.js';
import type { BudgetRef } from './request-budget.js';
import { callProvider, type CallResult, type CallServices, type ProviderRuntime } from './provider-call.js';
import { NO_ANSWER, type ProviderOutcome } from './types.js';

export interface Contribution {
  provider: string;
  operation: string;
  result: MatchedResult;
  ledgerId?: string;
  fetchedAt: Date;
}

export interface WaterfallRun {
  outcomes: ProviderOutcome[];
  contributions: Contribution[];
  capReached?: { scope: 'global' | 'workspace'; capUsd: number };
  budgetReached?: { maxUsd: number; spentUsd: number };
  cancelled?: boolean;
  /**
   * True when the group is not answered because a provider gave no answer (error, time-out,
   * open circuit, cap): it is asked again by the next request, fresh record or not.
   */
  due: boolean;
}

export interface WaterfallRequest {
  group: FieldGroup;
  order: string[];
  providers: Map<string, ProviderRuntime>;
  input: LookupInput;
  workspace: string;
  jobId?: string;
  /** This execution of the job, for the ledger's idempotency keys (see CallRequest.runTag). */
  runTag?: string;
  /** The person or company this group's calls are about: their cached answers are filed under it. */
  identityKey?: string;
  /** The request's maxCostUsd and the counter it spends against. */
  budget?: BudgetRef;
  minConfidence: number;
  signal: AbortSignal;
  /** Checked before each call: true stops the run (cancelled or paused job). */
  shouldStop?: () => Promise<boolean>;
  /**
   * Answers already given in this request, by provider and operation: a provider that serves
   * two groups (ContactOut: personal email and phone) is asked once per request, not per group.
   */
  answered?: Map<string, CallResult>;
  /**
   * Checks a matched answer before it counts (identity evidence for web mentions): what it
   * returns replaces the answer, and what it rejected is told in the outcome.
   */
  screen?: (result: MatchedResult) => { result: MatchedResult | null; rejected?: string; rejectedCount?: number; rejectedReasons?: string[] };
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

export function chooseNeeds(op: ProviderOperation, input: LookupInput): InputKey[] | null {
  return op.needs.find((set) => set.every((k) => present(input[k]))) ?? null;
}

/** Only what the operation can use is passed on (and hashed for the cache). */
export function inputFor(op: ProviderOperation & { wantsKnown?: boolean }, input: LookupInput): LookupInput {
  const keys = new Set(op.needs.flat());
  const out: LookupInput = {};
  for (const k of keys) if (present(input[k])) (out as Record<string, unknown>)[k] = input[k];
  if (op.wantsKnown && input.known) out.known = input.known;
  return out;
}

function describeNeeds(op: ProviderOperation): string {
  return op.needs.map((set) => set.join(' + ')).join(', or ');
}

export function operationFor(provider: ProviderRuntime, group: FieldGroup): ProviderOperation[] {
  return provider.plugin.operations.filter((op) => servesGroup(op, group));
}

/** Why the providers after a stop are not run. */
type Stop = 'done' | 'cancelled' | 'paused' | 'budget';
const NOT_RUN_BECAUSE: Record<Stop, string> = {
  done: 'an earlier provider answered',
  paused: 'job paused by the spend cap',
  budget: "the request's budget is reached",
  cancelled: 'request cancelled',
};

export async function runWaterfall(req: WaterfallRequest, svc: CallServices): Promise<WaterfallRun> {
  const run: WaterfallRun = { outcomes: [], contributions: [], due: false };
  let stopped: Stop | null = null;
  for (const id of req.order) {
    const base = { group: req.group, provider: id, costUsd: 0 };
    if (stopped) {
      run.outcomes.push({ ...base, outcome: 'not_run', reason: NOT_RUN_BECAUSE[stopped] });
      continue;
    }
    const chosen = chooseOperation(req, id);
    if ('skip' in chosen) {
      run.outcomes.push({ ...base, ...chosen.skip });
      continue;
    }
    if (req.signal.aborted || (req.shouldStop && (await req.shouldStop()))) {
      stopped = 'cancelled';
      run.cancelled = true;
      run.outcomes.push({ ...base, operation: chosen.op.name, outcome: 'not_run', reason: 'request cancelled' });
      continue;
    }
    const call = await askOnce(req, svc, { id, ...chosen });
    if (call.budgetReached) {
      run.budgetReached = call.budgetReached;
      stopped = 'budget';
    }
    if (call.capReached) {
      run.capReached = call.capReached;
      stopped = 'paused';
    }
    if (takeAnswer(req, run, { id, op: chosen.op, call })) stopped = 'done';
    run.outcomes.push(call.outcome);
  }
  run.due = stopped !== 'done' && run.outcomes.some((o) => NO_ANSWER.has(o.outcome));
  return run;
}

/** The provider and its first operation for the group whose input is there; or why it is skipped. */
function chooseOperation(req: WaterfallRequest, id: string): { provider: ProviderRuntime; op: ProviderOperation } | { skip: Pick<ProviderOutcome, 'operation' | 'outcome' | 'reason'> } {
  const provider = req.providers.get(id);
  if (!provider || !provider.enabled) return { skip: { outcome: 'skipped', reason: provider?.disabledReason ?? 'not enabled in plugins.providers' } };
  const ops = operationFor(provider, req.group);
  const op = ops.find((o) => chooseNeeds(o, req.input));
  if (!op) return { skip: { operation: ops[0]?.name, outcome: 'skipped', reason: `needs ${ops.map(describeNeeds).join('; or ')}` } };
  return { provider, op };
}

/** The call; or, free and shown as cached, the answer this operation already gave in this request. */
async function askOnce(req: WaterfallRequest, svc: CallServices, step: { id: string; provider: ProviderRuntime; op: ProviderOperation }): Promise<CallResult> {
  const { id, provider, op } = step;
  const memoKey = `${id}\u0000${op.name}`;
  const earlier = req.answered?.get(memoKey);
  if (earlier) {
    return { ...earlier, outcome: { ...earlier.outcome, group: req.group, ...(NO_ANSWER.has(earlier.outcome.outcome) ? {} : { outcome: 'cached' as const, reason: 'answered earlier in this request' }), costUsd: 0 } };
  }
  const call = await callProvider({ provider, operation: op, input: inputFor(op, req.input), group: req.group, workspace: req.workspace, jobId: req.jobId, runTag: req.runTag, identityKey: req.identityKey, budget: req.budget, signal: req.signal }, svc);
  if (!call.capReached && !call.budgetReached) req.answered?.set(memoKey, call);
  return call;
}

/**
 * A matched answer, once screened, is a contribution; returns true when it answers the group
 * (confident, holding a stop field, in a group that does not collect from every provider).
 */
function takeAnswer(req: WaterfallRequest, run: WaterfallRun, step: { id: string; op: ProviderOperation; call: CallResult }): boolean {
  const { id, op, call } = step;
  let result = call.result;
  if (result?.outcome === 'matched' && req.screen) {
    const screened = req.screen(result);
    if (screened.rejected) call.outcome = { ...call.outcome, rejected: screened.rejectedCount, rejectedReasons: screened.rejectedReasons, reason: screened.rejected };
    result = screened.result ?? undefined;
    if (!result) call.outcome = { ...call.outcome, outcome: 'no_match' };
  }
  if (result?.outcome !== 'matched') return false;
  const fields = Object.keys(result.fields).filter((f) => present((result.fields as Record<string, unknown>)[f]));
  call.outcome.fields = fields;
  run.contributions.push({ provider: id, operation: op.name, result, ledgerId: call.outcome.ledgerId, fetchedAt: call.fetchedAt });
  const stopFields = FIELD_GROUPS[req.group].stopFields as readonly string[];
  const collect = 'collect' in FIELD_GROUPS[req.group];
  return result.confidence >= req.minConfidence && !collect && fields.some((f) => stopFields.includes(f));
}
