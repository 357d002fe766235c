// "Push to HubSpot" (from Slack, through service.push): create or update the contact (found by
// email) and the company (found by domain) under the same policy as the write-back, then
// associate them. What HubSpot already had stays; `kept` lists it. Only a workspace bound to this
// HubSpot account may push (pushWorkspaces; by default HubSpot's own workspace and the team of a
// single-workspace Slack): one Slack team must never write into another's CRM.
import { EnrichbotError, ErrorCodes, type PushRequest, type PushResult } from '../../../src/sdk/index.js';
import type { ObjectType } from './hubspot-api.js';
import { planUpdate, propertyValue, readProperties, type Views } from './write-policy.js';
import { recordConflicts, rememberWritten, updateBatch, type WriteReport } from './write-back.js';
import { objectKey, type Hubspot } from './state.js';

async function findBy(h: Hubspot, objectType: ObjectType, property: string, value: string): Promise<{ id: string; properties: Record<string, string | null> } | undefined> {
  const res = await h.api.call(`search of ${objectType}`, (c) =>
    c.crm.objects.searchApi.doSearch(objectType, { filterGroups: [{ filters: [{ propertyName: property, operator: 'EQ' as never, value }] }], properties: readProperties(h.config, objectType), limit: 1, after: undefined as never, sorts: [] }),
  );
  const r = res.results[0];
  return r ? { id: String(r.id), properties: r.properties as Record<string, string | null> } : undefined;
}

async function upsert(h: Hubspot, objectType: ObjectType, idProperty: string, idValue: string, views: Views, workspace: string): Promise<{ id: string; created: boolean; count: number; kept: string[] }> {
  const now = h.ctx.clock.now();
  const existing = await findBy(h, objectType, idProperty, idValue);
  if (!existing) {
    const plan = planUpdate(h.config, objectType, views, {}, now);
    const properties = { ...plan.properties, [idProperty]: idValue };
    const created = await h.api.call(`create of ${objectType}`, (c) => c.crm.objects.basicApi.create(objectType, { properties, associations: [] }));
    const id = String(created.id);
    // Its creation webhook is ours: it must not start another enrichment.
    await h.ctx.redis.set(`created:${objectKey(h, objectType, id)}`, '1', 'EX', 86400);
    await rememberWritten(h, objectType, id, properties);
    return { id, created: true, count: Object.keys(properties).length, kept: [] };
  }
  const plan = planUpdate(h.config, objectType, views, existing.properties, now);
  await recordConflicts(h, objectType, existing.id, idValue, plan.conflicts, workspace);
  const report: WriteReport = { written: 0, failed: [], updateCalls: 0, kept: {} };
  await updateBatch(h, objectType, [{ id: existing.id, properties: plan.properties }], report);
  if (report.failed.length) throw new Error(report.failed[0].error);
  return { id: existing.id, created: false, count: Object.keys(plan.properties).length, kept: plan.kept };
}

/** Refuses (and logs) a push from a workspace that is not bound to this HubSpot account. */
function checkBound(h: Hubspot, request: PushRequest): void {
  const bound = h.config.pushWorkspaces ?? [h.config.workspace];
  if (bound.includes(request.workspace) || (!h.config.pushWorkspaces && request.fromSoleWorkspace)) return;
  h.ctx.logger.warn({ workspace: request.workspace, by: request.by, bound: h.config.pushWorkspaces ?? [h.config.workspace, 'a single-workspace Slack team'] }, 'push to HubSpot refused: that workspace is not bound to this HubSpot account');
  // The person sees their own workspace only: never which others are bound.
  throw new EnrichbotError(
    ErrorCodes.PUSH_REFUSED,
    `Workspace ${request.workspace} is not allowed to push to the HubSpot account enrichbot is connected to, so nothing was written. If it should be, ask the enrichbot operator to add ${request.workspace} to HUBSPOT_PUSH_WORKSPACES (triggers.hubspot.pushWorkspaces).`,
  );
}

export async function pushToHubspot(h: Hubspot, request: PushRequest): Promise<PushResult> {
  checkBound(h, request);
  const views: Views = { person: request.person, company: request.company };
  const email = propertyValue(request.person?.fields.workEmail?.value) ?? propertyValue(request.person?.fields.personalEmail?.value);
  const domain = propertyValue(request.company?.fields.domain?.value) ?? propertyValue(request.person?.fields.companyDomain?.value);
  const parts: string[] = [];
  const kept: string[] = [];
  let contact: Awaited<ReturnType<typeof upsert>> | undefined;
  let company: Awaited<ReturnType<typeof upsert>> | undefined;
  if (email) {
    contact = await upsert(h, 'contacts', 'email', email, views, request.workspace);
    // So a later privacy deletion of this contact knows whom to forget, and in which workspaces.
    await h.objects.updateOne({ _id: objectKey(h, 'contacts', contact.id) as never }, { $set: { input: email }, $addToSet: { workspaces: request.workspace } }, { upsert: true });
    parts.push(`contact ${contact.id} ${contact.created ? 'created' : 'updated'} (${contact.count} properties)`);
    kept.push(...contact.kept.map((p) => `contact.${p}`));
  }
  if (domain) {
    company = await upsert(h, 'companies', 'domain', domain, views, request.workspace);
    parts.push(`company ${company.id} ${company.created ? 'created' : 'updated'} (${company.count} properties)`);
    kept.push(...company.kept.map((p) => `company.${p}`));
  }
  if (!contact && !company) throw new Error('the record has neither an email nor a domain HubSpot could match on');
  if (contact && company) {
    await h.api.call('association of contact and company', (c) => c.crm.associations.v4.basicApi.createDefault('contacts', contact.id, 'companies', company.id));
    parts.push('associated');
  }
  return { summary: parts.join('; '), kept };
}
