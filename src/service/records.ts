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
