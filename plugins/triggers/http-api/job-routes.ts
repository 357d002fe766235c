// GET /v1/jobs/:id (a job's result, or a batch's counts and a page of its items),
// GET /v1/jobs/:id/results.csv (streamed through the shared CSV writer, the format Slack sends)
// and DELETE /v1/jobs/:id (cancel). Every call passes the key's workspace to the service, which
// answers "not found" for others.
import type { Request, Router } from 'express';
import { z } from 'zod';
import { type BatchResultRow, type BatchStatus, ErrorCodes, type JobStatusView, type TriggerContext } from '../../../src/sdk/index.js';
import type { HttpApiConfig } from './config.js';
import { callerKey, requireScope } from './auth.js';
import { ApiProblem, fieldErrors, validationProblem } from './problem.js';
import { renderResult } from './record-response.js';
import { REQUEST_ID, recallRequested } from './requested-store.js';
import type { RequestedField } from './record-response.js';

const ID = /^(enr|bat)_[A-Za-z0-9]{1,64}$/;

function jobId(req: Request): string {
  const id = String(req.params.id);
  if (!ID.test(id)) throw new ApiProblem(404, 'not-found', 'No such job', `"${id}" is not a job id: ids look like enr_... (one input) or bat_... (a batch), as POST /v1/enrich and /v1/enrich/batch return them.`, { code: ErrorCodes.JOB_NOT_FOUND });
  return id;
}

const pageSchema = (max: number) =>
  z.object({
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(max, `at most ${max} items per page`).default(Math.min(100, max)),
  });
const requestQuery = z.object({ request: z.string().regex(REQUEST_ID, 'a request id as a 202 answer gave it (req_ and 24 hex digits)').optional() });

/**
 * The fields to show: a batch's own list; for a job, the list of the request named by
 * `?request=` (the 202's Location), or every field found without one.
 */
async function requestedFields(req: Request, ctx: TriggerContext<HttpApiConfig>, workspace: string, id: string): Promise<RequestedField[] | undefined> {
  if (id.startsWith('bat_')) return (await recallRequested(ctx.redis, workspace, id))?.fields ?? undefined;
  const q = requestQuery.safeParse({ request: req.query.request });
  if (!q.success) throw validationProblem(fieldErrors(q.error), 'The query');
  if (!q.data.request) return undefined;
  const found = await recallRequested(ctx.redis, workspace, q.data.request);
  if (!found || found.jobId !== id) {
    throw new ApiProblem(404, 'not-found', 'No such request', `No request ${q.data.request} for job ${id} in this workspace (requests are kept 15 days): use the Location of the 202 answer, or drop ?request= to see every field found.`, { code: ErrorCodes.JOB_NOT_FOUND });
  }
  return found.fields ?? undefined;
}

async function* page<T>(rows: AsyncIterable<T>, offset: number, limit: number): AsyncGenerator<T> {
  let i = 0;
  for await (const row of rows) {
    if (i >= offset + limit) return;
    if (i++ >= offset) yield row;
  }
}

export function mountJobRoutes(router: Router, ctx: TriggerContext<HttpApiConfig>): void {
  const { service } = ctx;

  router.get('/jobs/:id', requireScope('read'), async (req, res) => {
    const id = jobId(req);
    const { workspace } = callerKey(res);
    const status = await service.status(id, workspace);
    const fields = await requestedFields(req, ctx, workspace, id);
    if (status.kind === 'job') {
      res.json(jobView(status, fields));
      return;
    }
    const q = pageSchema(ctx.config.maxPage).safeParse(req.query);
    if (!q.success) throw validationProblem(fieldErrors(q.error), 'The query');
    const items = [];
    for await (const row of page(service.results(id, workspace), q.data.offset, q.data.limit)) items.push(itemView(row, fields));
    const next = q.data.offset + items.length < status.total ? `${req.baseUrl}/jobs/${id}?offset=${q.data.offset + items.length}&limit=${q.data.limit}` : null;
    res.json({ ...batchView(status), items, page: { offset: q.data.offset, limit: q.data.limit, returned: items.length, next } });
  });

  router.get('/jobs/:id/results.csv', requireScope('read'), async (req, res) => {
    const id = jobId(req);
    const key = callerKey(res);
    // Status first: a job of another workspace is a 404 before any CSV byte goes out.
    const status = await service.status(id, key.workspace);
    const rows: AsyncIterable<BatchResultRow> = status.kind === 'batch' ? service.results(id, key.workspace) : singleRow(status);
    res.status(200).set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${id}.csv"` });
    const { rows: n } = await ctx.csv.write(rows, res, { inputColumns: status.kind === 'batch' ? status.columns : [] });
    await service.logActivity({ workspace: key.workspace, actor: `api:${key.id}`, action: 'export', subject: id, detail: { rows: n, via: 'http-api' } });
  });
}

/**
 * DELETE /v1/jobs/:id: cancels a job or a whole batch. Idempotent: a cancelled, done or failed
 * job is left as it is and shown. 200 once it has stopped; 202 while a running job winds down.
 */
export function mountCancelRoute(router: Router, ctx: TriggerContext<HttpApiConfig>): void {
  router.delete('/jobs/:id', requireScope('enrich'), async (req, res) => {
    const id = jobId(req);
    const key = callerKey(res);
    await ctx.service.cancel(id, key.workspace, `api:${key.id}`);
    const status = await ctx.service.status(id, key.workspace);
    if (status.kind === 'batch') {
      res.status(200).json(batchView(status));
      return;
    }
    res.status(status.status === 'running' || status.status === 'queued' ? 202 : 200).json(jobView(status, undefined));
  });
}

async function* singleRow(status: JobStatusView): AsyncGenerator<BatchResultRow> {
  yield { index: 0, columns: {}, input: status.display, status: status.status, ...(status.result ? { result: status.result } : {}) };
}

function jobView(s: JobStatusView, fields: Parameters<typeof renderResult>[1]) {
  const finished = s.status !== 'queued' && s.status !== 'running';
  return {
    kind: 'job',
    jobId: s.jobId,
    status: s.status,
    input: s.display,
    progress: { done: finished && s.status !== 'paused' ? 1 : 0, total: 1 },
    cost: { usd: s.costUsd },
    ...(s.resumeAt ? { resumeAt: s.resumeAt } : {}),
    ...(s.result && finished ? { result: renderResult(s.result, fields) } : {}),
  };
}

export function batchView(s: BatchStatus) {
  const c = s.counts;
  return {
    kind: 'batch',
    batchId: s.batchId,
    status: s.state,
    ...(s.label ? { label: s.label } : {}),
    total: s.total,
    counts: c,
    progress: { done: c.done + c.failed + c.rejected + c.cancelled, total: s.total },
    cost: { usd: s.costUsd },
    createdAt: s.createdAt,
    ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
    ...(s.resumeAt ? { resumeAt: s.resumeAt } : {}),
    // Items are put on the queue after the POST answered: those from index `through` on are not yet.
    ...(s.queueing ? { queueing: { through: s.queueing.through } } : {}),
  };
}

function itemView(row: BatchResultRow, fields: Parameters<typeof renderResult>[1]) {
  return {
    index: row.index,
    status: row.status,
    input: row.columns,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.jobId ? { jobId: row.jobId } : {}),
    ...(row.result && row.status !== 'queued' && row.status !== 'running' ? { result: renderResult(row.result, fields) } : {}),
  };
}
