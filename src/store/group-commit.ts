// Group commit for single-document writes: while one bulkWrite to a collection is in flight,
// the writes that arrive meanwhile wait and go together in the next one. Each write still
// resolves only once it is stored (or rejects with its own error: a duplicate key fails that
// write alone), so callers keep the order and durability of one `updateOne` each; a busy
// process sends one command per burst instead of one per write (issue 9: the ledger rows, the
// provider cache and the record saves of concurrent jobs share commands). A lone write goes at
// once: nothing waits for a timer.
//
// One batcher per mongoose model (and so per connection), found through `groupCommit(model)`.
import type { AnyBulkWriteOperation, Model } from 'mongoose';

/** A write refused because its _id (or a unique key) is taken: MongoDB's and FerretDB's code 11000. */
export const isDuplicateKey = (err: unknown): boolean => (err as { code?: number } | null)?.code === 11000;

type Pending = { op: AnyBulkWriteOperation; resolve: () => void; reject: (err: unknown) => void };

/** The most writes in one command (MongoDB splits bigger batches anyway; FerretDB reads them whole). */
const MAX_BATCH = 500;

export class GroupCommit {
  private waiting: Pending[] = [];
  private inFlight = false;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(private readonly model: Model<any>) {}

  /** Writes `op` in the next group; resolves once it is stored, rejects with its own error. */
  write(op: AnyBulkWriteOperation): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ op, resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length) {
      const group = this.waiting.splice(0, MAX_BATCH);
      try {
        await this.model.bulkWrite(
          group.map((p) => p.op),
          { ordered: false, throwOnValidationError: true },
        );
        for (const p of group) p.resolve();
      } catch (err) {
        settleFailedGroup(group, err);
      }
    }
    this.inFlight = false;
  }
}

/**
 * A failed unordered bulk: the writes refused (by mongoose's casting, or by the server, e.g. a
 * duplicate key) reject with their own error, carrying its code (11000 for a duplicate key); the
 * others were applied and resolve. Any other failure (network, the whole command refused)
 * rejects them all.
 */
function settleFailedGroup(group: Pending[], err: unknown): void {
  const e = err as { results?: unknown; mongoose?: { results?: unknown }; writeErrors?: unknown; writeConcernError?: unknown };
  // Per write, by its index in the group: mongoose's own list when it cast any write out,
  // else the server's writeErrors (then every write was sent, so the indexes agree).
  const perWrite = new Map<number, unknown>();
  const results = e.results ?? e.mongoose?.results;
  if (Array.isArray(results) && !e.writeConcernError) {
    results.forEach((r, i) => r && perWrite.set(i, r));
  } else if (Array.isArray(e.writeErrors) && e.writeErrors.length && !e.writeConcernError) {
    for (const we of e.writeErrors as { index?: number }[]) {
      if (typeof we.index !== 'number') return group.forEach((p) => p.reject(err));
      perWrite.set(we.index, we);
    }
  } else {
    return group.forEach((p) => p.reject(err));
  }
  group.forEach((p, i) => {
    const failure = perWrite.get(i);
    if (failure) p.reject(asError(failure));
    else p.resolve();
  });
}

/** A driver WriteError (not an Error) or a cast error, as an Error with the server's code. */
function asError(failure: unknown): Error {
  if (failure instanceof Error) return failure;
  const we = failure as { code?: number; errmsg?: string; message?: string };
  return Object.assign(new Error(we.errmsg ?? we.message ?? 'write refused'), { code: we.code });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const batchers = new WeakMap<Model<any>, GroupCommit>();

/** The group-commit writer of a model's collection (one per model, made on first use). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function groupCommit(model: Model<any>): GroupCommit {
  let b = batchers.get(model);
  if (!b) batchers.set(model, (b = new GroupCommit(model)));
  return b;
}
