// GET /v1/jobs and /v1/batches: the key's workspace's jobs and batches, newest first, filtered by
// state and creation time, cursor-paged (page.next); GET /v1/batches/:id: a batch's counts and
// state without items, the cheap status call for polling a large batch.
import type { Request, Router } from 'express';
import { z } from 'zod';
import type { TriggerContext } from '../../../src/sdk/index.js';
import type { ListQuery } from '../../../src/sdk/index.js';
import { ErrorCodes } from '../../../src/sdk/index.js';
import type { HttpApiConfig } from './config.js';
import { callerKey, requireScope } from './auth.js';
import { ApiProblem, fieldErrors, validationProblem } from './problem.js';
import { batchView } from './job-routes.js';

export const JOB_STATES = ['queued', 'running', 'paused', 'done', 'failed', 'cancelled'] as const;
export const BATCH_STATES = ['running', 'paused', 'done', 'cancelled'] as const;

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((s) => new Date(s))
  .meta({ description: 'An ISO date (2026-12-01, midnight UTC) or date-time.' });

export function listQuerySchema(states: readonly [string, ...string[]]) {
  return z.strictObject({
    state: z.enum(states).optional(),
    from: instant.optional().meta({ description: 'Created at or after.' }),
    to: instant.optional().meta({ description: 'Created before.' }),
    cursor: z.string().max(200).optional().meta({ description: 'page.cursor of the previous page.' }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  });
}

function parseQuery(req: Request, states: readonly [string, ...string[]]): ListQuery {
  const q = listQuerySchema(states).safeParse(req.query);
  if (!q.success) throw validationProblem(fieldErrors(q.error), 'The query');
  return q.data;
}

/** The next page's URL: this request's query with the new cursor. */
function nextUrl(req: Request, cursor: string | null): string | null {
  if (!cursor) return null;
  const params = new URLSearchParams(req.query as Record<string, string>);
  params.set('cursor', cursor);
  return `${req.baseUrl}${req.path}?${params}`;
}

export function mountListRoutes(router: Router, ctx: TriggerContext<HttpApiConfig>): void {
  const { service } = ctx;

  router.get('/jobs', requireScope('read'), async (req, res) => {
    const query = parseQuery(req, JOB_STATES);
    const { items, next } = await service.listJobs(callerKey(res).workspace, query);
    const view = (j: (typeof items)[number]) => ({ kind: 'job', jobId: j.jobId, status: j.status, input: j.display, cost: { usd: j.costUsd }, createdAt: j.createdAt, ...(j.finishedAt ? { finishedAt: j.finishedAt } : {}) });
    res.json({ items: items.map(view), page: { limit: query.limit, cursor: next, next: nextUrl(req, next) } });
  });

  router.get('/batches', requireScope('read'), async (req, res) => {
    const query = parseQuery(req, BATCH_STATES);
    const { items, next } = await service.listBatches(callerKey(res).workspace, query);
    res.json({ items: items.map(batchView), page: { limit: query.limit, cursor: next, next: nextUrl(req, next) } });
  });

  router.get('/batches/:id', requireScope('read'), async (req, res) => {
    const id = String(req.params.id);
    if (!/^bat_[A-Za-z0-9]{1,64}$/.test(id)) throw new ApiProblem(404, 'not-found', 'No such batch', `"${id}" is not a batch id: batch ids look like bat_..., as POST /v1/enrich/batch returns them.`, { code: ErrorCodes.BATCH_NOT_FOUND });
    const status = await service.status(id, callerKey(res).workspace);
    if (status.kind !== 'batch') throw new ApiProblem(404, 'not-found', 'No such batch', `${id} is not a batch.`, { code: ErrorCodes.BATCH_NOT_FOUND });
    res.json(batchView(status));
  });
}
