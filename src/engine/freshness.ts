// Whether a stored record answers a request as it is. A record enriched within
// engine.recordFreshnessDays is fresh, except for the field groups a provider could not answer
// (error, time-out, open circuit, cap): those stay due, so an outage does not pass for "nothing
// to find" for a month (issue 28). A miss is an answer and leaves nothing due.
import { FIELD_GROUPS, type FieldGroup } from './fields.js';
import type { EnrichRequest } from './types.js';

export type RecordPlan =
  | { fromRecord: true }
  /** `partial`: the record is fresh and only its due groups run (its enrichedAt stays as it is). */
  | { fromRecord: false; groups: FieldGroup[]; partial: boolean };

export interface StoredFreshness {
  enrichedAt?: Date | string | null;
  dueGroups?: readonly string[] | null;
}

export function planFromRecord(doc: StoredFreshness | null, groups: FieldGroup[], request: EnrichRequest, now: Date, recordFreshnessDays: number): RecordPlan {
  const asked = request.refresh || request.groups?.some((g) => 'onRequest' in FIELD_GROUPS[g]);
  const fresh = doc?.enrichedAt && now.getTime() - new Date(doc.enrichedAt).getTime() < recordFreshnessDays * 86400_000;
  if (asked || !fresh) return { fromRecord: false, groups, partial: false };
  const due = new Set(doc.dueGroups ?? []);
  const left = groups.filter((g) => due.has(g));
  return left.length ? { fromRecord: false, groups: left, partial: true } : { fromRecord: true };
}

/** Due groups after a run: a group it finished is due only if it failed again; the rest stay as they were. */
export function dueAfter(before: readonly string[] | null | undefined, finished: ReadonlySet<string>, failed: ReadonlySet<string>): string[] {
  const out = new Set((before ?? []).filter((g) => !finished.has(g)));
  for (const g of failed) out.add(g);
  return [...out].sort();
}
