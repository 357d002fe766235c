// Contact write-back also looks after the contact's company: found by domain (one search for up
// to 100 domains), created when missing (`companies: create`, the default; `link`, `off`), its empty properties
// filled under the same policy, and the contact associated with it (v4 batch association, which
// HubSpot keeps once per pair). One process at a time by lease, so contacts of the same new
// domain written concurrently create the company once.
import { normalizeDomain } from '../../../src/sdk/index.js';
import type { ObjectType } from './hubspot-api.js';
import { definitions } from './property-definitions.js';
import { objectKey, type Hubspot } from './state.js';
import { planUpdate, propertiesToCheck, propertyValue, type Views } from './write-policy.js';
import { recordConflicts, recordRefusal, rememberWritten, updateBatch, type WriteInput, type WriteReport } from './write-back.js';

export interface CompanyLink {
  contactId: string;
  views: Views;
}

const LEASE_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The company domain of an enriched contact, if any. */
export function companyDomain(views: Views): string | undefined {
  const raw = propertyValue(views.company?.fields.domain?.value) ?? propertyValue(views.person?.fields.companyDomain?.value);
  if (!raw) return undefined;
  try {
    return normalizeDomain(raw) || undefined;
  } catch {
    return undefined;
  }
}

async function withLease<T>(h: Hubspot, fn: () => Promise<T>): Promise<T> {
  for (let waited = 0; ; waited += 100) {
    const lease = await h.ctx.lease('companies', LEASE_MS);
    if (lease) {
      try {
        return await fn();
      } finally {
        await lease.release();
      }
    }
    if (waited > LEASE_MS) throw new Error('another process kept the HubSpot companies lease for over a minute');
    await sleep(100);
  }
}

/** Finds or creates the contacts' companies, fills them, and associates each contact with its company. */
export async function linkCompanies(h: Hubspot, links: CompanyLink[], report: WriteReport): Promise<void> {
  if (h.config.companies === 'off') return;
  const byDomain = new Map<string, CompanyLink[]>();
  for (const l of links) {
    const d = companyDomain(l.views);
    if (d) byDomain.set(d, [...(byDomain.get(d) ?? []), l]);
  }
  const domains = [...byDomain.keys()];
  for (let i = 0; i < domains.length; i += 100) {
    await withLease(h, () => linkChunk(h, domains.slice(i, i + 100), byDomain, report));
  }
}

async function linkChunk(h: Hubspot, domains: string[], byDomain: Map<string, CompanyLink[]>, report: WriteReport): Promise<void> {
  const type: ObjectType = 'companies';
  const viewsOf = (d: string): Views => ({ company: byDomain.get(d)!.find((l) => l.views.company)?.views.company });
  const check = [...new Set(['domain', ...propertiesToCheck(h.config, type, domains.map(viewsOf))])];
  const found = await h.api.call('search of companies by domain', (c) =>
    c.crm.objects.searchApi.doSearch(type, { filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'IN' as never, values: domains }] }], properties: check, sorts: ['createdate'], limit: 100, after: undefined as never }),
  );
  const companyOf = new Map<string, { id: string; properties: Record<string, string | null> }>();
  for (const r of found.results) {
    const d = String(r.properties.domain ?? '').toLowerCase();
    if (d && !companyOf.has(d)) companyOf.set(d, { id: String(r.id), properties: r.properties as Record<string, string | null> });
  }
  const defs = await definitions(h, type).catch(() => undefined);
  const now = h.ctx.clock.now();

  const missing = domains.filter((d) => !companyOf.has(d));
  if (missing.length && h.config.companies === 'create') {
    const inputs = missing.map((d) => {
      const views = viewsOf(d);
      return { properties: { ...(views.company ? planUpdate(h.config, type, views, {}, now, defs).properties : {}), domain: d } };
    });
    const created = await h.api.call('batch create of companies', (c) => c.crm.objects.batchApi.create(type, { inputs: inputs as never }));
    for (const r of created.results) {
      const id = String(r.id);
      const d = String(r.properties.domain ?? '').toLowerCase();
      companyOf.set(d, { id, properties: r.properties as Record<string, string | null> });
      // Its creation webhook is ours: it must not start another enrichment.
      await h.ctx.redis.set(`created:${objectKey(h, type, id)}`, '1', 'EX', 86400);
      await rememberWritten(h, type, id, inputs.find((x) => x.properties.domain === d)?.properties ?? {});
    }
    report.companiesCreated = (report.companiesCreated ?? 0) + created.results.length;
  }

  const fills: WriteInput[] = [];
  for (const d of domains) {
    const company = companyOf.get(d);
    const views = viewsOf(d);
    if (!company || missing.includes(d) || !views.company) continue;
    const plan = planUpdate(h.config, type, views, company.properties, now, defs);
    await recordConflicts(h, type, company.id, d, plan.conflicts);
    const input: WriteInput = { id: company.id, properties: plan.properties, display: d, origins: plan.origins };
    for (const u of plan.unmatched) await recordRefusal(h, type, input, u.property, u.value, u.reason);
    // enrichbot_* stamps alone are no reason to touch a company nobody enriched.
    const mapped = Object.keys(plan.properties).filter((p) => !p.startsWith('enrichbot_'));
    if (mapped.length) fills.push(input);
  }
  const fillReport: WriteReport = { written: 0, failed: [], updateCalls: 0, kept: {} };
  await updateBatch(h, type, fills, fillReport);
  report.updateCalls += fillReport.updateCalls;
  report.failed.push(...fillReport.failed);

  const pairs = domains.flatMap((d) => (companyOf.has(d) ? byDomain.get(d)!.map((l) => ({ _from: { id: l.contactId }, to: { id: companyOf.get(d)!.id } })) : []));
  for (let i = 0; i < pairs.length; i += 100) {
    const chunk = pairs.slice(i, i + 100);
    await h.api.call('association of contacts with companies', (c) => c.crm.associations.v4.batchApi.createDefault('contacts', 'companies', { inputs: chunk }));
    report.associations = (report.associations ?? 0) + chunk.length;
  }
}
