// $group with several accumulators, portable to FerretDB 1.24: there only the first
// accumulator of a $group stage is computed (the others come back 0), so each sum runs as its
// own single-accumulator $group and the rows are joined here by their _id.
import type { Model } from 'mongoose';

export async function groupSums<K extends Record<string, string>>(
  model: Model<any>,
  match: Record<string, unknown>,
  by: K,
  sums: Record<string, string | 1>,
): Promise<({ [P in keyof K]: string } & Record<string, number>)[]> {
  const rows = new Map<string, Record<string, unknown>>();
  const id = Object.fromEntries(Object.entries(by).map(([k, field]) => [k, `$${field}`]));
  for (const [name, expr] of Object.entries(sums)) {
    const out = await model.aggregate<{ _id: Record<string, string>; v: number }>([
      { $match: match },
      { $group: { _id: id, v: { $sum: expr === 1 ? 1 : `$${expr}` } } },
    ]);
    for (const r of out) {
      const key = JSON.stringify(Object.keys(by).map((k) => r._id[k]));
      const row = rows.get(key) ?? { ...r._id };
      row[name] = r.v;
      rows.set(key, row);
    }
  }
  return [...rows.values()].map((r) => {
    for (const name of Object.keys(sums)) r[name] ??= 0;
    return r;
  }) as ({ [P in keyof K]: string } & Record<string, number>)[];
}
