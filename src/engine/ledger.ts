// Every provider call is one ledger row: who asked, which provider and operation, what it
// answered, what it cost, and the raw answer (size-capped) for debugging and re-extraction.
// A paid call's row is written before the call (`pending`, under its idempotency key) and
// settled in place after it, so a worker that dies mid-call leaves a trace: the next run marks
// it `lost`, keeping its reserved cost (the provider did bill it). The ledger then matches the
// provider's invoice and the spend counters, crash or not.
import type { Models } from '../store/models.js';
import type { Outcome } from './types.js';
import { utcDay } from '../clock.js';
import { groupSums } from '../store/group-sums.js';
import { groupCommit, isDuplicateKey } from '../store/group-commit.js';

/** A call's outcome, plus the two states only the ledger has: before the call, and its worker died. */
export type LedgerOutcome = Outcome | 'pending' | 'lost';

export interface LedgerInput {
  workspace: string;
  jobId?: string;
  provider: string;
  operation?: string;
  group?: string;
  inputHash?: string;
  /** The request budget (maxCostUsd) the call spent against: its counter is rebuilt from these rows. */
  budget?: string;
  outcome: LedgerOutcome;
  httpStatus?: number;
  latencyMs?: number;
  attempts?: number;
  costUsd: number;
  reservedUsd?: number;
  charged: boolean;
  usage?: unknown;
  error?: string;
  errorKind?: string;
  raw?: unknown;
  at: Date;
  /** The UTC day the row counts on; defaults to `at`'s (a paid call's is its reservation's). */
  day?: string;
}

export type Settlement = Omit<LedgerInput, 'workspace' | 'jobId' | 'provider' | 'operation' | 'group' | 'inputHash' | 'day' | 'reservedUsd' | 'budget'>;

/** How long a settle is tried again while the database does not take it: a restart, a failover. */
const SETTLE_RETRY_MS = 30_000;

/** The reason written on a row whose worker died during the call. */
export const LOST_REASON = 'the worker died during the call; the provider may have billed it, so its reservation is counted';

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

  private doc(entry: Partial<LedgerInput>): Record<string, unknown> {
    const { raw, truncated } = capRaw(entry.raw, this.rawMaxBytes);
    const usage = entry.usage === undefined ? undefined : JSON.stringify(entry.usage);
    const out: Record<string, unknown> = { ...entry, usage, raw, rawTruncated: truncated };
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out;
  }

  /** A row for a call that needed no reservation (cached, free, refused before spending). */
  async record(entry: LedgerInput, id?: string): Promise<string> {
    const doc = { ...this.doc(entry), day: entry.day ?? utcDay(entry.at) };
    if (id) {
      // Idempotent: a re-run of the same attempt overwrites its own row instead of adding one.
      await groupCommit(this.models.Ledger).write({ updateOne: { filter: { _id: id }, update: { $set: doc }, upsert: true } });
      return id;
    }
    const created = await this.models.Ledger.create(doc);
    return String(created._id);
  }

  /**
   * Writes the pending row of a paid call under its idempotency key, before the call. Its cost is
   * the reservation, so the ledger's sum and the spend counters agree while the call is in flight.
   */
  async begin(key: string, entry: LedgerInput): Promise<string> {
    const doc = { _id: key, ...this.doc({ ...entry, outcome: 'pending', charged: false, costUsd: entry.reservedUsd ?? entry.costUsd }), day: entry.day ?? utcDay(entry.at) };
    const insert = (document: typeof doc) => groupCommit(this.models.Ledger).write({ insertOne: { document: document as never } });
    try {
      await insert(doc);
      return key;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // The key is taken (only a replayed attempt can do that): keep that row, file this call apart.
      const id = `${key}~${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      await insert({ ...doc, _id: id });
      return id;
    }
  }

  /**
   * Settles a pending row in place with what the call answered and cost. Retried for up to
   * `SETTLE_RETRY_MS` (a database restart): a lost settle leaves the row pending at its
   * reservation while the job's result says what the call answered.
   */
  async settle(id: string, s: Settlement): Promise<void> {
    await this.updateRetried({ _id: id }, this.doc(s));
  }

  /**
   * Marks not run the pending row `begin` may have written for a call that is then not made (its
   * write failed, perhaps after landing). Only a row still pending with this call's `at` is
   * touched: under a replayed key, an earlier attempt's row is left for markLost to judge.
   */
  async abandon(id: string, at: Date, reason: string): Promise<void> {
    await this.updateRetried({ _id: id, outcome: 'pending', at }, this.doc({ outcome: 'not_run', costUsd: 0, charged: false, error: reason, at }));
  }

  private async updateRetried(filter: Record<string, unknown>, set: Record<string, unknown>): Promise<void> {
    const deadline = Date.now() + SETTLE_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await groupCommit(this.models.Ledger).write({ updateOne: { filter, update: { $set: set } } });
        return;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** (attempt - 1), 2000)));
      }
    }
  }

  /**
   * Marks every pending row of a job lost: called only while no live run of the job can still
   * settle one (the caller holds the job's run lease, or the job has ended). The reservation is
   * kept as the cost: the provider may well have answered and billed.
   */
  async markLost(filter: { jobId: string } | { before: Date }): Promise<number> {
    const match = 'jobId' in filter ? { jobId: filter.jobId, outcome: 'pending' } : { outcome: 'pending', at: { $lt: filter.before } };
    const res = await this.models.Ledger.updateMany(match, { $set: { outcome: 'lost', charged: true, error: LOST_REASON, errorKind: 'lost' } });
    return res.modifiedCount;
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
