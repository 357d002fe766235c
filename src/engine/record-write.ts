// What one engine run writes to one person or company record: its new fields, its age and due
// groups, the trigger that asked, a job change it found. Group-committed with other jobs' saves.
import { utcDay } from '../clock.js';
import { groupCommit } from '../store/group-commit.js';
import { recordId, type Models } from '../store/models.js';
import type { Identity } from './identity.js';
import type { Fields } from './run-fields.js';
import type { JobChange, ReplyTo } from './types.js';

/** What one run writes to one record. */
export interface SaveRecord {
  workspace: string;
  key: string;
  identity: Identity;
  writes: Fields;
  enrichedAt?: Date;
  /** The record's due groups after this run (only for the job's own record). */
  dueGroups?: string[];
  jobId: string;
  companyKey?: string;
  /** A job change this run found, appended to the record's list (once per job). */
  jobChange?: { change: JobChange; before: unknown };
  /** The trigger and address that asked, remembered per trigger (job-change cards go there). */
  askedBy?: ReplyTo;
}

/** At most this many job changes are kept per person (the oldest go first). */
const MAX_JOB_CHANGES = 20;

export async function saveRecord(model: Models['Person'], rec: SaveRecord): Promise<void> {
  const { workspace, key, identity } = rec;
  const set = fieldsToSet(rec);
  // A company filed while enriching a person is named by its own key, never by the person's
  // input (their email would otherwise live on in the company record after they are forgotten).
  const own = key === identity.key;
  const display = own ? identity.display : key.replace(/^company:(linkedin:|name:)?/, '');
  const kind = own ? identity.kind : key.startsWith('company:linkedin:') ? 'linkedin-company' : key.startsWith('company:name:') ? 'company-name' : 'domain';
  // Group-committed with other jobs' saves: one command per burst of finishing jobs.
  await groupCommit(model).write({ updateOne: { filter: { _id: recordId(workspace, key) }, update: { $set: set, $setOnInsert: { workspace, key, kind, display } }, upsert: true } });
}

/** The record's `$set`: fields by path, dates as Dates, and only where to post for `askedBy`. */
function fieldsToSet(rec: SaveRecord): Record<string, unknown> {
  const set: Record<string, unknown> = { lastJobId: rec.jobId };
  for (const [k, v] of Object.entries(rec.writes)) set[`fields.${k}`] = { ...v, fetchedAt: new Date(v.fetchedAt) };
  if (rec.enrichedAt) {
    set.enrichedAt = rec.enrichedAt;
    set.enrichedDay = utcDay(rec.enrichedAt);
  }
  if (rec.dueGroups) set.dueGroups = rec.dueGroups;
  if (rec.companyKey) set.companyKey = rec.companyKey;
  // Only where to post: reply URLs and anything token-like stay with the job, not the record.
  if (rec.askedBy) set[`askedBy.${rec.askedBy.trigger}`] = Object.fromEntries(Object.entries(rec.askedBy.address).filter(([k]) => !/url$|token|secret/i.test(k)));
  if (rec.jobChange) {
    // Once per job: a retried run does not append the same change again.
    const { change } = rec.jobChange;
    const before = (Array.isArray(rec.jobChange.before) ? (rec.jobChange.before as JobChange[]) : []).filter((c) => c.jobId !== change.jobId || (c.run ?? 0) !== (change.run ?? 0));
    const list = [...before, change].slice(-MAX_JOB_CHANGES);
    set.jobChanges = list;
    set.jobChangeDays = [...new Set(list.map((c) => c.at.slice(0, 10)))];
  }
  return set;
}
