// Merge with provenance. Within one run the most confident value per field wins (ties: the
// earlier provider in the waterfall). Against the stored record the default is "existing data
// wins": a provider only fills an empty field. Config may set `overwrite` or `never` per field.
// Values are made canonical first (normalize/); those that still do not fit the canonical schema
// are dropped, not stored. When providers disagree the winner keeps the others as alternatives.
import type { MergePolicy } from '../config/schema.js';
import { FIELD_SCHEMAS, type Subject } from './fields.js';
import type { Contribution } from './waterfall.js';
import type { FieldAlternative, StoredField } from './types.js';
import { derivedValues, normalizeField, type FieldNormalized, type NormalizeHints } from './normalize/index.js';

/** Provenance of a value a person set by hand (`EnrichService.correct`). */
export const MANUAL_PROVIDER = 'manual';

export interface Candidate extends StoredField {
  field: string;
}

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

export function bestCandidates(
  contributions: Contribution[],
  subject: Subject,
  known: NormalizeHints = {},
): { candidates: Map<string, Candidate>; rejected: { field: string; provider: string; problem: string }[] } {
  const candidates = new Map<string, Candidate>();
  const rejected: { field: string; provider: string; problem: string }[] = [];
  const seen = new Map<string, FieldAlternative[]>();
  const hints = recordHints(contributions, subject, known);
  for (const c of contributions) {
    for (const [path, contributed] of Object.entries(c.result.fields)) {
      if (!path.startsWith(`${subject}.`) || isEmpty(contributed)) continue;
      const checked = canonicalValue(path, contributed, hints);
      if (!checked.ok) {
        rejected.push({ field: path, provider: c.provider, problem: checked.problem });
        continue;
      }
      const { value, raw } = checked;
      const confidence = c.result.fieldConfidence?.[path as keyof typeof c.result.fieldConfidence] ?? c.result.confidence;
      const field = path.slice(subject.length + 1);
      if (isScalar(value)) {
        const list = seen.get(field) ?? [];
        if (!list.some((a) => a.provider === c.provider)) list.push({ provider: c.provider, value, confidence, ...(raw !== undefined ? { raw } : {}) });
        seen.set(field, list);
      }
      const prev = candidates.get(field);
      if (!prev || confidence > prev.confidence) {
        candidates.set(field, { field, value, provider: c.provider, operation: c.operation, fetchedAt: c.fetchedAt.toISOString(), confidence, ledgerId: c.ledgerId, ...(raw !== undefined ? { raw } : {}) });
      }
    }
  }
  // Disagreements stay visible: the winner lists what every other provider said.
  for (const [field, cand] of candidates) {
    const others = (seen.get(field) ?? []).filter((a) => a.provider !== cand.provider);
    if (others.length) cand.alternatives = others;
  }
  addDerived(candidates, subject);
  return { candidates, rejected };
}

/**
 * A contributed value made canonical (issue 11: every provider's words become the same value) and
 * checked against its field's schema; `raw` is the provider's own value when it differs.
 */
function canonicalValue(path: string, contributed: unknown, hints: NormalizeHints): FieldNormalized {
  const schema = FIELD_SCHEMAS[path];
  if (!schema) return { ok: false, problem: 'unknown field' };
  const normalized = normalizeField(path, contributed, hints);
  if (!normalized.ok) return normalized;
  const parsed = schema.safeParse(normalized.value);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues[0]?.message ?? 'invalid' };
  return { ok: true, value: parsed.data, raw: normalized.raw };
}

const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** The record's country (read phones in it) and SIC code (industry), from this run's answers or what is already known. */
function recordHints(contributions: Contribution[], subject: Subject, known: NormalizeHints): NormalizeHints {
  const first = (path: string) => {
    for (const c of contributions) {
      const v = (c.result.fields as Record<string, unknown>)[path];
      if (typeof v === 'string' && v.trim()) {
        const n = normalizeField(path, v);
        if (n.ok) return n.value as string;
      }
    }
    return undefined;
  };
  const own = first(`${subject}.country`);
  const other = first(subject === 'person' ? 'company.country' : 'person.country');
  const sic = contributions.map((c) => (c.result.fields as Record<string, unknown>)['company.sicCode']).find((v): v is string => typeof v === 'string');
  return { country: own ?? known.country ?? other, sicCode: sic ?? known.sicCode };
}

/** Seniority and department from the title, a size bucket from the headcount, when no provider gave one. */
function addDerived(candidates: Map<string, Candidate>, subject: Subject) {
  const from = subject === 'person' ? candidates.get('title') : candidates.get('employeeCount');
  if (!from) return;
  const derived = derivedValues({ title: subject === 'person' ? from.value : undefined, employeeCount: subject === 'company' ? from.value : undefined });
  for (const [field, value] of Object.entries(derived)) {
    if (value === undefined || candidates.has(field)) continue;
    const { alternatives: _a, raw: _r, ...source } = from;
    candidates.set(field, { ...source, field, value, operation: `${from.operation ?? 'answer'}+derived-from-${subject === 'person' ? 'title' : 'employeeCount'}` });
  }
}

/** Which candidates to write into an existing record, under the per-field policies. */
export function planMerge(existing: Record<string, StoredField>, candidates: Map<string, Candidate>, subject: Subject, policies: Record<string, MergePolicy>): Record<string, StoredField> {
  const writes: Record<string, StoredField> = {};
  for (const [field, cand] of candidates) {
    const policy = policies[`${subject}.${field}`] ?? policies[field] ?? 'fill';
    const current = existing[field];
    // A person's correction wins over every provider; only another correction replaces it.
    if (current?.provider === MANUAL_PROVIDER) continue;
    if (policy === 'never') continue;
    if (policy === 'fill' && current && !isEmpty(current.value)) continue;
    if (policy === 'overwrite' && current && JSON.stringify(current.value) === JSON.stringify(cand.value)) continue;
    const { field: _f, ...stored } = cand;
    writes[field] = stored;
  }
  return writes;
}

export { isEmpty };
