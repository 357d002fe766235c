// POST /v1/enrich (wait up to waitMs for the record, else 202 with the job) and
// POST /v1/enrich/batch (a batch id at once; bad items reported by index, the rest run).
import type { Request, RequestHandler, Response, Router } from 'express';
import type { BatchSubmitResult, SubmitResult, TriggerContext } from '../../../src/sdk/index.js';
import { ErrorCodes, isEnrichbotError } from '../../../src/sdk/index.js';
import type { HttpApiConfig } from './config.js';
import { callerKey, requireScope } from './auth.js';
import { ApiProblem, fieldErrors, validationProblem, type FieldError } from './problem.js';
import { EnrichBodySchema, ITEM_COLUMNS, batchBodySchema, checkBatchItems, toStructuredInput } from './request-schemas.js';
import { canonicalField, groupsFor } from './requested-fields.js';
import { renderResult, type RequestedField } from './record-response.js';
import { newRequestId, rememberRequested } from './requested-store.js';
import { takeItems } from './item-budget.js';
import type { KeyRateLimiter } from './rate-limit.js';

/** Where the service answers: this key, and the request's callbackUrl (webhooks.ts) if any. */
export const REPLY = (keyId: string, callbackUrl?: string) => ({ trigger: 'http-api', address: { keyId, ...(callbackUrl ? { callbackUrl } : {}) } });
const actor = (res: Response) => `api:${callerKey(res).id}`;

function requested(enrich: string[] | undefined): RequestedField[] | undefined {
  return enrich?.map((name) => ({ name, field: canonicalField(name)! }));
}

export function requireJson(req: Request): void {
  if (!req.is('application/json')) throw new ApiProblem(415, 'unsupported-media-type', 'Unsupported media type', 'Send the body as JSON with "Content-Type: application/json" (UTF-8).', { code: ErrorCodes.INPUT_INVALID });
}

export interface EnrichRouteParts {
  json: RequestHandler;
  /** Replays or refuses a request with an Idempotency-Key (idempotency.ts). */
  idempotent: RequestHandler;
  itemBudget: KeyRateLimiter;
  /** Refuses (400) a callbackUrl that is not a public URL or a key that cannot sign. */
  checkCallback(keyId: string, url: string): Promise<void>;
}

export function mountEnrichRoutes(router: Router, ctx: TriggerContext<HttpApiConfig>, parts: EnrichRouteParts): void {
  const { json, idempotent } = parts;
  router.post('/enrich', requireScope('enrich'), json, idempotent, (req, res) => enrichOne({ ctx, parts, req, res }));
  router.post('/enrich/batch', requireScope('enrich'), json, idempotent, (req, res) => enrichBatch({ ctx, parts, req, res }));
}

/** One request to an enrich route, with what the route was mounted with. */
interface EnrichCall {
  ctx: TriggerContext<HttpApiConfig>;
  parts: EnrichRouteParts;
  req: Request;
  res: Response;
}

/** The key's own item limits, else the trigger's. */
function itemLimits({ ctx, res }: EnrichCall) {
  const own = callerKey(res).limits;
  return { perMinute: own.itemsPerMinute ?? ctx.config.itemsPerMinute, perDay: own.itemsPerDay ?? ctx.config.itemsPerDay };
}

/** The callback URL checked (the body's, else the key's) and the items taken from the key's budget. */
async function admit(call: EnrichCall, bodyCallbackUrl: string | undefined, count: number): Promise<string | undefined> {
  const key = callerKey(call.res);
  const callbackUrl = bodyCallbackUrl ?? key.callbackUrl;
  if (callbackUrl) await call.parts.checkCallback(key.id, callbackUrl);
  await takeItems(call.parts.itemBudget, key.id, count, itemLimits(call));
  return callbackUrl;
}

// POST /v1/enrich: one record, answered within waitMs or accepted (202) to poll.
async function enrichOne(call: EnrichCall): Promise<void> {
  const { ctx, req, res } = call;
  requireJson(req);
  const parsed = EnrichBodySchema.safeParse(req.body);
  if (!parsed.success) throw validationProblem(fieldErrors(parsed.error));
  const body = parsed.data;
  const key = callerKey(res);
  const fields = requested(body.enrich);
  const callbackUrl = await admit(call, body.callbackUrl, 1);
  const submitted = await ctx.service.submit(
    { workspace: key.workspace, input: toStructuredInput(body), refresh: body.refresh ?? false, ...(body.maxCostUsd !== undefined ? { maxCostUsd: body.maxCostUsd } : {}), ...(fields ? { groups: groupsFor(fields.map((f) => f.field)) } : {}), actor: actor(res) },
    REPLY(key.id, callbackUrl),
  );
  await answerOne({ call, jobId: submitted.jobId, display: submitted.display, fields });
}

interface OneAnswer {
  call: EnrichCall;
  jobId: string;
  /** The input as submitted, shown in a 202. */
  display: SubmitResult['display'];
  fields: RequestedField[] | undefined;
}

/** The record (200), the job still running or paused (202), or why it failed (502). */
async function answerOne(answer: OneAnswer): Promise<void> {
  const { call, jobId, display } = answer;
  const { ctx, res } = call;
  let result;
  try {
    result = await ctx.service.waitFor(jobId, ctx.config.waitMs);
  } catch (err) {
    if (!isEnrichbotError(err, ErrorCodes.JOB_TIMEOUT)) throw err;
    const now = await ctx.service.status(jobId, callerKey(res).workspace);
    const { requestId, location } = await acceptedLater(answer);
    res.status(202).location(location).json({ jobId, requestId, status: now.kind === 'job' ? now.status : 'queued', input: display, links: { self: location } });
    return;
  }
  if (result.status === 'done') {
    res.status(200).json(renderResult(result, answer.fields));
    return;
  }
  if (result.status === 'paused') {
    // A spend cap stopped it; it resumes on its own.
    const { requestId, location } = await acceptedLater(answer);
    res.status(202).location(location).json({ jobId: result.jobId, requestId, status: 'paused', input: result.display, resumeAt: result.resumeAt, links: { self: location } });
    return;
  }
  const location = `${call.req.baseUrl}/jobs/${jobId}`;
  throw new ApiProblem(502, 'enrichment-failed', 'The enrichment did not finish', `Job ${result.jobId} ended ${result.status}${result.error ? `: ${result.error}` : ''}. Try again later; GET ${location} shows each provider's outcome.`, {
    code: ErrorCodes.JOB_FAILED,
    jobId: result.jobId,
    outcomes: renderResult(result).outcomes,
  });
}

/** A 202 names this request, so polling shows the fields it asked for (another request may
 *  join the same job with other fields). */
async function acceptedLater({ call, jobId, fields }: OneAnswer): Promise<{ requestId: string; location: string }> {
  const requestId = newRequestId();
  await rememberRequested(call.ctx.redis, callerKey(call.res).workspace, requestId, { jobId, fields: fields ?? null });
  return { requestId, location: `${call.req.baseUrl}/jobs/${jobId}?request=${requestId}` };
}

/** The batch body, or a 413 when it has too many items, or a 400 naming the bad fields. */
function parseBatchBody({ ctx, req }: EnrichCall) {
  requireJson(req);
  const parsed = batchBodySchema(ctx.config.maxBatchItems).safeParse(req.body);
  if (parsed.success) return parsed.data;
  const tooMany = parsed.error.issues.some((i) => i.code === 'too_big' && i.path.join('/') === 'items');
  const p = validationProblem(fieldErrors(parsed.error));
  if (tooMany) throw new ApiProblem(413, 'batch-too-large', 'Batch too large', p.message, { ...p.extra, code: ErrorCodes.BATCH_TOO_LARGE });
  throw p;
}

// POST /v1/enrich/batch: a batch id at once; bad items reported by index, the rest run.
async function enrichBatch(call: EnrichCall): Promise<void> {
  const { ctx, res } = call;
  const body = parseBatchBody(call);
  const key = callerKey(res);
  const fields = requested(body.enrich);
  // Each item is checked alone: a bad one becomes a rejected row with its reason, the rest run.
  const { items, itemErrors } = checkBatchItems(body.items);
  const options = { workspace: key.workspace, refresh: body.refresh ?? false, ...(fields ? { groups: groupsFor(fields.map((f) => f.field)) } : {}) };
  if (body.dryRun) {
    // The price only: no job, no item budget taken, no provider asked.
    const estimate = await ctx.service.estimate(items, options);
    res.status(200).json({ dryRun: true, estimate, rejected: [...itemErrors].map(([index, errors]) => ({ index, errors })) });
    return;
  }
  const callbackUrl = await admit(call, body.callbackUrl, items.length - itemErrors.size);
  // Priced before it runs (after, its own jobs would look fresh), kept beside its actual cost.
  const estimate = await ctx.service.estimate(items, options).catch((err: unknown) => {
    ctx.logger.warn({ err: (err as Error).message }, 'batch estimate failed; the batch runs without one');
    return undefined;
  });
  const budget = body.maxCostUsd !== undefined ? { maxCostUsd: body.maxCostUsd } : {};
  const submitted = await ctx.service.submitBatch(items, REPLY(key.id, callbackUrl), { ...options, ...budget, actor: actor(res), label: body.label, columns: ITEM_COLUMNS });
  if (estimate) await ctx.service.keepEstimate(submitted.batchId, estimate);
  await rememberRequested(ctx.redis, key.workspace, submitted.batchId, { fields: fields ?? null });
  acceptBatch({ call, submitted, itemErrors });
}

interface BatchAccepted {
  call: EnrichCall;
  submitted: BatchSubmitResult;
  /** Each bad item's field errors, by index. */
  itemErrors: Map<number, FieldError[]>;
}

/** 202 with the batch id, its counts and each rejected item's reason. */
function acceptBatch({ call, submitted, itemErrors }: BatchAccepted): void {
  const location = `${call.req.baseUrl}/jobs/${submitted.batchId}`;
  call.res
    .status(202)
    .location(location)
    .json({
      batchId: submitted.batchId,
      total: submitted.total,
      accepted: submitted.accepted,
      rejected: submitted.rejected.map((r) => ({ index: r.index, code: r.code, reason: r.reason, ...(itemErrors.has(r.index) ? { errors: itemErrors.get(r.index) } : {}) })),
      links: { self: location, results: `${location}/results.csv` },
    });
}
