// What a trigger asks, checked once (zod) and its input parsed into an identity: the same check
// for a single request and for every item of a batch.
import type { ReplyTo } from '../engine/types.js';
import { EnrichRequestSchema, type EnrichRequest } from '../engine/types.js';
import { identityOfInput, type Identity } from '../engine/identity.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { formatZodIssues } from '../config/load.js';
import type { SubmitRequest } from '../plugin/service.js';

/** `budgetKey`: the budget `maxCostUsd` counts against when shared (a batch's id). */
export type RequestToValidate = Pick<SubmitRequest, 'workspace' | 'input' | 'refresh' | 'groups' | 'maxCostUsd'> & { budgetKey?: string };

/**
 * The request as the queue takes it, or INPUT_INVALID saying what to fix. `replyTo` is where a
 * trigger's answer goes; a batch's item has none (its answer goes to its row).
 */
export function validateRequest(request: RequestToValidate, replyTo?: ReplyTo): { request: EnrichRequest; identity: Identity } {
  const budget = request.maxCostUsd === undefined ? {} : { maxCostUsd: request.maxCostUsd, budgetKey: request.budgetKey };
  const parsed = EnrichRequestSchema.safeParse({ workspace: request.workspace, input: request.input, refresh: request.refresh ?? false, groups: request.groups, ...(replyTo ? { replyTo } : {}), ...budget });
  if (!parsed.success) {
    throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Invalid request: ${formatZodIssues('', parsed.error, request).join('; ')}`);
  }
  return { request: parsed.data, identity: identityOfInput(parsed.data.input) };
}
