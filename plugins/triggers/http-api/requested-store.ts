// What fields a job or batch was asked for, so GET /v1/jobs/:id answers in the same shape as
// the POST did (every requested field, null when not found). Kept in the plugin's Redis, per
// workspace (two workspaces may share a job id's fields list without seeing each other's).
import type { Redis } from 'ioredis';
import type { RequestedField } from './record-response.js';

const TTL_S = 15 * 86400; // a little past the service's job and batch retention (14 days)
const key = (workspace: string, id: string) => `requested:${workspace}:${id}`;

export async function rememberRequested(redis: Redis, workspace: string, id: string, fields: RequestedField[] | undefined): Promise<void> {
  if (fields?.length) await redis.set(key(workspace, id), JSON.stringify(fields), 'EX', TTL_S);
  else await redis.del(key(workspace, id));
}

export async function recallRequested(redis: Redis, workspace: string, id: string): Promise<RequestedField[] | undefined> {
  const raw = await redis.get(key(workspace, id));
  return raw ? (JSON.parse(raw) as RequestedField[]) : undefined;
}
