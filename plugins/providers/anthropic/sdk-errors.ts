// Turns what the Anthropic SDK throws into the ProviderError kinds the engine's retry policy reads.
// The SDK's own retries are off (maxRetries: 0): the engine retries, respecting Retry-After.
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { parseRetryAfter, ProviderError } from '../../../src/sdk/index.js';

/** retry-after-ms (milliseconds) wins over Retry-After (seconds or an HTTP date), as in the SDK. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  return parseRetryAfter(headers?.get('retry-after'));
}

export function toProviderError(err: unknown, signal?: AbortSignal): ProviderError {
  if (err instanceof ProviderError) return err;
  const body = err instanceof APIError ? err.error : undefined;
  const extra = (status?: number) => ({ httpStatus: status, raw: body, cause: err });
  const detail = err instanceof APIError ? (err.apiMessage ?? err.message) : (err as Error)?.message;

  if (err instanceof APIUserAbortError || signal?.aborted) {
    return new ProviderError('timeout', 'anthropic: no answer before the time limit', { cause: err });
  }
  // APIConnectionTimeoutError extends APIConnectionError: test it first.
  if (err instanceof APIConnectionTimeoutError) return new ProviderError('timeout', `anthropic: request timed out (${detail})`, { cause: err });
  if (err instanceof APIConnectionError) return new ProviderError('network', `anthropic: cannot reach the API (${detail})`, { cause: err });
  if (err instanceof AuthenticationError || err instanceof PermissionDeniedError) {
    return new ProviderError('auth', `anthropic: the API key was refused (HTTP ${err.status}: ${detail}); check ANTHROPIC_API_KEY`, extra(err.status));
  }
  if (err instanceof RateLimitError) {
    return new ProviderError('rate_limited', `anthropic: rate limited (HTTP 429: ${detail})`, { ...extra(429), retryAfterMs: retryAfterMs(err.headers) });
  }
  // InternalServerError covers 500, 503, 504 and 529 overloaded_error (OverloadedError).
  if (err instanceof InternalServerError || (err instanceof APIError && (err.status ?? 0) >= 500)) {
    return new ProviderError('server', `anthropic: server error (HTTP ${err.status}: ${detail})`, extra(err.status));
  }
  if (err instanceof APIError && err.status === 408) return new ProviderError('timeout', `anthropic: request timed out at the API (HTTP 408: ${detail})`, extra(408));
  if (err instanceof APIError && err.status !== undefined) {
    return new ProviderError('client', `anthropic: request refused (HTTP ${err.status}: ${detail})`, extra(err.status));
  }
  // A 2xx body the SDK could not parse as JSON.
  if (err instanceof SyntaxError) return new ProviderError('invalid_response', `anthropic: unreadable answer (${err.message})`, { cause: err });
  return new ProviderError('client', `anthropic: ${detail ?? String(err)}`, { cause: err });
}
