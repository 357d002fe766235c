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
import { BATCH_REPLY_TRIGGER, batchKey, batchKeyTtlMs, withBudget, zeroCounts, type BatchesDeps } from './batch-deps.js';
import { QUEUEING_LEASE_TTL_MS, queueingLeaseKey } from './batch-queueing.js';

const CHUNK = 250;

type Planned = { index: number; columns: Record<string, string>; input: BatchItem['input'] | null; request?: EnrichRequest; identity?: Identity; jobId?: string; problem?: BatchItemProblem; identityHash?: string };

export interface SubmitSteps {
  /** Starts queueing the written batch in the background (the lease is handed over). */
  startQueueing(batchId: string, lease: Lease): void;
  /** Finishes a batch with nothing to queue. */
  maybeFinish(batchId: string): Promise<void>;
}

function workspaceProblem(workspace: string): string | undefined {
  if (!/^[\w.:-]{1,100}$/.test(workspace)) return `Invalid workspace "${workspace}": 1-100 letters, digits, _ . : - only.`;
  return undefined;
}

export async function submitBatch(deps: BatchesDeps, steps: SubmitSteps, source: BatchItem[] | AsyncIterable<BatchItem>, replyTo: ReplyTo, options: BatchOptions): Promise<BatchSubmitResult> {
  const { maxItems, retentionDays } = deps.config.service.batch;
  const items: BatchItem[] = [];
  for await (const item of source as AsyncIterable<BatchItem>) {
    if (items.length === maxItems) {
      throw new EnrichbotError(ErrorCodes.BATCH_TOO_LARGE, `A batch holds at most ${maxItems.toLocaleString('en-US')} items: split the input into smaller batches (or raise service.batch.maxItems).`);
    }
    items.push(item);
  }
  // Validate the workspace once, before anything is written.
  const probe = workspaceProblem(options.workspace);
  if (probe) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, probe);

  const { models } = deps.store;
  const now = deps.clock.now();
  const expireAt = new Date(now.getTime() + retentionDays * 86400_000);
  const batchId = `bat_${randomBytes(12).toString('hex')}`;
  const forgotten = await deps.tombstones.all(options.workspace);

  const planned: Planned[] = [];
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const columns = item.columns ?? {};
    if (item.problem) {
      planned.push({ index, columns, input: item.input ?? null, problem: { index, code: ErrorCodes.INPUT_INVALID, reason: item.problem } });
      continue;
    }
    try {
      const { request, identity } = deps.validate(item.input, withBudget(options, batchId));
      const hash = await deps.tombstones.idFor(options.workspace, identity.key);
      if (forgotten.has(hash)) {
        // Nothing readable about the person is stored: not the row, not the input, not a reason quoting it.
        planned.push({ index, columns: {}, input: null, identityHash: hash, problem: { index, code: ErrorCodes.IDENTITY_FORGOTTEN, reason: "This identity was forgotten at someone's request and is not enriched again." } });
        continue;
      }
      const withReply = { ...request, replyTo: { trigger: BATCH_REPLY_TRIGGER, address: { batchId, index } } };
      planned.push({ index, columns, input: item.input, request: withReply, identity, jobId: jobIdFor(withReply, identity) });
    } catch (err) {
      const code = (err as { code?: string }).code ?? ErrorCodes.INPUT_INVALID;
      planned.push({ index, columns, input: item.input ?? null, problem: { index, code, reason: errorMessage(err) } });
    }
  }
  const rejected = planned.filter((p) => p.problem).map((p) => p.problem!);
  const accepted = planned.length - rejected.length;
  const columns = options.columns ?? [...new Set(items.flatMap((i) => Object.keys(i.columns ?? {})))];

  // Taken before anything is written: the sweeper never sees this batch queueing unheld.
  const lease = accepted > 0 ? await deps.leases.acquire(queueingLeaseKey(batchId), QUEUEING_LEASE_TTL_MS) : null;
  if (accepted > 0 && !lease) throw new EnrichbotError(ErrorCodes.JOB_BUSY, `Batch ${batchId} is already being queued: submit it again.`);
  try {
    // Items, then counts, then the batch document: a batch that exists has everything it needs.
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
      columns,
      state: 'running',
      counts: { ...zeroCounts(), queued: accepted, rejected: rejected.length },
      expireAt,
      refresh: options.refresh ?? false,
      ...(options.groups ? { groups: options.groups } : {}),
      ...(options.maxCostUsd !== undefined ? { maxCostUsd: options.maxCostUsd } : {}),
      queueing: accepted > 0,
      queuedThrough: 0,
    });
  } catch (err) {
    await lease?.release().catch(() => undefined);
    throw err;
  }
  if (lease) steps.startQueueing(batchId, lease);
  await deps.activity.write({ workspace: options.workspace, actor: options.actor ?? replyTo.trigger, action: 'batch', subject: batchId, detail: { label: options.label, total: planned.length, accepted, rejected: rejected.length } });
  if (!lease) await steps.maybeFinish(batchId);
  return { batchId, total: planned.length, accepted, rejected };
}
