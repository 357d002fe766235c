// What fields a request asked for, so a later GET answers in the same shape as the POST did
// (every requested field, null when not found). Kept in the plugin's Redis, per workspace, under
// an id of its own: a batch id (one per submission), or for POST /v1/enrich a request id, since
// two requests that join one job may ask for different fields and must not overwrite each other.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RequestedField } from './record-response.js';

const TTL_S = 15 * 86400; // a little past the service's job and batch retention (14 days)
const key = (workspace: string, id: string) => `requested:${workspace}:${id}`;

export const REQUEST_ID = /^req_[a-f0-9]{24}$/;
export const newRequestId = () => `req_${randomBytes(12).toString('hex')}`;

export interface Requested {
  /** null: the request named no fields (every field found is shown). */
  fields: RequestedField[] | null;
  /** The job a request id belongs to. */
  jobId?: string;
}

export async function rememberRequested(redis: Redis, workspace: string, id: string, value: Requested): Promise<void> {
  await redis.set(key(workspace, id), JSON.stringify(value), 'EX', TTL_S);
}

export async function recallRequested(redis: Redis, workspace: string, id: string): Promise<Requested | undefined> {
  const raw = await redis.get(key(workspace, id));
  if (!raw) return undefined;
  const parsed = JSON.parse(raw) as Requested | RequestedField[];
  // Written before request ids: the list alone.
  return Array.isArray(parsed) ? { fields: parsed } : parsed;
}
