// MongoDB models. Written for MongoDB >= 6 and FerretDB 1.24 alike: no TTL or partial indexes
// (the sweeper deletes expired rows), no transactions, and UTC day strings for grouping.
import { Schema, type Connection, type Model, type InferSchemaType } from 'mongoose';

/** One stored value with where it came from. */
const FieldValueSchema = new Schema(
  {
    value: Schema.Types.Mixed,
    provider: String,
    operation: String,
    fetchedAt: Date,
    confidence: Number,
    ledgerId: String,
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
/** A cached answer's _id: workspace, provider, operation and input hash. */
export const cacheId = (workspace: string, provider: string, operation: string, inputHash: string) => `${workspace}|${provider}|${operation}|${inputHash}`;

function recordSchema() {
  const s = new Schema(
    {
      _id: {
        type: String,
        default(this: { workspace: string; key: string }) {
          return recordId(this.workspace, this.key);
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
      lastJobId: String,
      companyKey: String,
    },
    { timestamps: true, minimize: false },
  );
  s.index({ workspace: 1, key: 1 }, { unique: true });
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
    error: String,
    errorCode: String,
    result: Schema.Types.Mixed,
    startedAt: Date,
    finishedAt: Date,
    expireAt: Date,
    createdDay: String,
  },
  { timestamps: true, minimize: false },
);
JobSchema.index({ jobId: 1 }, { unique: true });
JobSchema.index({ status: 1, resumeAt: 1 });
JobSchema.index({ expireAt: 1 });

/**
 * Who asked for a job and where the answer goes: one document per requester, not an array on
 * the job, so joining a running job never races the worker's own update of the job document.
 */
const RequesterSchema = new Schema(
  {
    jobId: { type: String, required: true },
    replyTo: { type: Schema.Types.Mixed, required: true },
    delivered: { type: Boolean, default: false },
    pausedNotified: { type: Boolean, default: false },
    expireAt: { type: Date, required: true },
  },
  { minimize: false },
);
RequesterSchema.index({ jobId: 1, delivered: 1 });
RequesterSchema.index({ expireAt: 1 });

const LedgerSchema = new Schema(
  {
    workspace: { type: String, required: true },
    jobId: String,
    provider: { type: String, required: true },
    operation: String,
    group: String,
    inputHash: String,
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
LedgerSchema.index({ at: 1 });

const CacheSchema = new Schema(
  {
    _id: {
      type: String,
      default(this: { workspace: string; provider: string; operation: string; inputHash: string }) {
        return cacheId(this.workspace, this.provider, this.operation, this.inputHash);
      },
    },
    workspace: { type: String, required: true },
    provider: { type: String, required: true },
    operation: { type: String, required: true },
    inputHash: { type: String, required: true },
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
CacheSchema.index({ workspace: 1, provider: 1, operation: 1, inputHash: 1 }, { unique: true });
CacheSchema.index({ expireAt: 1 });

export type RecordDoc = InferSchemaType<ReturnType<typeof recordSchema>>;
export type JobDoc = InferSchemaType<typeof JobSchema>;
export type LedgerDoc = InferSchemaType<typeof LedgerSchema>;
export type CacheDoc = InferSchemaType<typeof CacheSchema>;
export type RequesterDoc = InferSchemaType<typeof RequesterSchema>;

export interface Models {
  Person: Model<RecordDoc>;
  Company: Model<RecordDoc>;
  Job: Model<JobDoc>;
  Ledger: Model<LedgerDoc>;
  Cache: Model<CacheDoc>;
  Requester: Model<RequesterDoc>;
}

export function registerModels(conn: Connection): Models {
  return {
    Person: conn.model('Person', recordSchema(), 'people') as unknown as Model<RecordDoc>,
    Company: conn.model('Company', recordSchema(), 'companies') as unknown as Model<RecordDoc>,
    Job: conn.model('EnrichJob', JobSchema, 'enrich_jobs'),
    Ledger: conn.model('LedgerEntry', LedgerSchema, 'ledger'),
    Cache: conn.model('ProviderCache', CacheSchema, 'provider_cache'),
    Requester: conn.model('JobRequester', RequesterSchema, 'job_requesters'),
  };
}
