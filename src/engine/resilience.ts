// Per-provider resilience with cockatiel: a time limit per call; on 429, 5xx, network errors and
// time-outs, retries with exponential backoff (base, 2x base, 4x base; at most `maxRetries`),
// waiting for Retry-After instead when it is longer; a circuit breaker that opens after N
// consecutive failures and half-opens after a cool-down. Other 4xx are permanent: no retry.
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  DelegateBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
  type CircuitBreakerPolicy,
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

export interface ProviderPolicy {
  policy: IPolicy;
  breaker: CircuitBreakerPolicy;
}

const isTimeout = (e: unknown) => e instanceof TaskCancelledError || (e instanceof ProviderError && e.kind === 'timeout');

export function createProviderPolicy(s: ResilienceSettings, onRetry?: (info: { attempt: number; delay: number; error: unknown }) => void): ProviderPolicy {
  const retryable = handleWhen((e) => {
    if (e instanceof BrokenCircuitError) return false;
    if (isTimeout(e)) return true;
    if (!(e instanceof ProviderError) || !e.transient) return false;
    return (e.retryAfterMs ?? 0) <= s.maxRetryAfterMs;
  });
  const retryPolicy = retry(retryable, {
    maxAttempts: s.maxRetries,
    backoff: new DelegateBackoff((ctx) => {
      const exp = s.backoffBaseMs * 2 ** (ctx.attempt - 1);
      const err = 'error' in ctx.result ? ctx.result.error : undefined;
      const retryAfter = err instanceof ProviderError ? (err.retryAfterMs ?? 0) : 0;
      return Math.max(exp, retryAfter);
    }),
  });
  if (onRetry) retryPolicy.onRetry((r) => onRetry({ attempt: r.attempt, delay: r.delay, error: 'error' in r ? r.error : undefined }));
  const breaker = circuitBreaker(
    handleWhen((e) => isTimeout(e) || (e instanceof ProviderError && (e.kind === 'server' || e.kind === 'network'))),
    { halfOpenAfter: s.breakerCooldownMs, breaker: new ConsecutiveBreaker(s.breakerThreshold) },
  );
  const timeoutPolicy = timeout(s.timeoutMs, TimeoutStrategy.Aggressive);
  return { policy: wrap(retryPolicy, breaker, timeoutPolicy), breaker };
}

export { BrokenCircuitError, TaskCancelledError, isTimeout };
