// Errors as RFC 9457 problem details (application/problem+json): type, title, status, detail,
// instance, plus `errors: [{ path, message }]` for validation and `code` (ENRICHBOT_ERR_*).
// `type` is a URN (RFC 9457 allows any URI; these are listed in the README, not fetched).
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { type ErrorCode, ErrorCodes } from '../../../src/sdk/index.js';

export interface FieldError {
  /** JSON Pointer-ish path in the body: "items/3/email", "" for the whole body. */
  path: string;
  message: string;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extra: { code?: ErrorCode; errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail);
  }
}

export const problemType = (slug: string) => `urn:enrichbot:problem:${slug}`;

export function sendProblem(req: Request, res: Response, p: ApiProblem): void {
  const { headers, ...extra } = p.extra;
  if (headers) res.set(headers);
  res
    .status(p.status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: problemType(p.slug), title: p.title, status: p.status, detail: p.message, instance: req.originalUrl, ...extra }));
}

/** zod issues as `{ path, message }`, each saying what to send instead. */
export function fieldErrors(error: z.ZodError, prefix: (string | number)[] = []): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const base = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...base, key].join('/'), message: `unknown field "${key}": remove it (the accepted fields are listed in GET /v1/openapi.json)` });
      continue;
    }
    out.push({ path: base.join('/'), message: issue.message });
  }
  return out;
}

export function validationProblem(errors: FieldError[], what = 'The request body'): ApiProblem {
  const summary = errors.slice(0, 3).map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
  return new ApiProblem(400, 'validation-error', 'Invalid request', `${what} is not valid: ${summary}${errors.length > 3 ? ` (and ${errors.length - 3} more in errors)` : ''}.`, {
    code: ErrorCodes.INPUT_INVALID,
    errors,
  });
}
