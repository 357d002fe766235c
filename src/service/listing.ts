// A workspace's jobs and batches, newest first, for integrators who lost an id (GET /v1/jobs,
// /v1/batches). Keyset pages on (createdAt, _id), both descending: a cursor names the last row
// seen, so a page costs one indexed range read however deep it is, and rows created meanwhile
// never shift the pages a client is walking.
import type { Store } from '../store/store.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import type { BatchStatus, JobStatus, ListPage, ListQuery, JobSummary } from '../plugin/service.js';

interface Row {
  _id: string;
  createdAt: Date;
}

function encodeCursor(row: Row): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row._id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms === 'number' && Number.isFinite(ms) && typeof id === 'string' && id.length <= 100) return { at: new Date(ms), id };
  } catch {
    /* reported below */
  }
  throw new EnrichbotError(ErrorCodes.INPUT_INVALID, 'This cursor is not one a listing gave: pass page.next as it came, or leave cursor out for the first page.');
}

function filterOf(workspace: string, query: ListQuery, stateField: 'status' | 'state'): Record<string, unknown> {
  const filter: Record<string, unknown> = { workspace };
  if (query.state) filter[stateField] = query.state;
  if (query.from || query.to) filter.createdAt = { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lt: query.to } : {}) };
  if (query.cursor) {
    const { at, id } = decodeCursor(query.cursor);
    filter.$or = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: id } }];
  }
  return filter;
}

function page<T extends Row>(rows: T[], limit: number): { rows: T[]; next: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { rows: kept, next: more ? encodeCursor(kept[kept.length - 1]) : null };
}

export class Listing {
  constructor(private readonly store: Store) {}

  async jobs(workspace: string, query: ListQuery): Promise<ListPage<JobSummary>> {
    const docs = (await this.store.models.Job.find(filterOf(workspace, query, 'status'), { _id: 1, status: 1, display: 1, costUsd: 1, createdAt: 1, finishedAt: 1 })
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean()) as unknown as (Row & { status: JobStatus; display?: string; costUsd?: number; finishedAt?: Date })[];
    const { rows, next } = page(docs, query.limit);
    return {
      items: rows.map((d) => ({ jobId: d._id, status: d.status, display: d.display ?? '', costUsd: d.costUsd ?? 0, createdAt: d.createdAt.toISOString(), ...(d.finishedAt ? { finishedAt: d.finishedAt.toISOString() } : {}) })),
      next,
    };
  }

  /** Batches with their live counts and state (`status` reads them as GET /v1/jobs/:id does). */
  async batches(workspace: string, query: ListQuery, status: (id: string) => Promise<BatchStatus>): Promise<ListPage<BatchStatus>> {
    const docs = (await this.store.models.Batch.find(filterOf(workspace, query, 'state'), { _id: 1, createdAt: 1 })
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean()) as unknown as Row[];
    const { rows, next } = page(docs, query.limit);
    return { items: await Promise.all(rows.map((r) => status(r._id))), next };
  }
}
