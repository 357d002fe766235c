// MongoDB models. Written for MongoDB >= 6 and FerretDB 1.24 alike: no TTL or partial indexes
// (the sweeper deletes expired rows), no transactions, and UTC day strings for grouping.
import { Schema, Types, type Connection, type Model, type InferSchemaType } from 'mongoose';

/** One stored value with where it came from. */
const FieldValueSchema = new Schema(
  {
    value: Schema.Types.Mixed,
    provider: String,
    operation: String,
    fetchedAt: Date,
    confidence: Number,
    ledgerId: String,
    latencyMs: Number,
    by: String,
    /** The provider's original text beside a canonical value (issue 11). */
    raw: Schema.Types.Mixed,
    /** Other providers' values for the field in the same run: [{ provider, value, confidence, raw }]. */
    alternatives: Schema.Types.Mixed,
  },
  { _id: false },
);

/** A record's _id is its workspace and identity key: point lookups by _id are fast on FerretDB too. */
export const recordId = (workspace: string, key: string) => `${workspace}|${key}`;
/**
 * A cached answer's _id: workspace, provider, operation and the identity it is about (an
 * identity key such as "person:email:jane@acme.com" or "company:acme.com"). One answer is stored
 * under each identity it is about, so a repeat finds it whatever shape its input has grown to.
 */
export const cacheId = (workspace: string, provider: string, operation: string, identityKey: string) => `${workspace}|${provider}|${operation}|${identityKey}`;

function recordSchema() {
  const s = new Schema(
    {
      _id: {
        type: String,
        // Mongoose calls this with no document for an upsert in a bulkWrite (group-commit.ts);
        // the _id then comes from the filter.
        default(this: { workspace: string; key: string } | null) {
          return this ? recordId(this.workspace, this.key) : undefined;
        },
      },
      workspace: { type: String, required: true },
      key: { type: String, required: true },
      kind: String,
      display: String,
      /** field name (without the person./company. prefix) -> FieldValue */
      fields: { type: Map, of: FieldValueSchema, default: {} },
      enrichedAt: Date,
      enrichedDay: String,
      /** Field groups a provider could not answer (error, time-out, circuit, cap): asked again even while fresh. */
      dueGroups: { type: [String], default: undefined },
      lastJobId: String,
      companyKey: String,
      /** A person's job changes, oldest first, the last 20 (issue 21): [{ at, jobId, old, new, sources }]. */
      jobChanges: { type: Schema.Types.Mixed, default: undefined },
      /** The UTC days of those changes: the digest counts people by day with an element match. */
      jobChangeDays: { type: [String], default: undefined },
      /** Where each trigger last asked about this record ({ slack: { channel... } }): job-change cards go there. */
      askedBy: { type: Schema.Types.Mixed, default: undefined },
    },
    { timestamps: true, minimize: false },
  );
  s.index({ workspace: 1, key: 1 }, { unique: true });
  // Scheduled re-enrichment reads a workspace's oldest records first.
  s.index({ workspace: 1, enrichedAt: 1 });
  return s;
}

const OutcomeSchema = new Schema(
  {
    group: String,
    provider: String,
    operation: String,
    outcome: String,
    reason: String,
    costUsd: Number,
    ledgerId: String,
    by: String,
    fields: [String],
    rejected: Number,
    rejectedReasons: [String],
  },
  { _id: false },
);

const JobSchema = new Schema(
  {
    /** The job id itself, so every lookup of a job is by _id. */
    _id: {
      type: String,
      default(this: { jobId: string }) {
        return this.jobId;
      },
    },
    jobId: { type: String, required: true },
    workspace: { type: String, required: true },
    identityKey: String,
    display: String,
    request: Schema.Types.Mixed,
    status: { type: String, enum: ['queued', 'running', 'paused', 'done', 'failed', 'cancelled'], required: true },
    outcomes: [OutcomeSchema],
    costUsd: { type: Number, default: 0 },
    resumeAt: Date,
    pauseReason: String,
    attempts: { type: Number, default: 0 },
    /** Incremented each time the job is (re)started; the Redis job of run n is "<jobId>#<n>". */
    run: { type: Number, default: 0 },
    /** Times a run of this job was found abandoned mid-way (its worker died or hung). */
    stalls: { type: Number, default: 0 },
    error: String,
    errorCode: String,
    result: Schema.Types.Mixed,
    /**
     * Who asked for this run and waits for its answer: `{ id, replyTo }`, set when a run starts
     * and added to (under the job's lease) by every request that joins it; answered at the end,
     * each once (a Redis claim per id). Kept on the job, so starting, joining and answering cost
     * no extra database command.
     */
    requesters: { type: [Schema.Types.Mixed], default: [] },
    startedAt: Date,
    finishedAt: Date,
    expireAt: Date,
    createdDay: String,
  },
  { timestamps: true, minimize: false },
);
JobSchema.index({ jobId: 1 }, { unique: true });
JobSchema.index({ status: 1, resumeAt: 1 });
JobSchema.index({ status: 1, updatedAt: 1 });
JobSchema.index({ expireAt: 1 });
// GET /v1/jobs: a workspace's jobs, newest first.
JobSchema.index({ workspace: 1, createdAt: -1 });

/**
 * Who asked for a job and where the answer goes: one document per requester, not an array on
 * the job, so joining a running job never races the worker's own update of the job document.
 */
/**
 * A paid call's row is written as `pending` before the call, under its idempotency key as _id
 * (job, run and attempt, provider, operation, input hash), and settled in place after it. A
 * pending row whose worker died becomes `lost`: the provider may have billed it, so its
 * reservation stays counted. Other rows get a random _id.
 */
const LedgerSchema = new Schema(
  {
    _id: { type: String, default: () => new Types.ObjectId().toHexString() },
    workspace: { type: String, required: true },
    /** What was reserved for the call before it was made (pending and lost rows cost this much). */
    reservedUsd: Number,
    jobId: String,
    provider: { type: String, required: true },
    operation: String,
    group: String,
    inputHash: String,
    /** The request budget (maxCostUsd) this call spent against. */
    budget: String,
    outcome: { type: String, required: true },
    httpStatus: Number,
    latencyMs: Number,
    attempts: Number,
    costUsd: { type: Number, default: 0 },
    charged: Boolean,
    usage: String,
    error: String,
    errorKind: String,
    day: { type: String, required: true },
    /** JSON text, size-capped. */
    raw: String,
    rawTruncated: Boolean,
    at: { type: Date, required: true },
  },
  { minimize: false },
);
LedgerSchema.index({ day: 1, workspace: 1, provider: 1 });
LedgerSchema.index({ jobId: 1 });
LedgerSchema.index({ outcome: 1, at: 1 });
LedgerSchema.index({ at: 1 });

const CacheSchema = new Schema(
  {
    /** cacheId(workspace, provider, operation, key): one row per identity the answer is about. */
    _id: { type: String, required: true },
    workspace: { type: String, required: true },
    provider: { type: String, required: true },
    operation: { type: String, required: true },
    /** The identity this row is filed under (part of its _id). */
    key: { type: String, required: true },
    /** The identity the call was made for (the job's person or company). */
    identityKey: { type: String, required: true },
    /** Every identity the answer is about: identityKey, the input's identifiers, and those the answer confirmed. */
    identityKeys: { type: [String], default: [] },
    /** The exact input asked (for debugging; not part of the lookup). */
    inputHash: String,
    outcome: { type: String, required: true },
    /** JSON text of the LookupResult (field names contain dots, which FerretDB refuses as keys). */
    resultJson: { type: String, required: true },
    ledgerId: String,
    by: String,
    fetchedAt: { type: Date, required: true },
    expireAt: { type: Date, required: true },
  },
  { minimize: false },
);
CacheSchema.index({ workspace: 1, identityKeys: 1 });
CacheSchema.index({ expireAt: 1 });

export type RecordDoc = InferSchemaType<ReturnType<typeof recordSchema>>;
export type JobDoc = InferSchemaType<typeof JobSchema>;
export type LedgerDoc = InferSchemaType<typeof LedgerSchema>;
export type CacheDoc = InferSchemaType<typeof CacheSchema>;

export interface Models {
  Person: Model<RecordDoc>;
  Company: Model<RecordDoc>;
  Job: Model<JobDoc>;
  Ledger: Model<LedgerDoc>;
  Cache: Model<CacheDoc>;
}

export function registerModels(conn: Connection): Models {
  return {
    Person: conn.model('Person', recordSchema(), 'people') as unknown as Model<RecordDoc>,
    Company: conn.model('Company', recordSchema(), 'companies') as unknown as Model<RecordDoc>,
    Job: conn.model('EnrichJob', JobSchema, 'enrich_jobs'),
    Ledger: conn.model('LedgerEntry', LedgerSchema, 'ledger'),
    Cache: conn.model('ProviderCache', CacheSchema, 'provider_cache'),
  };
}
