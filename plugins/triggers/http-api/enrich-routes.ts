// POST /v1/enrich (wait up to waitMs for the record, else 202 with the job) and
// POST /v1/enrich/batch (a batch id at once; bad items reported by index, the rest run).
import type { Request, RequestHandler, Response, Router } from 'express';
import type { TriggerContext } from '../../../src/sdk/index.js';
import { ErrorCodes, isEnrichbotError } from '../../../src/sdk/index.js';
import type { HttpApiConfig } from './config.js';
import { callerKey, requireScope } from './auth.js';
import { ApiProblem, fieldErrors, validationProblem } from './problem.js';
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

export function mountEnrichRoutes(router: Router, ctx: TriggerContext<HttpApiConfig>, { json, idempotent, itemBudget, checkCallback }: EnrichRouteParts): void {
  const { service } = ctx;
  // The key's own item limits, else the trigger's.
  const itemLimits = (res: Response) => {
    const own = callerKey(res).limits;
    return { perMinute: own.itemsPerMinute ?? ctx.config.itemsPerMinute, perDay: own.itemsPerDay ?? ctx.config.itemsPerDay };
  };

  router.post('/enrich', requireScope('enrich'), json, idempotent, async (req, res) => {
    requireJson(req);
    const parsed = EnrichBodySchema.safeParse(req.body);
    if (!parsed.success) throw validationProblem(fieldErrors(parsed.error));
    const body = parsed.data;
    const key = callerKey(res);
    const fields = requested(body.enrich);
    const callbackUrl = body.callbackUrl ?? key.callbackUrl;
    if (callbackUrl) await checkCallback(key.id, callbackUrl);
    await takeItems(itemBudget, key.id, 1, itemLimits(res));
    const submitted = await service.submit(
      { workspace: key.workspace, input: toStructuredInput(body), refresh: body.refresh ?? false, ...(body.maxCostUsd !== undefined ? { maxCostUsd: body.maxCostUsd } : {}), ...(fields ? { groups: groupsFor(fields.map((f) => f.field)) } : {}), actor: actor(res) },
      REPLY(key.id, callbackUrl),
    );
    // A 202 names this request, so polling shows the fields it asked for (another request may
    // join the same job with other fields).
    const later = async () => {
      const requestId = newRequestId();
      await rememberRequested(ctx.redis, key.workspace, requestId, { jobId: submitted.jobId, fields: fields ?? null });
      return { requestId, location: `${req.baseUrl}/jobs/${submitted.jobId}?request=${requestId}` };
    };
    let result;
    try {
      result = await service.waitFor(submitted.jobId, ctx.config.waitMs);
    } catch (err) {
      if (!isEnrichbotError(err, ErrorCodes.JOB_TIMEOUT)) throw err;
      const now = await service.status(submitted.jobId, key.workspace);
      const { requestId, location } = await later();
      res.status(202).location(location).json({ jobId: submitted.jobId, requestId, status: now.kind === 'job' ? now.status : 'queued', input: submitted.display, links: { self: location } });
      return;
    }
    if (result.status === 'done') {
      res.status(200).json(renderResult(result, fields));
      return;
    }
    if (result.status === 'paused') {
      // A spend cap stopped it; it resumes on its own.
      const { requestId, location } = await later();
      res.status(202).location(location).json({ jobId: result.jobId, requestId, status: 'paused', input: result.display, resumeAt: result.resumeAt, links: { self: location } });
      return;
    }
    const location = `${req.baseUrl}/jobs/${submitted.jobId}`;
    throw new ApiProblem(502, 'enrichment-failed', 'The enrichment did not finish', `Job ${result.jobId} ended ${result.status}${result.error ? `: ${result.error}` : ''}. Try again later; GET ${location} shows each provider's outcome.`, {
      code: ErrorCodes.JOB_FAILED,
      jobId: result.jobId,
      outcomes: renderResult(result).outcomes,
    });
  });

  router.post('/enrich/batch', requireScope('enrich'), json, idempotent, async (req, res) => {
    requireJson(req);
    const parsed = batchBodySchema(ctx.config.maxBatchItems).safeParse(req.body);
    if (!parsed.success) {
      const tooMany = parsed.error.issues.some((i) => i.code === 'too_big' && i.path.join('/') === 'items');
      const p = validationProblem(fieldErrors(parsed.error));
      if (tooMany) throw new ApiProblem(413, 'batch-too-large', 'Batch too large', p.message, { ...p.extra, code: ErrorCodes.BATCH_TOO_LARGE });
      throw p;
    }
    const body = parsed.data;
    const key = callerKey(res);
    const fields = requested(body.enrich);
    // Each item is checked alone: a bad one becomes a rejected row with its reason, the rest run.
    const { items, itemErrors } = checkBatchItems(body.items);
    const options = { workspace: key.workspace, refresh: body.refresh ?? false, ...(fields ? { groups: groupsFor(fields.map((f) => f.field)) } : {}) };
    if (body.dryRun) {
      // The price only: no job, no item budget taken, no provider asked.
      const estimate = await service.estimate(items, options);
      res.status(200).json({ dryRun: true, estimate, rejected: [...itemErrors].map(([index, errors]) => ({ index, errors })) });
      return;
    }
    const callbackUrl = body.callbackUrl ?? key.callbackUrl;
    if (callbackUrl) await checkCallback(key.id, callbackUrl);
    await takeItems(itemBudget, key.id, items.length - itemErrors.size, itemLimits(res));
    // Priced before it runs (after, its own jobs would look fresh), kept beside its actual cost.
    const estimate = await service.estimate(items, options).catch((err: unknown) => {
      ctx.logger.warn({ err: (err as Error).message }, 'batch estimate failed; the batch runs without one');
      return undefined;
    });
    const budget = body.maxCostUsd !== undefined ? { maxCostUsd: body.maxCostUsd } : {};
    const submitted = await service.submitBatch(items, REPLY(key.id, callbackUrl), { ...options, ...budget, actor: actor(res), label: body.label, columns: ITEM_COLUMNS });
    if (estimate) await service.keepEstimate(submitted.batchId, estimate);
    await rememberRequested(ctx.redis, key.workspace, submitted.batchId, { fields: fields ?? null });
    const location = `${req.baseUrl}/jobs/${submitted.batchId}`;
    res
      .status(202)
      .location(location)
      .json({
        batchId: submitted.batchId,
        total: submitted.total,
        accepted: submitted.accepted,
        rejected: submitted.rejected.map((r) => ({ index: r.index, code: r.code, reason: r.reason, ...(itemErrors.has(r.index) ? { errors: itemErrors.get(r.index) } : {}) })),
        links: { self: location, results: `${location}/results.csv` },
      });
  });
}
