// A provider's answer about a person or company is reused within its freshness window at zero
// cost, also under `refresh`. Matches and misses are both cached (a charged miss must not be paid
// twice); errors never are. Answers are keyed by the identity they are about, not by the input's
// shape: the input grows as other providers answer (a LinkedIn URL, a name), and the same person
// must not be paid for again because of it. One row per identity (see call-identity.ts), group-committed
// (src/store/group-commit.ts) and read by _id. Per workspace, so one workspace's answers never reach another.
import { createHash } from 'node:crypto';
import { cacheId, type Models } from '../store/models.js';
import { groupCommit } from '../store/group-commit.js';
import type { LookupResult } from '../plugin/contract.js';

export function hashInput(provider: string, operation: string, input: unknown): string {
  return createHash('sha256').update(`${provider}\n${operation}\n${stableJson(input)}`).digest('hex').slice(0, 40);
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export interface CachedAnswer {
  result: LookupResult;
  ledgerId?: string;
  fetchedAt: Date;
}

export interface CacheWrite {
  /** The identity the call was made for (first of `keys`). */
  identityKey: string;
  /** Every identity the answer is about; one row is written under each. */
  keys: string[];
  inputHash: string;
  result: LookupResult;
  ledgerId: string;
  now: Date;
  freshnessDays: number;
}

export class ProviderCache {
  constructor(private readonly models: Models) {}

  /** The freshest unexpired answer filed under any of `keys`, or null. */
  async get(workspace: string, provider: string, operation: string, keys: string[], now: Date): Promise<CachedAnswer | null> {
    if (!keys.length) return null;
    // One point read per key, in parallel: FerretDB answers `_id: { $in: [...] }` by scanning
    // the whole collection (1.5 s at 5,000 rows), a point read by _id from an index (~ms; on
    // FerretDB's PostgreSQL backend the one scripts/ferretdb-pg-id-index.sql adds).
    const docs = await Promise.all(keys.map((k) => this.models.Cache.findOne({ _id: cacheId(workspace, provider, operation, k) }).lean()));
    const fresh = docs.filter((d) => d !== null && d.expireAt > now).sort((a, b) => b!.fetchedAt.getTime() - a!.fetchedAt.getTime())[0];
    if (!fresh) return null;
    return { result: JSON.parse(fresh.resultJson) as LookupResult, ledgerId: fresh.ledgerId ?? undefined, fetchedAt: fresh.fetchedAt };
  }

  async put(workspace: string, provider: string, operation: string, w: CacheWrite): Promise<void> {
    if (w.freshnessDays <= 0 || !w.keys.length) return;
    const { raw: _raw, ...slim } = w.result;
    const row = {
      workspace,
      provider,
      operation,
      identityKey: w.identityKey,
      identityKeys: w.keys,
      inputHash: w.inputHash,
      outcome: w.result.outcome,
      resultJson: JSON.stringify(slim),
      ledgerId: w.ledgerId,
      fetchedAt: w.now,
      expireAt: new Date(w.now.getTime() + w.freshnessDays * 86400_000),
    };
    // Group-committed with the other jobs' answers (one command per burst, not per call).
    const writer = groupCommit(this.models.Cache);
    await Promise.all(w.keys.map((key) => writer.write({ updateOne: { filter: { _id: cacheId(workspace, provider, operation, key) }, update: { $set: { ...row, key } }, upsert: true } })));
  }
}
