// Models of the trigger platform's service: batches and their items, the activity log, and
// tombstones of forgotten identities. Same rules as models.ts: no TTL or partial indexes,
// point lookups by _id (an item's _id sorts in input order), no reliance on atomic updates.
import { Schema, type Connection, type Model, type InferSchemaType } from 'mongoose';

const BatchSchema = new Schema(
  {
    _id: { type: String, required: true },
    workspace: { type: String, required: true },
    label: String,
    actor: String,
    replyTo: { type: Schema.Types.Mixed, required: true },
    total: { type: Number, required: true },
    /** Input column names in order, for the CSV export. */
    columns: [String],
    state: { type: String, enum: ['running', 'paused', 'done', 'cancelled'], required: true },
    /** Counts as of the last snapshot; the live counts are in Redis (rebuilt from items if lost). */
    counts: Schema.Types.Mixed,
    costUsd: { type: Number, default: 0 },
    resumeAt: Date,
    finishedAt: Date,
    expireAt: { type: Date, required: true },
    /** The options every item is queued with, so another process can finish queueing them. */
    refresh: Boolean,
    groups: { type: [String], default: undefined },
    /** The batch-wide budget (USD) all its jobs share, under the batch id as budget key. */
    maxCostUsd: Number,
    /** True until every accepted item is on the queue (done in the background, under a lease). */
    queueing: Boolean,
    /** Items before this index are on the queue (or need not be); the rest still have to be queued. */
    queuedThrough: Number,
    /** What the batch was estimated to cost before it ran (service/estimate.ts): expectedUsd, worstUsd, per group. */
    estimate: Schema.Types.Mixed,
  },
  { timestamps: true, minimize: false },
);
BatchSchema.index({ workspace: 1, createdAt: -1 });
BatchSchema.index({ queueing: 1 });
BatchSchema.index({ expireAt: 1 });

/** `<batchId>:<index, zero-padded>`: sorting by _id gives input order. */
export const batchItemId = (batchId: string, index: number) => `${batchId}:${String(index).padStart(6, '0')}`;

const BatchItemSchema = new Schema(
  {
    _id: { type: String, required: true },
    batchId: { type: String, required: true },
    workspace: { type: String, required: true },
    index: { type: Number, required: true },
    /** The row as it came in (CSV cells by header), as JSON text: headers may contain dots. */
    columnsJson: String,
    input: Schema.Types.Mixed,
    status: { type: String, enum: ['queued', 'running', 'paused', 'done', 'failed', 'cancelled', 'rejected'], required: true },
    reason: String,
    /** A rejected item's error code. */
    code: String,
    /** A row refused for a forgotten identity: its tombstone id (salted hash), never the identity. */
    identityHash: String,
    jobId: String,
    identityKey: String,
    result: Schema.Types.Mixed,
    costUsd: { type: Number, default: 0 },
    expireAt: { type: Date, required: true },
  },
  { minimize: false },
);
BatchItemSchema.index({ batchId: 1, _id: 1 });
BatchItemSchema.index({ jobId: 1 });
BatchItemSchema.index({ expireAt: 1 });

const ActivitySchema = new Schema(
  {
    workspace: { type: String, required: true },
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    action: { type: String, required: true },
    subject: { type: String, required: true },
    /** The identity the entry is about, so `forget` can scrub it. */
    identityKey: String,
    detailJson: String,
    expireAt: { type: Date, required: true },
  },
  { minimize: false },
);
ActivitySchema.index({ workspace: 1, at: -1 });
ActivitySchema.index({ expireAt: 1 });

/** `<workspace>|<salted sha256 of the identity key>`: nothing readable about the person stays. */
const TombstoneSchema = new Schema(
  {
    _id: { type: String, required: true },
    workspace: { type: String, required: true },
    by: String,
    at: { type: Date, required: true },
  },
  { minimize: false },
);

/** Install-wide settings the app generates once (the tombstone salt). */
const SettingSchema = new Schema({ _id: { type: String, required: true }, value: { type: String, required: true } }, { minimize: false });

export type BatchDoc = InferSchemaType<typeof BatchSchema>;
export type BatchItemDoc = InferSchemaType<typeof BatchItemSchema>;
export type ActivityDoc = InferSchemaType<typeof ActivitySchema>;
export type TombstoneDoc = InferSchemaType<typeof TombstoneSchema>;

export interface ServiceModels {
  Batch: Model<BatchDoc>;
  BatchItem: Model<BatchItemDoc>;
  Activity: Model<ActivityDoc>;
  Tombstone: Model<TombstoneDoc>;
  Setting: Model<InferSchemaType<typeof SettingSchema>>;
}

export function registerServiceModels(conn: Connection): ServiceModels {
  return {
    Batch: conn.model('Batch', BatchSchema, 'batches'),
    BatchItem: conn.model('BatchItem', BatchItemSchema, 'batch_items'),
    Activity: conn.model('Activity', ActivitySchema, 'activity'),
    Tombstone: conn.model('Tombstone', TombstoneSchema, 'tombstones'),
    Setting: conn.model('Setting', SettingSchema, 'settings'),
  };
}
