// `enrichbot normalize`: rewrite stored records with canonical values, in batches by _id (point
// updates, fine on FerretDB). Safe to run twice: a canonical value normalizes to itself, so a
// second run changes nothing. Values no rule can place are left as stored and counted.
import type { Models } from '../../store/models.js';
import { FIELD_SCHEMAS } from '../fields.js';
import { normalizeStoredFields, NORMALIZED_FIELDS } from './index.js';

export interface MigrationReport {
  scanned: number;
  updated: number;
  /** field name -> values rewritten */
  changed: Record<string, number>;
  /** field name -> values no rule could place (left as stored) */
  unplaced: Record<string, number>;
}

type FieldMap = Record<string, { value: unknown; raw?: unknown; [k: string]: unknown }>;

export async function normalizeStoredRecords(models: Models, opts: { batchSize?: number; workspace?: string; onBatch?: (r: MigrationReport) => void } = {}): Promise<MigrationReport> {
  const report: MigrationReport = { scanned: 0, updated: 0, changed: {}, unplaced: {} };
  const batchSize = opts.batchSize ?? 200;
  for (const model of [models.Person, models.Company]) {
    let last = '';
    for (;;) {
      const filter: Record<string, unknown> = { _id: { $gt: last } };
      if (opts.workspace) filter.workspace = opts.workspace;
      const docs = await model.find(filter).sort({ _id: 1 }).limit(batchSize).select({ _id: 1, fields: 1 }).lean();
      if (!docs.length) break;
      for (const doc of docs) {
        report.scanned++;
        const fields = (doc.fields ?? {}) as unknown as FieldMap;
        const { fields: out, changed } = normalizeStoredFields(fields);
        for (const name of NORMALIZED_FIELDS) {
          const f = out[name];
          const schema = FIELD_SCHEMAS[`person.${name}`] ?? FIELD_SCHEMAS[`company.${name}`];
          if (f && f.value !== undefined && !schema.safeParse(f.value).success) report.unplaced[name] = (report.unplaced[name] ?? 0) + 1;
        }
        if (!changed.length) continue;
        const set: Record<string, unknown> = {};
        for (const name of changed) {
          set[`fields.${name}`] = out[name];
          report.changed[name] = (report.changed[name] ?? 0) + 1;
        }
        await model.updateOne({ _id: doc._id }, { $set: set });
        report.updated++;
      }
      last = String(docs[docs.length - 1]._id);
      opts.onBatch?.(report);
      if (docs.length < batchSize) break;
    }
  }
  return report;
}
