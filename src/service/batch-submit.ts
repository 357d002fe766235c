// Submitting a batch: many inputs together (a CSV file, an API batch, a backfill). Every item is
// validated; bad ones are rejected by index while the rest run. The items, their live counts and
// the batch document are written before `submit` answers; queueing goes on in the background.
import { randomBytes } from 'node:crypto';
import type { EnrichRequest, ReplyTo } from '../engine/types.js';
import type { Identity } from '../engine/identity.js';
import { batchItemId } from '../store/service-models.js';
import { jobIdFor } from '../queue/enrich-queue.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import type { BatchItem, BatchItemProblem, BatchOptions, BatchSubmitResult, Lease } from '../plugin/service.js';
import { batchKey, batchKeyTtlMs, itemRequest, zeroCounts, type BatchesDeps } from './batch-deps.js';
import { QUEUEING_LEASE_TTL_MS, queueingLeaseKey } from './batch-queueing.js';

const CHUNK = 250;

type Planned = { index: number; columns: Record<string, string>; input: BatchItem['input'] | null; request?: EnrichRequest; identity?: Identity; jobId?: string; problem?: BatchItemProblem; identityHash?: string };

export interface SubmitSteps {
  /** Starts queueing the written batch in the background (the lease is handed over). */
  startQueueing(batchId: string, lease: Lease): void;
  /** Finishes a batch with nothing to queue. */
  maybeFinish(batchId: string): Promise<void>;
}

export interface SubmitBatchOptions {
  deps: BatchesDeps;
  steps: SubmitSteps;
  source: BatchItem[] | AsyncIterable<BatchItem>;
  /** The trigger that submitted the batch: its progress and its end go there. */
  replyTo: ReplyTo;
  options: BatchOptions;
}

/** A batch being written: its id, its items as planned, and when it expires. */
interface Draft {
  batchId: string;
  planned: Planned[];
  rejected: BatchItemProblem[];
  accepted: number;
  columns: string[];
  now: Date;
  expireAt: Date;
}

function workspaceProblem(workspace: string): string | undefined {
  if (!/^[\w.:-]{1,100}$/.test(workspace)) return `Invalid workspace "${workspace}": 1-100 letters, digits, _ . : - only.`;
  return undefined;
}

export async function submitBatch({ deps, steps, source, replyTo, options }: SubmitBatchOptions): Promise<BatchSubmitResult> {
  const items = await collectItems(source, deps.config.service.batch.maxItems);
  // Validate the workspace once, before anything is written.
  const probe = workspaceProblem(options.workspace);
  if (probe) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, probe);
  const draft = await planBatch(deps, items, options);
  const { batchId, planned, accepted, rejected } = draft;
  // Taken before anything is written: the sweeper never sees this batch queueing unheld.
  const lease = accepted > 0 ? await deps.leases.acquire(queueingLeaseKey(batchId), QUEUEING_LEASE_TTL_MS) : null;
  if (accepted > 0 && !lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Batch ${batchId} is already being queued: submit it again.`);
  try {
    await writeBatch(deps, draft, replyTo, options);
  } catch (err) {
    await lease?.release().catch(() => undefined);
    throw err;
  }
  if (lease) steps.startQueueing(batchId, lease);
  await deps.activity.write({ workspace: options.workspace, actor: options.actor ?? replyTo.trigger, action: 'batch', subject: batchId, detail: { label: options.label, total: planned.length, accepted, rejected: rejected.length } });
  if (!lease) await steps.maybeFinish(batchId);
  return { batchId, total: planned.length, accepted, rejected };
}

/** The items, read to the end, or BATCH_TOO_LARGE as soon as there are too many. */
async function collectItems(source: BatchItem[] | AsyncIterable<BatchItem>, maxItems: number): Promise<BatchItem[]> {
  const items: BatchItem[] = [];
  for await (const item of source as AsyncIterable<BatchItem>) {
    if (items.length === maxItems) {
      throw new EnrichbotError(ErrorCodes.BATCH_TOO_LARGE, `A batch holds at most ${maxItems.toLocaleString('en-US')} items: split the input into smaller batches (or raise service.batch.maxItems).`);
    }
    items.push(item);
  }
  return items;
}

/** Every item validated: accepted ones get their request and job id, bad ones a problem by index. */
async function planBatch(deps: BatchesDeps, items: BatchItem[], options: BatchOptions): Promise<Draft> {
  const now = deps.clock.now();
  const batchId = `bat_${randomBytes(12).toString('hex')}`;
  const forgotten = await deps.tombstones.all(options.workspace);
  const planned: Planned[] = [];
  for (const [index, item] of items.entries()) planned.push(await planItem(deps, { index, item, options, batchId, forgotten }));
  const rejected = planned.filter((p) => p.problem).map((p) => p.problem!);
  return {
    batchId,
    planned,
    rejected,
    accepted: planned.length - rejected.length,
    columns: options.columns ?? [...new Set(items.flatMap((i) => Object.keys(i.columns ?? {})))],
    now,
    expireAt: new Date(now.getTime() + deps.config.service.batch.retentionDays * 86400_000),
  };
}

async function planItem(deps: BatchesDeps, { index, item, options, batchId, forgotten }: { index: number; item: BatchItem; options: BatchOptions; batchId: string; forgotten: Set<string> }): Promise<Planned> {
  const columns = item.columns ?? {};
  if (item.problem) return { index, columns, input: item.input ?? null, problem: { index, code: ErrorCodes.INPUT_INVALID, reason: item.problem } };
  try {
    const { request, identity } = itemRequest(item.input, options, batchId);
    const hash = await deps.tombstones.idFor(options.workspace, identity.key);
    if (forgotten.has(hash)) {
      // Nothing readable about the person is stored: not the row, not the input, not a reason quoting it.
      return { index, columns: {}, input: null, identityHash: hash, problem: { index, code: ErrorCodes.IDENTITY_FORGOTTEN, reason: "This identity was forgotten at someone's request and is not enriched again." } };
    }
    return { index, columns, input: item.input, request, identity, jobId: jobIdFor(request, identity) };
  } catch (err) {
    const code = (err as { code?: string }).code ?? ErrorCodes.INPUT_INVALID;
    return { index, columns, input: item.input ?? null, problem: { index, code, reason: errorMessage(err) } };
  }
}

/** Items, then counts, then the batch document: a batch that exists has everything it needs. */
async function writeBatch(deps: BatchesDeps, draft: Draft, replyTo: ReplyTo, options: BatchOptions): Promise<void> {
  const { batchId, planned, accepted, rejected, now, expireAt } = draft;
  const { models } = deps.store;
  for (let i = 0; i < planned.length; i += CHUNK) {
    await models.BatchItem.insertMany(
      planned.slice(i, i + CHUNK).map((p) => ({
        _id: batchItemId(batchId, p.index),
        batchId,
        workspace: options.workspace,
        index: p.index,
        columnsJson: JSON.stringify(p.columns),
        input: p.input,
        status: p.problem ? 'rejected' : 'queued',
        reason: p.problem?.reason,
        code: p.problem?.code,
        identityHash: p.identityHash,
        jobId: p.jobId,
        identityKey: p.identity?.key,
        expireAt,
      })),
      { ordered: false },
    );
  }
  const key = batchKey(deps.config, batchId);
  await deps.redis
    .multi()
    .hset(key, { total: planned.length, queued: accepted, rejected: rejected.length, costMicros: 0, movedAt: now.getTime() })
    .pexpire(key, batchKeyTtlMs(deps.config))
    .exec();
  await models.Batch.create({
    _id: batchId,
    workspace: options.workspace,
    label: options.label,
    actor: options.actor,
    replyTo,
    total: planned.length,
    columns: draft.columns,
    state: 'running',
    counts: { ...zeroCounts(), queued: accepted, rejected: rejected.length },
    expireAt,
    refresh: options.refresh ?? false,
    ...(options.groups ? { groups: options.groups } : {}),
    ...(options.maxCostUsd !== undefined ? { maxCostUsd: options.maxCostUsd } : {}),
    queueing: accepted > 0,
    queuedThrough: 0,
  });
}
