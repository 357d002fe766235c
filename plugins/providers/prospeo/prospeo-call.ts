// One POST to Prospeo with its two quirks handled: a miss is HTTP 400 with error_code NO_MATCH
// (not charged), and a server-side failure is also HTTP 400, with error_code INTERNAL_ERROR,
// which is retried like a 5xx. Source: the "Error codes" table on each endpoint's docs page.
import type { z } from 'zod';
import { type LookupContext, ProviderError, type ProviderResponse } from '../../../src/sdk/index.js';

function errorCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const code = (body as { error_code?: unknown }).error_code;
  return typeof code === 'string' ? code : undefined;
}

export async function callProspeo<S extends z.ZodType>(
  ctx: LookupContext<unknown>,
  path: string,
  json: Record<string, unknown>,
  schema: S,
): Promise<ProviderResponse<z.infer<S>>> {
  try {
    return await ctx.http.request({
      method: 'POST',
      path,
      headers: { 'X-KEY': ctx.settings.apiKey ?? '' },
      json,
      schema,
      isNoMatch: (_status, body) => errorCode(body) === 'NO_MATCH',
    });
  } catch (err) {
    if (err instanceof ProviderError && err.kind === 'client') {
      const code = errorCode(err.raw);
      if (code === 'INTERNAL_ERROR') throw new ProviderError('server', `prospeo: server error (HTTP ${err.httpStatus} INTERNAL_ERROR)`, { httpStatus: err.httpStatus, raw: err.raw, cause: err });
      if (code) throw new ProviderError('client', `prospeo: request refused (HTTP ${err.httpStatus} ${code})`, { httpStatus: err.httpStatus, raw: err.raw, cause: err });
    }
    throw err;
  }
}
