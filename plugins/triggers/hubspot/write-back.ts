// Writes finished enrichments back to HubSpot: current values read in batches, the policy
// applied (write-policy.ts), then batch updates of at most 100 records per call. HubSpot refuses
// a batch as a whole for one bad value; when it names the property, only that value is dropped
// (a conflict with HubSpot's reason) and the rest is re-sent; otherwise records go one by one,
// so only the bad record fails, reported in the activity log with HubSpot's message (the digest
// reads failed writes from there). Every value written is remembered in Redis, so the
// propertyChange webhook it causes is recognised as ours.
import { HubspotApiError, hubspotMessage, type ObjectType } from './hubspot-api.js';
import { planUpdate, propertiesToCheck, type Conflict, type Plan, type Views } from './write-policy.js';
import { refusedProperties, type RefusedProperty } from './validation-error.js';
import { definitions } from './property-definitions.js';
import { linkCompanies } from './companies.js';
import { objectKey, type Hubspot } from './state.js';

export interface WriteItem {
  /** The portal the record is in (unset: the first configured portal). */
  portalId?: string;
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
  /** Companies created and contact-company associations made for the contacts written. */
  companiesCreated?: number;
  associations?: number;
}

const WRITTEN_TTL_S = 86400;

export async function writeBack(h: Hubspot, items: WriteItem[]): Promise<WriteReport> {
  const report: WriteReport = { written: 0, failed: [], updateCalls: 0, kept: {} };
  for (const objectType of ['contacts', 'companies'] as const) {
    const ofType = items.filter((i) => i.objectType === objectType);
    for (let i = 0; i < ofType.length; i += 100) await writeChunk(h, objectType, ofType.slice(i, i + 100), report);
  }
  const failed = new Set(report.failed.map((f) => `${f.objectType}:${f.objectId}`));
  const links = items.filter((i) => i.objectType === 'contacts' && !failed.has(`contacts:${i.objectId}`)).map((i) => ({ contactId: i.objectId, views: i.views }));
  try {
    await linkCompanies(h, links, report);
  } catch (err) {
    // The contacts are written; their companies wait for the next enrichment or a push.
    h.ctx.logger.warn({ err, contacts: links.length }, 'HubSpot companies not linked');
  }
  return report;
}

async function writeChunk(h: Hubspot, objectType: ObjectType, chunk: WriteItem[], report: WriteReport): Promise<void> {
  let current: Map<string, Record<string, string | null>>;
  try {
    const rows = await h.api.read(objectType, chunk.map((c) => c.objectId), propertiesToCheck(h.config, objectType, chunk.map((c) => c.views)));
    current = new Map(rows.map((r) => [r.id, r.properties]));
  } catch (err) {
    for (const c of chunk) await fail(h, report, objectType, c.objectId, hubspotMessage(err));
    return;
  }
  const inputs: WriteInput[] = [];
  const now = h.ctx.clock.now();
  const defs = await definitions(h, objectType).catch((err: unknown) => {
    h.ctx.logger.warn({ err, objectType }, 'HubSpot property definitions not read: values are sent untranslated');
    return undefined;
  });
  for (const item of chunk) {
    const props = current.get(item.objectId);
    if (!props) {
      await fail(h, report, objectType, item.objectId, `${objectType} ${item.objectId} is not in HubSpot (deleted or merged?)`);
      continue;
    }
    const plan = planUpdate(h.config, objectType, item.views, props, now, defs);
    await recordConflicts(h, objectType, item.objectId, item.display, plan.conflicts);
    const input: WriteInput = { id: item.objectId, properties: plan.properties, display: item.display, origins: plan.origins };
    for (const u of plan.unmatched) await recordRefusal(h, objectType, input, u.property, u.value, u.reason);
    if (plan.kept.length) report.kept[item.objectId] = plan.kept;
    inputs.push(input);
  }
  await updateBatch(h, objectType, inputs, report);
}

/** One record's update; `display` and `origins` say what to record when HubSpot refuses a property. */
export interface WriteInput {
  id: string;
  properties: Record<string, string>;
  display?: string;
  origins?: Plan['origins'];
  /** Whose conflict a refusal is (an accepted conflict keeps its workspace); default HubSpot's own. */
  workspace?: string;
}

/** How many times a batch is re-sent after HubSpot names more refused properties. */
const MAX_ROUNDS = 3;
const wire = (inputs: WriteInput[]) => inputs.map((i) => ({ id: i.id, properties: i.properties }));
const isValidation = (err: unknown) => err instanceof HubspotApiError && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 429;

/**
 * One batch update. When HubSpot refuses values it names (a dropdown option...), only those
 * properties are dropped, each recorded as a conflict with HubSpot's reason, and the rest goes
 * in the same retry; a refusal that names nothing is retried record by record.
 */
export async function updateBatch(h: Hubspot, objectType: ObjectType, all: WriteInput[], report: WriteReport): Promise<void> {
  let inputs = all.filter((i) => Object.keys(i.properties).length);
  for (let round = 0; inputs.length; round++) {
    try {
      report.updateCalls++;
      const res = await h.api.call(`batch update of ${objectType}`, (c) => c.crm.objects.batchApi.update(objectType, { inputs: wire(inputs) }));
      const errors = (res as { errors?: { message?: string; context?: Record<string, string[]> }[] }).errors ?? [];
      const failedIds = new Set<string>();
      for (const e of errors) {
        for (const id of e.context?.ids ?? []) {
          failedIds.add(id);
          await fail(h, report, objectType, id, e.message ?? 'HubSpot refused the update');
        }
      }
      for (const input of inputs) if (!failedIds.has(input.id)) await written(h, objectType, input, report);
      return;
    } catch (err) {
      if (!isValidation(err)) {
        for (const input of inputs) await fail(h, report, objectType, input.id, err instanceof Error ? err.message : String(err));
        return;
      }
      const refused = refusedProperties(err);
      const dropped = refused.length && round < MAX_ROUNDS ? await dropRefused(h, objectType, inputs, refused) : 0;
      if (!dropped) {
        for (const input of inputs) await updateOne(h, objectType, input, report);
        return;
      }
      inputs = inputs.filter((i) => Object.keys(i.properties).length);
    }
  }
}

/** Removes the refused properties from the inputs that carry them (with the quoted value); returns how many. */
async function dropRefused(h: Hubspot, objectType: ObjectType, inputs: WriteInput[], refused: RefusedProperty[]): Promise<number> {
  let dropped = 0;
  for (const input of inputs) {
    for (const r of refused) {
      const value = input.properties[r.name];
      if (value === undefined || (r.value !== undefined && r.value !== value)) continue;
      delete input.properties[r.name];
      dropped++;
      await recordRefusal(h, objectType, input, r.name, value, r.reason);
    }
  }
  return dropped;
}

/** A record alone (after HubSpot refused a batch without naming properties). */
async function updateOne(h: Hubspot, objectType: ObjectType, input: WriteInput, report: WriteReport): Promise<void> {
  for (let round = 0; ; round++) {
    try {
      report.updateCalls++;
      await h.api.call(`update of ${objectType} ${input.id}`, (c) => c.crm.objects.basicApi.update(objectType, input.id, { properties: input.properties }));
      await written(h, objectType, input, report);
      return;
    } catch (err) {
      const refused = round < MAX_ROUNDS ? refusedProperties(err) : [];
      if (!refused.length || !(await dropRefused(h, objectType, [input], refused.map(({ value: _v, ...r }) => r))) || !Object.keys(input.properties).length) {
        await fail(h, report, objectType, input.id, err instanceof Error ? err.message : String(err));
        return;
      }
    }
  }
}

/** A property HubSpot refused, kept for review with HubSpot's reason (`hubspot conflicts`, the digest). */
export async function recordRefusal(h: Hubspot, objectType: ObjectType, input: WriteInput, property: string, value: string, reason: string): Promise<void> {
  const origin = input.origins?.[property];
  h.ctx.logger.info({ objectType, objectId: input.id, property, reason }, 'HubSpot refused a property value; the rest of the record is written');
  await h.conflicts.replaceOne(
    { _id: `${h.portalId}:${objectType}:${input.id}:${property}` as never },
    { portalId: h.portalId, objectType, objectId: input.id, record: input.display ?? '', ...(input.workspace ? { workspace: input.workspace } : {}), property, field: origin?.field ?? '', hubspotValue: '', providerValue: value, source: origin?.source ?? 'enrichbot', confidence: origin?.confidence ?? 0, reason, at: h.ctx.clock.now().toISOString() },
    { upsert: true },
  );
}

async function written(h: Hubspot, objectType: ObjectType, input: WriteInput, report: WriteReport): Promise<void> {
  report.written++;
  await rememberWritten(h, objectType, input.id, input.properties);
}

/** What enrichbot wrote, so the propertyChange events it causes do not start new enrichments. */
export async function rememberWritten(h: Hubspot, objectType: ObjectType, objectId: string, properties: Record<string, string>): Promise<void> {
  if (!Object.keys(properties).length) return;
  const key = `wrote:${objectKey(h, objectType, objectId)}`;
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
      { _id: `${h.portalId}:${objectType}:${objectId}:${c.property}` as never },
      { portalId: h.portalId, objectType, objectId, record: display, workspace, property: c.property, field: c.field, hubspotValue: c.hubspotValue, providerValue: c.providerValue, source: c.source, confidence: c.confidence, at },
      { upsert: true },
    );
  }
}

export interface ConflictRow {
  /** The portal the record is in (absent on rows from before portals were kept: the first configured one). */
  portalId?: string;
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
  /** Set when HubSpot refused the value (or no dropdown option matched it): why. */
  reason?: string;
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
