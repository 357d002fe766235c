// Canonical values, applied centrally: every provider's answer passes through here before it is
// merged (merge.ts), and stored records pass through again when they are read, so a record
// written before these rules existed reads the same as a new one. A value that cannot be made
// canonical is dropped with the reason; the provider's original text is kept as `raw` when the
// canonical value differs from it.
import { normalizeCountry } from './country.js';
import { normalizeDepartment, departmentFromTitle } from './department.js';
import { normalizeEmailStatus } from './email-status.js';
import { normalizeEmployeeRange, normalizeRevenueRange, employeeRangeOf } from './company-size.js';
import { normalizeIndustry } from './industry.js';
import { normalizePhone } from './phone.js';
import { normalizeSeniority, seniorityFromTitle } from './seniority.js';
import { fail, ok, type Normalized } from './text.js';

export { SENIORITIES, seniorityFromTitle, normalizeSeniority } from './seniority.js';
export { DEPARTMENTS, departmentFromTitle, normalizeDepartment } from './department.js';
export { HUBSPOT_INDUSTRIES, industryLabel, industryFromSic, normalizeIndustry } from './industry.js';
export { EMPLOYEE_RANGES, REVENUE_RANGES, employeeRangeOf, revenueRangeOf, normalizeEmployeeRange, normalizeRevenueRange } from './company-size.js';
export { EMAIL_STATUSES, normalizeEmailStatus } from './email-status.js';
export { normalizeCountry } from './country.js';
export { normalizePhone } from './phone.js';

/** What the rest of the record says that helps read a value: its country (phones), SIC code (industry). */
export interface NormalizeHints {
  country?: string;
  sicCode?: string;
}

type Normalizer = (value: unknown, hints: NormalizeHints) => Normalized<unknown>;
const asText = (fn: (v: string, h: NormalizeHints) => Normalized<unknown>): Normalizer => (v, h) => (typeof v === 'string' ? fn(v, h) : fail('expected text'));
const placed = (what: string, fn: (v: string) => string | undefined) => asText((v) => {
  const r = fn(v);
  return r ? ok(r) : fail(`"${v.slice(0, 60)}" is not a ${what} the rules can place`);
});

/** Field name without its subject ("seniority", "phone") -> normalizer. Person and company share country and phone. */
const NORMALIZERS: Record<string, Normalizer> = {
  seniority: placed('seniority', normalizeSeniority),
  department: placed('department', normalizeDepartment),
  industry: asText((v, h) => normalizeIndustry(v, { sicCode: h.sicCode })),
  country: asText((v) => normalizeCountry(v)),
  phone: asText((v, h) => normalizePhone(v, h.country)),
  employeeRange: (v) => (typeof v === 'string' || typeof v === 'number' ? normalizeEmployeeRange(v) : fail('expected text or a number')),
  revenueRange: (v) => (typeof v === 'string' || typeof v === 'number' ? normalizeRevenueRange(v) : fail('expected text or a number')),
  workEmailStatus: asText((v) => normalizeEmailStatus(v)),
};

export const NORMALIZED_FIELDS = Object.keys(NORMALIZERS);

export type FieldNormalized = { ok: true; value: unknown; raw?: unknown } | { ok: false; problem: string };

/** Normalizes one value of a field path ("person.phone") or bare field name ("phone"). Fields without rules pass unchanged. */
export function normalizeField(field: string, value: unknown, hints: NormalizeHints = {}): FieldNormalized {
  const name = field.replace(/^(person|company)\./, '');
  const fn = NORMALIZERS[name];
  if (!fn) return { ok: true, value };
  const r = fn(value, hints);
  if (!r.ok) return r;
  return r.value === value ? { ok: true, value } : { ok: true, value: r.value, raw: value };
}

/** Values derived from others when the provider gave none: seniority and department from the title, a size bucket from the headcount. */
export function derivedValues(fields: { title?: unknown; employeeCount?: unknown }): { seniority?: string; department?: string; employeeRange?: string } {
  const out: { seniority?: string; department?: string; employeeRange?: string } = {};
  if (typeof fields.title === 'string') {
    out.seniority = seniorityFromTitle(fields.title);
    out.department = departmentFromTitle(fields.title);
  }
  if (typeof fields.employeeCount === 'number' && Number.isFinite(fields.employeeCount) && fields.employeeCount > 0) out.employeeRange = employeeRangeOf(fields.employeeCount);
  return out;
}

interface StoredLike {
  value: unknown;
  raw?: unknown;
}

/**
 * A stored record's fields, normalized on read. Values already canonical are untouched; an old
 * value that no rule can place is left as it was stored (reading never loses data; `enrichbot
 * normalize` reports those). Returns whether anything changed, for the migration.
 */
export function normalizeStoredFields<F extends StoredLike>(fields: Record<string, F>): { fields: Record<string, F>; changed: string[] } {
  const out: Record<string, F> = { ...fields };
  const changed: string[] = [];
  const country = typeof fields.country?.value === 'string' ? normalizeCountry(fields.country.value) : undefined;
  const hints: NormalizeHints = { country: country?.ok ? country.value : undefined, sicCode: typeof fields.sicCode?.value === 'string' ? fields.sicCode.value : undefined };
  for (const [name, f] of Object.entries(fields)) {
    if (!f || !NORMALIZERS[name] || f.value === undefined || f.value === null) continue;
    const r = normalizeField(name, f.value, hints);
    if (r.ok && r.value !== f.value) {
      out[name] = { ...f, value: r.value, raw: f.raw ?? r.raw };
      changed.push(name);
    }
  }
  return { fields: out, changed };
}
