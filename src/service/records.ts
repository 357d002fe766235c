// Stored records as the service shows them: identity -> person and company RecordViews.
import type { Identity } from '../engine/identity.js';
import type { RecordView, StoredField } from '../engine/types.js';
import { recordId, type Models } from '../store/models.js';

type Doc = { key: string; display?: string | null; fields?: unknown; enrichedAt?: Date | null; companyKey?: string | null } | null;

export function toRecordView(doc: Doc): RecordView | undefined {
  if (!doc) return undefined;
  const raw = (doc.fields as unknown) instanceof Map ? Object.fromEntries(doc.fields as Map<string, unknown>) : ((doc.fields ?? {}) as Record<string, unknown>);
  const fields: Record<string, StoredField> = {};
  for (const [k, v] of Object.entries(raw)) {
    const sv = v as StoredField & { fetchedAt: unknown };
    const at = sv.fetchedAt as object | string;
    fields[k] = { ...sv, fetchedAt: at instanceof Date ? at.toISOString() : String(at) };
  }
  return { key: doc.key, ...(doc.display ? { display: doc.display } : {}), fields, ...(doc.enrichedAt ? { enrichedAt: new Date(doc.enrichedAt).toISOString() } : {}) };
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
