// What the batch modules share: their dependencies, the batch's Redis key and the constants
// that tie submitting, queueing, counting and results together (see batches.ts).
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import type { Leases } from '../platform/lease.js';
import type { EnrichQueue } from '../queue/enrich-queue.js';
import type { Delivery } from '../delivery/delivery.js';
import type { EnrichRequest } from '../engine/types.js';
import type { Identity } from '../engine/identity.js';
import type { BatchCounts, BatchItem, BatchOptions, BatchRowStatus } from '../plugin/service.js';
import { validateRequest } from './request-validation.js';
import type { CompletionHub } from './completion.js';
import type { ActivityLog } from './activity-log.js';
import type { Tombstones } from './tombstones.js';
import type { Jobs } from './jobs.js';

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
  leases: Leases;
  /** Items are queued as ordinary jobs, each answered on its row. */
  queue: EnrichQueue;
  /** Cancelling a batch cancels its items' jobs. */
  jobs: Jobs;
  /** Progress and the finished batch go back to the trigger that submitted it. */
  delivery: Delivery;
}

/** The batch's live counts in Redis. */
export const batchKey = (config: Config, batchId: string) => `${config.queue.prefix}:batch:${batchId}`;
export const batchKeyTtlMs = (config: Config) => config.service.batch.retentionDays * 86400_000 + 86400_000;

/** A batch's budget is shared by all its jobs: its key is the batch id. */
export function withBudget(options: BatchOptions, batchId: string): BatchOptions & { budgetKey?: string } {
  return options.maxCostUsd === undefined ? options : { ...options, budgetKey: batchId };
}

/** An item's request, checked as a trigger's is; it names no trigger (its answer goes to its row). */
export function itemRequest(input: BatchItem['input'], options: BatchOptions, batchId: string): { request: EnrichRequest; identity: Identity } {
  return validateRequest({ ...withBudget(options, batchId), input });
}

export const micro = (usd: number) => Math.round(usd * 1e6);

export function zeroCounts(): BatchCounts {
  return { queued: 0, running: 0, done: 0, failed: 0, paused: 0, cancelled: 0, rejected: 0 };
}

export type BatchDocView = { _id: string; workspace: string; label?: string | null; columns?: string[] | null; state: string; replyTo: unknown; createdAt?: Date; finishedAt?: Date | null; queueing?: boolean | null; queuedThrough?: number | null };
