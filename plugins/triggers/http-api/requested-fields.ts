// The `enrich` list: canonical field names ("person.title", "company.industry") or short
// snake_case names ("title", "company_industry"). Person fields take their own short name;
// company fields take "company_" + theirs, so "company_name" is the company's name (the
// person's employer as a provider reported it stays "person.companyName"). A few names from
// the seed's request schema are kept as aliases. Each field maps to the field group whose
// waterfall produces it, so a request for an email does not run the company summary.
// Uses the pure field lists of src/engine/fields.ts (no engine code runs here).
import { COMPANY_FIELDS, FIELD_GROUPS, type FieldGroup, PERSON_FIELDS } from '../../../src/sdk/index.js';

export const CANONICAL_FIELDS: string[] = [...Object.keys(PERSON_FIELDS), ...Object.keys(COMPANY_FIELDS)];

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Short name -> canonical field. */
export const SHORT_NAMES: Record<string, string> = (() => {
  const out: Record<string, string> = {};
  for (const f of Object.keys(PERSON_FIELDS)) out[snake(f.slice('person.'.length))] = f;
  // Company names are set after person ones: on "company_name" and "company_domain" the company wins.
  for (const f of Object.keys(COMPANY_FIELDS)) out[`company_${snake(f.slice('company.'.length)).replace(/^company_/, '')}`] = f;
  // Names from the seed's request schema that mean one of ours exactly.
  Object.assign(out, {
    business_email: 'person.workEmail',
    industry: 'company.industry',
    company_size: 'company.employeeRange',
    company_revenue: 'company.revenueRange',
    technologies: 'company.technologies',
    state: 'person.region',
  });
  return out;
})();

/** Every name `enrich` accepts, for error messages and the OpenAPI enum. */
export const ACCEPTED_FIELD_NAMES: string[] = [...CANONICAL_FIELDS, ...Object.keys(SHORT_NAMES)];

export function canonicalField(name: string): string | undefined {
  if (CANONICAL_FIELDS.includes(name)) return name;
  return Object.hasOwn(SHORT_NAMES, name) ? SHORT_NAMES[name] : undefined;
}

// Fields that are no group's stop field but come with one group's providers.
const EXTRA_GROUP: Record<string, FieldGroup> = {
  'person.workEmailStatus': 'workEmail',
  'company.mailProvider': 'mailServer',
  'company.mxHosts': 'mailServer',
  'company.ticker': 'publicCompany',
  'company.sicCode': 'publicCompany',
  'company.recentFilings': 'publicCompany',
  'company.insiderFilingCount90d': 'publicCompany',
};

/** The field group that produces a canonical field (a profile group for its other fields). */
export function groupOf(field: string): FieldGroup {
  for (const [group, def] of Object.entries(FIELD_GROUPS)) {
    if ((def.stopFields as readonly string[]).includes(field)) return group as FieldGroup;
  }
  return EXTRA_GROUP[field] ?? (field.startsWith('person.') ? 'personProfile' : 'companyProfile');
}

/** The groups to run for these canonical fields, without repeats. */
export function groupsFor(fields: string[]): FieldGroup[] {
  return [...new Set(fields.map(groupOf))];
}
