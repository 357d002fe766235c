// Stored records as the service shows them: identity -> person and company RecordViews.
import type { Identity } from '../engine/identity.js';
import type { JobChange, RecordView } from '../engine/types.js';
import { toPlainFields } from '../engine/engine.js';
import { recordId, type Models } from '../store/models.js';

type Doc = { key: string; display?: string | null; fields?: unknown; enrichedAt?: Date | null; companyKey?: string | null; jobChanges?: unknown } | null;

/** A stored record as the service shows it: the engine's own reading (canonical on read). */
export function toRecordView(doc: Doc): RecordView | undefined {
  if (!doc) return undefined;
  const fields = toPlainFields(doc);
  const jobChanges = Array.isArray(doc.jobChanges) && doc.jobChanges.length ? { jobChanges: doc.jobChanges as JobChange[] } : {};
  return { key: doc.key, ...(doc.display ? { display: doc.display } : {}), fields, ...(doc.enrichedAt ? { enrichedAt: new Date(doc.enrichedAt).toISOString() } : {}), ...jobChanges };
}

/** The person (when the identity is one) and their company, or the company alone. */
export async function readRecords(models: Models, workspace: string, identity: Identity): Promise<{ person?: RecordView; company?: RecordView }> {
  const out: { person?: RecordView; company?: RecordView } = {};
  let companyKey: string | undefined = identity.subject === 'company' ? identity.key : undefined;
  if (identity.subject === 'person') {
    const p = await models.Person.findById(recordId(workspace, identity.key)).lean();
    out.person = toRecordView(p);
    companyKey = p?.companyKey ?? undefined;
  }
  if (companyKey) out.company = toRecordView(await models.Company.findById(recordId(workspace, companyKey)).lean());
  return out;
}

/** A stored record whose last enrichment is older than a date (scheduled re-enrichment, issue 21). */
export interface AgeingRecord {
  /** The input that enriches it again ("jane@acme.com", "acme.com"). */
  subject: string;
  kind: 'person' | 'company';
  enrichedAt: string;
}

/** A workspace's people and companies last enriched before `before`, oldest first, at most `limit`. */
export async function ageingRecords(models: Models, workspace: string, before: Date, limit: number): Promise<AgeingRecord[]> {
  const read = async (kind: 'person' | 'company') => {
    const model = kind === 'person' ? models.Person : models.Company;
    const docs = await model.find({ workspace, enrichedAt: { $lt: before } }, { display: 1, enrichedAt: 1 }).sort({ enrichedAt: 1 }).limit(limit).lean();
    return docs.filter((d) => d.display && d.enrichedAt).map((d) => ({ subject: d.display!, kind: kind, enrichedAt: new Date(d.enrichedAt!).toISOString() }));
  };
  const all = [...(await read('person')), ...(await read('company'))];
  return all.sort((a, b) => a.enrichedAt.localeCompare(b.enrichedAt)).slice(0, limit);
}
