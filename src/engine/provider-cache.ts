// A provider's answer to the same normalized input is reused within its freshness window at
// zero cost. Matches and misses are both cached (a charged miss must not be paid twice);
// errors never are. Per workspace, so one workspace's answers never reach another.
import { createHash } from 'node:crypto';
import { cacheId, type Models } from '../store/models.js';
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

export class ProviderCache {
  constructor(private readonly models: Models) {}

  async get(workspace: string, provider: string, operation: string, inputHash: string, now: Date): Promise<{ result: LookupResult; ledgerId?: string; fetchedAt: Date } | null> {
    const doc = await this.models.Cache.findOne({ _id: cacheId(workspace, provider, operation, inputHash) }).lean();
    if (!doc || doc.expireAt <= now) return null;
    return { result: JSON.parse(doc.resultJson) as LookupResult, ledgerId: doc.ledgerId ?? undefined, fetchedAt: doc.fetchedAt };
  }

  async put(workspace: string, provider: string, operation: string, inputHash: string, result: LookupResult, ledgerId: string, now: Date, freshnessDays: number): Promise<void> {
    if (freshnessDays <= 0) return;
    const { raw: _raw, ...slim } = result;
    await this.models.Cache.updateOne(
      { _id: cacheId(workspace, provider, operation, inputHash) },
      { $set: { workspace, provider, operation, inputHash, outcome: result.outcome, resultJson: JSON.stringify(slim), ledgerId, fetchedAt: now, expireAt: new Date(now.getTime() + freshnessDays * 86400_000) } },
      { upsert: true },
    );
  }
}
