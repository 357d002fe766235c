// Merge with provenance. Within one run the most confident value per field wins (ties: the
// earlier provider in the waterfall). Against the stored record the default is "existing data
// wins": a provider only fills an empty field. Config may set `overwrite` or `never` per field.
// Values that do not fit the canonical schema are dropped, not stored.
import type { MergePolicy } from '../config/schema.js';
import { FIELD_SCHEMAS, type Subject } from './fields.js';
import type { Contribution } from './waterfall.js';
import type { StoredField } from './types.js';

/** Provenance of a value a person set by hand (`EnrichService.correct`). */
export const MANUAL_PROVIDER = 'manual';

export interface Candidate extends StoredField {
  field: string;
}

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

export function bestCandidates(contributions: Contribution[], subject: Subject): { candidates: Map<string, Candidate>; rejected: { field: string; provider: string; problem: string }[] } {
  const candidates = new Map<string, Candidate>();
  const rejected: { field: string; provider: string; problem: string }[] = [];
  for (const c of contributions) {
    for (const [path, value] of Object.entries(c.result.fields)) {
      if (!path.startsWith(`${subject}.`) || isEmpty(value)) continue;
      const schema = FIELD_SCHEMAS[path];
      const parsed = schema?.safeParse(value);
      if (!schema || !parsed?.success) {
        rejected.push({ field: path, provider: c.provider, problem: schema ? parsed!.error!.issues[0]?.message ?? 'invalid' : 'unknown field' });
        continue;
      }
      const confidence = c.result.fieldConfidence?.[path as keyof typeof c.result.fieldConfidence] ?? c.result.confidence;
      const field = path.slice(subject.length + 1);
      const prev = candidates.get(field);
      if (!prev || confidence > prev.confidence) {
        candidates.set(field, {
          field,
          value: parsed.data,
          provider: c.provider,
          operation: c.operation,
          fetchedAt: c.fetchedAt.toISOString(),
          confidence,
          ledgerId: c.ledgerId,
        });
      }
    }
  }
  return { candidates, rejected };
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
