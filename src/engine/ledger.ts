// Every provider call is one ledger row: who asked, which provider and operation, what it
// answered, what it cost, and the raw answer (size-capped) for debugging and re-extraction.
import type { Models } from '../store/models.js';
import type { Outcome } from './types.js';
import { utcDay } from '../clock.js';
import { groupSums } from '../store/group-sums.js';

export interface LedgerInput {
  workspace: string;
  jobId?: string;
  provider: string;
  operation?: string;
  group?: string;
  inputHash?: string;
  outcome: Outcome;
  httpStatus?: number;
  latencyMs?: number;
  attempts?: number;
  costUsd: number;
  charged: boolean;
  usage?: unknown;
  error?: string;
  errorKind?: string;
  raw?: unknown;
  at: Date;
}

/**
 * Raw answers are stored as JSON text: provider bodies may hold keys MongoDB refuses ("a.b",
 * "$x"), and text is easy to cap by size.
 */
export function capRaw(raw: unknown, maxBytes: number): { raw: string | undefined; truncated: boolean } {
  if (raw === undefined) return { raw: undefined, truncated: false };
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  } catch {
    text = String(raw);
  }
  if (Buffer.byteLength(text) <= maxBytes) return { raw: text, truncated: false };
  return { raw: Buffer.from(text).subarray(0, maxBytes).toString('utf8'), truncated: true };
}

export class Ledger {
  constructor(
    private readonly models: Models,
    private readonly rawMaxBytes: number,
  ) {}

  async record(entry: LedgerInput): Promise<string> {
    const { raw, truncated } = capRaw(entry.raw, this.rawMaxBytes);
    const usage = entry.usage === undefined ? undefined : JSON.stringify(entry.usage);
    const doc = await this.models.Ledger.create({ ...entry, usage, raw, rawTruncated: truncated, day: utcDay(entry.at) });
    return String(doc._id);
  }

  /** Spend and call counts per provider and outcome for a day (optionally one workspace or provider). */
  async summary(day: string, workspace?: string, provider?: string) {
    const match: Record<string, string> = { day };
    if (workspace) match.workspace = workspace;
    if (provider) match.provider = provider;
    const rows = await groupSums(this.models.Ledger, match, { provider: 'provider', outcome: 'outcome' }, { costUsd: 'costUsd', calls: 1 });
    return rows
      .map((r) => ({ provider: r.provider, outcome: r.outcome, costUsd: Math.round(r.costUsd * 1e6) / 1e6, calls: r.calls }))
      .sort((a, b) => a.provider.localeCompare(b.provider) || a.outcome.localeCompare(b.outcome));
  }
}
