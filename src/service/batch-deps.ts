// What the batch modules share: their dependencies, the batch's Redis key and the constants
// that tie submitting, queueing, counting and results together (see batches.ts).
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import type { EnrichRequest, ReplyTo } from '../engine/types.js';
import type { Identity } from '../engine/identity.js';
import type { Leases } from '../platform/lease.js';
import type { BatchCounts, BatchItem, BatchOptions, BatchRowStatus, BatchStatus } from '../plugin/service.js';
import type { CompletionHub } from './completion.js';
import type { ActivityLog } from './activity-log.js';
import type { Tombstones } from './tombstones.js';

/** The replyTo of a batch item's job: the service answers it, not a plugin. */
export const BATCH_REPLY_TRIGGER = 'enrichbot:batch';

export const COUNT_KEYS: (keyof BatchCounts)[] = ['queued', 'running', 'done', 'failed', 'paused', 'cancelled', 'rejected'];
export const FINAL: BatchRowStatus[] = ['done', 'failed', 'cancelled', 'rejected'];

export interface BatchesDeps {
  config: Config;
  store: Store;
  redis: Redis;
  clock: Clock;
  logger: Logger;
  hub: CompletionHub;
  tombstones: Tombstones;
  activity: ActivityLog;
  validate(input: BatchItem['input'], options: BatchOptions & { budgetKey?: string }): { request: EnrichRequest; identity: Identity };
  enqueue(request: EnrichRequest, identity: Identity): Promise<{ jobId: string; joined: boolean }>;
  notifyTrigger(kind: 'progress' | 'done', status: BatchStatus, replyTo: ReplyTo): Promise<void>;
  cancelJob(jobId: string): Promise<void>;
  leases: Leases;
}

/** The batch's live counts in Redis. */
export const batchKey = (config: Config, batchId: string) => `${config.queue.prefix}:batch:${batchId}`;
export const batchKeyTtlMs = (config: Config) => config.service.batch.retentionDays * 86400_000 + 86400_000;

/** A batch's budget is shared by all its jobs: its key is the batch id. */
export function withBudget(options: BatchOptions, batchId: string): BatchOptions & { budgetKey?: string } {
  return options.maxCostUsd === undefined ? options : { ...options, budgetKey: batchId };
}

export const micro = (usd: number) => Math.round(usd * 1e6);

export function zeroCounts(): BatchCounts {
  return { queued: 0, running: 0, done: 0, failed: 0, paused: 0, cancelled: 0, rejected: 0 };
}

export type BatchDocView = { _id: string; workspace: string; label?: string | null; columns?: string[] | null; state: string; replyTo: unknown; createdAt?: Date; finishedAt?: Date | null; queueing?: boolean | null; queuedThrough?: number | null };
