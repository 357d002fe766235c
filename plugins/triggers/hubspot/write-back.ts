// Writes finished enrichments back to HubSpot: current values read in batches, the policy
// applied (write-policy.ts), then batch updates of at most 100 records per call. A batch
// HubSpot refuses as a whole (one bad value fails all 100) is written record by record, so
// only the bad record fails; it is reported in the activity log with HubSpot's message (the
// digest reads failed writes from there). Every value written is remembered in Redis, so the
// propertyChange webhook it causes is recognised as ours.
import { HubspotApiError, hubspotMessage, type ObjectType } from './hubspot-api.js';
import { planUpdate, readProperties, type Conflict, type Views } from './write-policy.js';
import { objectKey, type Hubspot } from './state.js';

export interface WriteItem {
  objectType: ObjectType;
  objectId: string;
  views: Views;
  /** What identifies it in enrichbot (an email or a domain), for the conflicts list. */
  display: string;
}

export interface WriteReport {
  written: number;
  failed: { objectType: ObjectType; objectId: string; error: string }[];
  updateCalls: number;
  kept: Record<string, string[]>;
}

const WRITTEN_TTL_S = 86400;

export async function writeBack(h: Hubspot, items: WriteItem[]): Promise<WriteReport> {
  const report: WriteReport = { written: 0, failed: [], updateCalls: 0, kept: {} };
  for (const objectType of ['contacts', 'companies'] as const) {
    const ofType = items.filter((i) => i.objectType === objectType);
    for (let i = 0; i < ofType.length; i += 100) await writeChunk(h, objectType, ofType.slice(i, i + 100), report);
  }
  return report;
}

async function writeChunk(h: Hubspot, objectType: ObjectType, chunk: WriteItem[], report: WriteReport): Promise<void> {
  let current: Map<string, Record<string, string | null>>;
  try {
    const rows = await h.api.read(objectType, chunk.map((c) => c.objectId), readProperties(h.config, objectType));
    current = new Map(rows.map((r) => [r.id, r.properties]));
  } catch (err) {
    for (const c of chunk) await fail(h, report, objectType, c.objectId, hubspotMessage(err));
    return;
  }
  const inputs: { id: string; properties: Record<string, string> }[] = [];
  const now = h.ctx.clock.now();
  for (const item of chunk) {
    const props = current.get(item.objectId);
    if (!props) {
      await fail(h, report, objectType, item.objectId, `${objectType} ${item.objectId} is not in HubSpot (deleted or merged?)`);
      continue;
    }
    const plan = planUpdate(h.config, objectType, item.views, props, now);
    await recordConflicts(h, objectType, item.objectId, item.display, plan.conflicts);
    if (plan.kept.length) report.kept[item.objectId] = plan.kept;
    inputs.push({ id: item.objectId, properties: plan.properties });
  }
  await updateBatch(h, objectType, inputs, report);
}

/** One batch update; if HubSpot refuses the batch as a whole, each record alone. */
export async function updateBatch(h: Hubspot, objectType: ObjectType, inputs: { id: string; properties: Record<string, string> }[], report: WriteReport): Promise<void> {
  if (!inputs.length) return;
  try {
    report.updateCalls++;
    const res = await h.api.call(`batch update of ${objectType}`, (c) => c.crm.objects.batchApi.update(objectType, { inputs }));
    const errors = (res as { errors?: { message?: string; context?: Record<string, string[]> }[] }).errors ?? [];
    const failedIds = new Set<string>();
    for (const e of errors) {
      for (const id of e.context?.ids ?? []) {
        failedIds.add(id);
        await fail(h, report, objectType, id, e.message ?? 'HubSpot refused the update');
      }
    }
    for (const input of inputs) if (!failedIds.has(input.id)) await written(h, objectType, input, report);
  } catch (err) {
    if (!(err instanceof HubspotApiError) || inputs.length === 1 || err.status === undefined || err.status === 429 || err.status >= 500) {
      for (const input of inputs) await fail(h, report, objectType, input.id, err instanceof Error ? err.message : String(err));
      return;
    }
    for (const input of inputs) {
      try {
        report.updateCalls++;
        await h.api.call(`update of ${objectType} ${input.id}`, (c) => c.crm.objects.basicApi.update(objectType, input.id, { properties: input.properties }));
        await written(h, objectType, input, report);
      } catch (one) {
        await fail(h, report, objectType, input.id, one instanceof Error ? one.message : String(one));
      }
    }
  }
}

async function written(h: Hubspot, objectType: ObjectType, input: { id: string; properties: Record<string, string> }, report: WriteReport): Promise<void> {
  report.written++;
  await rememberWritten(h, objectType, input.id, input.properties);
}

/** What enrichbot wrote, so the propertyChange events it causes do not start new enrichments. */
export async function rememberWritten(h: Hubspot, objectType: ObjectType, objectId: string, properties: Record<string, string>): Promise<void> {
  if (!Object.keys(properties).length) return;
  const key = `wrote:${objectKey(objectType, objectId)}`;
  await h.ctx.redis.hset(key, properties);
  await h.ctx.redis.expire(key, WRITTEN_TTL_S);
}

async function fail(h: Hubspot, report: WriteReport, objectType: ObjectType, objectId: string, error: string): Promise<void> {
  report.failed.push({ objectType, objectId, error });
  h.ctx.logger.warn({ objectType, objectId, error }, 'HubSpot write failed');
  await h.ctx.service.logActivity({
    workspace: h.config.workspace,
    actor: 'hubspot',
    action: 'push',
    subject: `hubspot ${objectType} ${objectId}`,
    detail: { destination: 'hubspot', ok: false, error, objectId, objectType },
  });
}

/** Disagreements kept for review, with the workspace whose record disagreed (HubSpot's own, or the one that pushed). */
export async function recordConflicts(h: Hubspot, objectType: ObjectType, objectId: string, display: string, conflicts: Conflict[], workspace = h.config.workspace): Promise<void> {
  const at = h.ctx.clock.now().toISOString();
  for (const c of conflicts) {
    await h.conflicts.replaceOne(
      { _id: `${objectType}:${objectId}:${c.property}` as never },
      { objectType, objectId, record: display, workspace, property: c.property, field: c.field, hubspotValue: c.hubspotValue, providerValue: c.providerValue, source: c.source, confidence: c.confidence, at },
      { upsert: true },
    );
  }
}

export interface ConflictRow {
  objectType: ObjectType;
  objectId: string;
  record: string;
  /** The enrichbot workspace whose value disagreed (absent on rows from before it was kept). */
  workspace?: string;
  property: string;
  field: string;
  hubspotValue: string;
  providerValue: string;
  source: string;
  confidence: number;
  at: string;
}

/** Disagreements kept for review, newest first. */
export async function listConflicts(h: Hubspot, limit = 500): Promise<ConflictRow[]> {
  const rows = await h.conflicts.find({}).limit(limit).toArray();
  return (rows as unknown as ConflictRow[]).map(({ ...r }) => {
    delete (r as { _id?: unknown })._id;
    return r;
  }).sort((a, b) => b.at.localeCompare(a.at));
}
