// Per-provider resilience with cockatiel: a time limit per call; on 429, 5xx, network errors and
// time-outs, retries with exponential backoff (base, 2x base, 4x base; at most `maxRetries`),
// waiting for Retry-After instead when it is longer; a circuit breaker that opens after N
// consecutive failures and half-opens after a cool-down. Other 4xx are permanent: no retry.
//
// The breaker's state lives in Redis when the engine gives it one, so an outage one worker sees
// is seen by every worker process (each would otherwise pay its own N failures per outage).
// Failures the provider is not to blame for (ProviderError.hostFault: a user-supplied website
// that is down or hostile) never count: one bad site must not switch a provider off for all.
import type { Redis } from 'ioredis';
import {
  BrokenCircuitError,
  DelegateBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  handleWhen,
  retry,
  timeout,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { ProviderError } from './provider-error.js';

export interface ResilienceSettings {
  timeoutMs: number;
  maxRetries: number;
  backoffBaseMs: number;
  maxRetryAfterMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Where breaker state is kept: this process only, or Redis (shared by every worker). */
export interface BreakerStore {
  /** 'closed' lets the call through; 'trial' lets it through as the one half-open probe; 'open' refuses. */
  admit(now: number): Promise<{ admit: 'closed' | 'trial' | 'open'; failures: number }>;
  success(hadState: boolean): Promise<void>;
  failure(now: number, trial: boolean): Promise<void>;
  state(now: number): Promise<CircuitState>;
}

export interface ProviderPolicy {
  policy: { execute<T>(fn: (ctx: { signal: AbortSignal }) => Promise<T>, signal?: AbortSignal): Promise<T> };
  breaker: { state(): Promise<CircuitState> };
  /** The time limit of one attempt, for the outcome that names it. */
  timeoutMs: number;
}

export interface SharedBreaker {
  redis: Redis;
  /** Redis key of this provider's breaker (prefix + provider id). */
  key: string;
}

const isTimeout = (e: unknown) => e instanceof TaskCancelledError || (e instanceof ProviderError && e.kind === 'timeout');

/** Failures that mean the provider itself is unwell. */
export function countsTowardBreaker(e: unknown): boolean {
  if (e instanceof ProviderError && e.hostFault) return false;
  return isTimeout(e) || (e instanceof ProviderError && (e.kind === 'server' || e.kind === 'network'));
}

class MemoryBreakerStore implements BreakerStore {
  private failures = 0;
  private openUntil = 0;
  private trialUntil = 0;
  constructor(private readonly s: ResilienceSettings) {}
  async admit(now: number) {
    if (this.openUntil === 0) return { admit: 'closed' as const, failures: this.failures };
    if (now < this.openUntil || now < this.trialUntil) return { admit: 'open' as const, failures: this.failures };
    this.trialUntil = now + this.s.breakerCooldownMs;
    return { admit: 'trial' as const, failures: this.failures };
  }
  async success() {
    this.failures = 0;
    this.openUntil = 0;
    this.trialUntil = 0;
  }
  async failure(now: number, trial: boolean) {
    this.failures++;
    if (trial || this.failures >= this.s.breakerThreshold) {
      this.openUntil = now + this.s.breakerCooldownMs;
      this.failures = 0;
      this.trialUntil = 0;
    }
  }
  async state(now: number): Promise<CircuitState> {
    return this.openUntil === 0 ? 'closed' : now < this.openUntil ? 'open' : 'half-open';
  }
}

// KEYS[1] hash {failures, openUntil}; KEYS[2] the half-open trial lock (expires after a
// cool-down, so a worker that died mid-trial does not keep the circuit open forever).
const ADMIT = `
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if openUntil == 0 then return {'closed', failures} end
if tonumber(ARGV[1]) < openUntil then return {'open', failures} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return {'trial', failures} end
return {'open', failures}
`;
const FAILURE = `
local f = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if ARGV[4] == '1' or f >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'openUntil', tonumber(ARGV[1]) + tonumber(ARGV[3]), 'failures', 0)
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return f
`;

class RedisBreakerStore implements BreakerStore {
  private readonly trialKey: string;
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly s: ResilienceSettings,
  ) {
    this.trialKey = `${key}:trial`;
  }
  async admit(now: number) {
    const [admit, failures] = (await this.redis.eval(ADMIT, 2, this.key, this.trialKey, now, this.s.breakerCooldownMs)) as [string, number];
    return { admit: admit as 'closed' | 'trial' | 'open', failures: Number(failures) };
  }
  async success(hadState: boolean) {
    if (hadState) await this.redis.del(this.key, this.trialKey);
  }
  async failure(now: number, trial: boolean) {
    // State outlives an outage long enough to matter, and then goes away on its own.
    const ttl = Math.max(this.s.breakerCooldownMs * 10, 600_000);
    await this.redis.eval(FAILURE, 2, this.key, this.trialKey, now, this.s.breakerThreshold, this.s.breakerCooldownMs, trial ? '1' : '0', ttl);
  }
  async state(now: number): Promise<CircuitState> {
    const openUntil = Number((await this.redis.hget(this.key, 'openUntil')) ?? 0);
    return openUntil === 0 ? 'closed' : now < openUntil ? 'open' : 'half-open';
  }
}

export interface PolicyOptions {
  onRetry?: (info: { attempt: number; delay: number; error: unknown }) => void;
  /** Keep breaker state in Redis, shared by every worker process. */
  shared?: SharedBreaker;
  /** Milliseconds since the epoch; tests move it instead of sleeping through a cool-down. */
  now?: () => number;
}

type Task<T> = (ctx: { signal: AbortSignal }) => Promise<T>;
/** One try of a task, through the breaker and the time limit. */
type Attempt = <T>(fn: Task<T>, signal: AbortSignal) => Promise<T>;

export function createProviderPolicy(s: ResilienceSettings, options: PolicyOptions | PolicyOptions['onRetry'] = {}): ProviderPolicy {
  const opts: PolicyOptions = typeof options === 'function' ? { onRetry: options } : options;
  const now = opts.now ?? Date.now;
  const store: BreakerStore = opts.shared ? new RedisBreakerStore(opts.shared.redis, opts.shared.key, s) : new MemoryBreakerStore(s);
  const retries = retryPolicyFor(s, opts.onRetry);
  const attempt = breakerAttempt({ store, now, timeoutPolicy: timeout(s.timeoutMs, TimeoutStrategy.Aggressive) });
  return {
    policy: { execute: <T>(fn: Task<T>, signal?: AbortSignal) => executeWithRetries({ retries, attempt }, fn, signal) },
    breaker: { state: () => store.state(now()) },
    timeoutMs: s.timeoutMs,
  };
}

/**
 * Retries transient failures with exponential backoff, or the provider's Retry-After when longer;
 * a Retry-After past maxRetryAfterMs is not waited for, and an open circuit is not retried.
 */
function retryPolicyFor(s: ResilienceSettings, onRetry: PolicyOptions['onRetry']): RetryPolicy {
  const retryable = handleWhen((e) => {
    if (e instanceof BrokenCircuitError) return false;
    if (isTimeout(e)) return true;
    if (!(e instanceof ProviderError) || !e.transient) return false;
    return (e.retryAfterMs ?? 0) <= s.maxRetryAfterMs;
  });
  const policy = retry(retryable, {
    maxAttempts: s.maxRetries,
    backoff: new DelegateBackoff((ctx) => {
      const exp = s.backoffBaseMs * 2 ** (ctx.attempt - 1);
      const err = 'error' in ctx.result ? ctx.result.error : undefined;
      const retryAfter = err instanceof ProviderError ? (err.retryAfterMs ?? 0) : 0;
      return Math.max(exp, retryAfter);
    }),
  });
  if (onRetry) policy.onRetry((r) => onRetry({ attempt: r.attempt, delay: r.delay, error: 'error' in r ? r.error : undefined }));
  return policy;
}

/**
 * One attempt through the breaker and the time limit: an open circuit refuses it; its result is told to the breaker.
 * The breaker's state is advice about the provider, not a gate on our own store: when it cannot
 * be read (Redis unreachable), the call goes on as if closed, and an update it cannot write is
 * dropped. Else a Redis outage would be blamed on the provider and the waterfall would pay the
 * next one for every call in flight.
 */
function breakerAttempt(deps: { store: BreakerStore; now: () => number; timeoutPolicy: TimeoutPolicy }): Attempt {
  const { store, now, timeoutPolicy } = deps;
  return async <T>(fn: Task<T>, signal: AbortSignal): Promise<T> => {
    const { admit, failures } = await store.admit(now()).catch(() => ({ admit: 'closed' as const, failures: 0 }));
    if (admit === 'open') throw new BrokenCircuitError();
    const trial = admit === 'trial';
    let result: T;
    try {
      result = await timeoutPolicy.execute(({ signal: inner }) => fn({ signal: inner }), signal);
    } catch (err) {
      if (countsTowardBreaker(err)) await store.failure(now(), trial).catch(() => undefined);
      else await store.success(trial || failures > 0).catch(() => undefined); // the provider answered: it is up
      throw err;
    }
    await store.success(trial || failures > 0).catch(() => undefined);
    return result;
  };
}

/** The task, tried again on transient failures; a circuit its own failures opened reports its last error. */
async function executeWithRetries<T>(policy: { retries: RetryPolicy; attempt: Attempt }, fn: Task<T>, signal?: AbortSignal): Promise<T> {
  const { retries, attempt } = policy;
  let ownFailure: { error: unknown } | undefined;
  try {
    return await retries.execute(async ({ signal: s2 }) => {
      try {
        return await attempt(fn, s2);
      } catch (err) {
        if (!(err instanceof BrokenCircuitError)) ownFailure = { error: err };
        throw err;
      }
    }, signal);
  } catch (err) {
    // This call's own failures opened the circuit before its retries ran out: it failed with
    // its last error (a time-out), not by being refused, and is recorded as such (issue 28).
    if (err instanceof BrokenCircuitError && ownFailure) throw ownFailure.error;
    throw err;
  }
}

export { BrokenCircuitError, TaskCancelledError, isTimeout };
