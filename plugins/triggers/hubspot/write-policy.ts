// Which HubSpot properties an enrichment may set. Default policy `fill`: a property HubSpot
// already has stays, and a different provider value is recorded as a conflict for review.
// An empty string is never sent: HubSpot would clear the property. enrichbot's own properties
// (enrichbot_*) are always written.
import type { RecordView } from '../../../src/sdk/index.js';
import { propertyMap, type HubspotConfig } from './config.js';
import type { ObjectType } from './hubspot-api.js';
import type { Definitions } from './property-definitions.js';
import { toPortalValue } from './option-values.js';

export interface Views {
  person?: RecordView;
  company?: RecordView;
}

export interface Conflict {
  property: string;
  field: string;
  hubspotValue: string;
  providerValue: string;
  source: string;
  confidence: number;
}

export interface Plan {
  properties: Record<string, string>;
  /** Properties HubSpot already had and kept although enrichbot found something else. */
  kept: string[];
  conflicts: Conflict[];
  /** Where each mapped property's value came from (for a refusal's conflict row). */
  origins: Record<string, { field: string; source: string; confidence: number }>;
  /** Values the portal's dropdown has no option for: not sent, recorded as conflicts. */
  unmatched: { property: string; value: string; reason: string }[];
}

/** A HubSpot property value, or undefined when there is nothing worth sending. */
export function propertyValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return (v as string[]).filter((x) => x.trim()).join('; ') || undefined;
  return undefined;
}

const empty = (v: string | null | undefined) => v === undefined || v === null || v.trim() === '';
const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Values the operator or the CRM gave (not found by a provider) are never written back. */
const OWN_SOURCES = new Set(['input']);

function viewFor(views: Views, field: string): RecordView | undefined {
  return field.startsWith('person.') ? views.person : views.company;
}

/** What to send; with the portal's property definitions, dropdown values become its option values. */
export function planUpdate(config: HubspotConfig, objectType: ObjectType, views: Views, current: Record<string, string | null>, now: Date, defs?: Definitions): Plan {
  const plan: Plan = { properties: {}, kept: [], conflicts: [], origins: {}, unmatched: [] };
  for (const [property, { field, policy }] of Object.entries(propertyMap(config, objectType))) {
    const stored = viewFor(views, field)?.fields[field.slice(field.indexOf('.') + 1)];
    if (!stored || OWN_SOURCES.has(stored.provider)) continue;
    const found = propertyValue(stored.value);
    if (found === undefined) continue;
    const existing = current[property];
    const portal = toPortalValue(defs?.[property], field, found);
    const value = portal.value ?? found;
    const origin = { field, source: stored.provider, confidence: stored.confidence };
    if (empty(existing) || policy === 'overwrite') {
      if (portal.missing !== undefined) {
        plan.origins[property] = origin;
        plan.unmatched.push({ property, value: found, reason: `no option for "${portal.missing}" in ${property}` });
      } else if (existing !== value) {
        plan.properties[property] = value;
        plan.origins[property] = origin;
      }
    } else if (!same(existing!, value)) {
      plan.kept.push(property);
      plan.conflicts.push({ property, field, hubspotValue: existing!, providerValue: value, source: stored.provider, confidence: stored.confidence });
    }
  }
  Object.assign(plan.properties, ownProperties(objectType, views, now));
  return plan;
}

/** enrichbot_* properties: when, from which sources, how sure, email status, summary. */
export function ownProperties(objectType: ObjectType, views: Views, now: Date): Record<string, string> {
  const view = objectType === 'contacts' ? (views.person ?? views.company) : views.company;
  const out: Record<string, string> = { enrichbot_last_enriched_at: view?.enrichedAt ?? now.toISOString() };
  if (!view) return out;
  const found = Object.values(view.fields).filter((f) => !OWN_SOURCES.has(f.provider));
  const sources = [...new Set(found.map((f) => f.provider))].sort();
  if (sources.length) out.enrichbot_sources = sources.join('; ');
  if (found.length) out.enrichbot_confidence = (found.reduce((s, f) => s + f.confidence, 0) / found.length).toFixed(2);
  const status = objectType === 'contacts' ? propertyValue(views.person?.fields.workEmailStatus?.value) : undefined;
  if (status) out.enrichbot_email_verification_status = status;
  const summary = propertyValue(view.fields.summary?.value);
  if (summary) out.enrichbot_summary = summary;
  return out;
}

/**
 * What the re-read right before writing needs: only the mapped properties these records have a
 * value for (the fill-only check), not every mapped one.
 */
export function propertiesToCheck(config: HubspotConfig, objectType: ObjectType, all: Views[]): string[] {
  const out = new Set<string>();
  for (const [property, { field }] of Object.entries(propertyMap(config, objectType))) {
    const name = field.slice(field.indexOf('.') + 1);
    if (all.some((views) => {
      const stored = viewFor(views, field)?.fields[name];
      return !!stored && !OWN_SOURCES.has(stored.provider) && propertyValue(stored.value) !== undefined;
    })) out.add(property);
  }
  return [...out];
}

/** The properties the write-back reads first (mapped ones, and what identifies the record). */
export function readProperties(config: HubspotConfig, objectType: ObjectType): string[] {
  const base = objectType === 'contacts' ? ['email', 'firstname', 'lastname', 'company'] : ['domain', 'name'];
  return [...new Set([...base, ...Object.keys(propertyMap(config, objectType)), 'enrichbot_last_enriched_at'])];
}
