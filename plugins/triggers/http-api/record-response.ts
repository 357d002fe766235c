// A JobResult as the API answers it: every requested field present (null when no provider found
// it), each with where it came from and how sure that source was, plus the request's cost and
// each provider's outcome, so a caller can see why something is missing (no_match, cap_reached,
// error...). Nothing is ever filled in that a provider did not return.
import type { JobResult, RecordView } from '../../../src/sdk/index.js';

export interface FieldAnswer {
  value: unknown;
  /** The provider's own text when the canonical value differs ("Vice President" for vp). */
  raw?: unknown;
  source: { provider: string; operation?: string; fetchedAt: string; by?: string };
  confidence: number;
}

/** A requested name (as the caller wrote it) and its canonical field. */
export interface RequestedField {
  name: string;
  field: string;
}

function stored(result: JobResult, field: string) {
  const dot = field.indexOf('.');
  const view: RecordView | undefined = field.slice(0, dot) === 'person' ? result.person : result.company;
  // Records key fields without the subject ("name" for company.name).
  return view?.fields[field.slice(dot + 1)] ?? view?.fields[field];
}

function answer(result: JobResult, field: string): FieldAnswer | null {
  const f = stored(result, field);
  if (!f || f.value === undefined || f.value === null) return null;
  return {
    value: f.value,
    ...(f.raw !== undefined ? { raw: f.raw } : {}),
    source: { provider: f.provider, ...(f.operation ? { operation: f.operation } : {}), fetchedAt: f.fetchedAt, ...(f.by ? { by: f.by } : {}) },
    confidence: f.confidence,
  };
}

/** Every stored field of the result, by canonical name. */
function allFields(result: JobResult): Record<string, FieldAnswer> {
  const out: Record<string, FieldAnswer> = {};
  for (const subject of ['person', 'company'] as const) {
    for (const key of Object.keys(result[subject]?.fields ?? {})) {
      const field = key.includes('.') ? key : `${subject}.${key}`;
      const a = answer(result, field);
      if (a) out[field] = a;
    }
  }
  return out;
}

export function renderResult(result: JobResult, requested?: RequestedField[]) {
  const fields: Record<string, FieldAnswer | null> = requested?.length ? Object.fromEntries(requested.map((r) => [r.name, answer(result, r.field)])) : allFields(result);
  return {
    jobId: result.jobId,
    status: result.status,
    input: result.display,
    fields,
    fromRecord: !!result.fromRecord,
    cost: { usd: result.costUsd },
    outcomes: result.outcomes.map((o) => ({
      group: o.group,
      provider: o.provider,
      ...(o.operation ? { operation: o.operation } : {}),
      outcome: o.outcome,
      ...(o.reason ? { reason: o.reason } : {}),
      costUsd: o.costUsd,
      ...(o.fields?.length ? { fields: o.fields } : {}),
    })),
    ...(result.resumeAt ? { resumeAt: result.resumeAt } : {}),
    ...(result.budgetReached ? { budgetReached: result.budgetReached } : {}),
    ...(result.error ? { error: result.error, errorCode: result.errorCode } : {}),
  };
}
