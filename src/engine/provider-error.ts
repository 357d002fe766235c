// How a provider call can fail. The engine's retry policy reads `kind`: rate_limited, server,
// network and timeout are transient; auth, client and invalid_response are permanent.
export type ProviderErrorKind = 'rate_limited' | 'server' | 'network' | 'timeout' | 'auth' | 'client' | 'invalid_response';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly httpStatus?: number;
  readonly retryAfterMs?: number;
  readonly raw?: unknown;
  /** What the failed call was billed anyway (an LLM reply that did not fit its schema). */
  readonly costUsd?: number;
  readonly usage?: unknown;
  /**
   * The looked-up host failed (a user-supplied website answering 5xx), not the provider: it is
   * still retried, but never counts toward the provider's circuit breaker.
   */
  readonly hostFault?: boolean;
  constructor(kind: ProviderErrorKind, message: string, extra: { httpStatus?: number; retryAfterMs?: number; raw?: unknown; cause?: unknown; costUsd?: number; usage?: unknown; hostFault?: boolean } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.httpStatus = extra.httpStatus;
    this.retryAfterMs = extra.retryAfterMs;
    this.raw = extra.raw;
    this.costUsd = extra.costUsd;
    this.usage = extra.usage;
    this.hostFault = extra.hostFault;
  }
  get transient(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'server' || this.kind === 'network' || this.kind === 'timeout';
  }
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
