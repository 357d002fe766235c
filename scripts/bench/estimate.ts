// Part (f) of `npm run bench`: how long the estimate of a 10,000-row list takes, and that it
// asks no provider. The workspace holds fresh records and cached answers, so the estimate's
// reads (records, cache, ledger sums) have something to scan.
import type { App } from '../../src/app.js';
import { cacheId, recordId } from '../../src/store/models.js';
import { identityOfInput } from '../../src/engine/identity.js';
import { operationFor } from '../../src/engine/waterfall.js';
import type { FieldGroup } from '../../src/engine/fields.js';
import type { FakeProvider } from './fake-provider.js';

const ROWS = 10_000;
const UNIQUE = 7_000;
const RECORDS = 2_000;
const CACHED_COMPANIES = 1_000;

export async function estimateBench(app: App, fake: FakeProvider) {
  const workspace = 'bench-estimate';
  const input = (i: number) => `Jane${i} Doe @ acme${i % 3000}.com`;
  const now = new Date();
  await app.store.models.Person.insertMany(
    Array.from({ length: RECORDS }, (_, i) => {
      const id = identityOfInput(input(i));
      return { _id: recordId(workspace, id.key), workspace, key: id.key, kind: id.kind, display: id.display, fields: {}, enrichedAt: now, enrichedDay: now.toISOString().slice(0, 10) };
    }),
  );
  const cacheRows = [];
  for (const group of ['companyProfile', 'mailServer'] as FieldGroup[]) {
    for (const pid of app.config.waterfalls[group] ?? []) {
      const provider = app.providers.get(pid);
      if (!provider) continue;
      for (const op of operationFor(provider, group)) {
        for (let c = 0; c < CACHED_COMPANIES; c++) {
          const key = `company:acme${c}.com`;
          cacheRows.push({
            _id: cacheId(workspace, pid, op.name, key), workspace, provider: pid, operation: op.name, key, identityKey: key, identityKeys: [key],
            outcome: 'no_match', resultJson: JSON.stringify({ outcome: 'no_match' }), fetchedAt: now, expireAt: new Date(now.getTime() + 30 * 86400_000),
          });
        }
      }
    }
  }
  await app.store.models.Cache.insertMany(cacheRows);
  const items = Array.from({ length: ROWS }, (_, i) => ({ input: input(i % UNIQUE) }));
  const before = await fake.stats();
  const ledgerBefore = await app.store.models.Ledger.countDocuments({});
  const t0 = performance.now();
  const est = await app.service.estimate(items, { workspace });
  const seconds = (performance.now() - t0) / 1000;
  const after = await fake.stats();
  const calls = after.arrivals.length - before.arrivals.length + ((await app.store.models.Ledger.countDocuments({})) - ledgerBefore);
  return {
    rows: est.rows, duplicates: est.duplicates, fresh: est.fresh, cachedAnswers: est.groups.reduce((s, g) => s + g.cachedAnswers, 0),
    records: RECORDS, cacheRows: cacheRows.length, seconds, expectedUsd: est.expectedUsd, worstUsd: est.worstUsd, calls,
  };
}
