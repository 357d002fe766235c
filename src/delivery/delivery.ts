// The road back to the triggers, in one place. A job's answer to each requester (a trigger's
// `deliver`, or a batch's rows, in bulk), a batch's progress and its end (`batchProgress`,
// `deliverBatch`), and what a trigger asks of another (`push`, `conflicts`, `notify`, alerts).
// Built once by the App over the plugin registry and handed to the service, the batches and the
// job runner: whatever goes back to a trigger leaves through here, and is logged here when it
// cannot (a result is never dropped silently; it stays on the job record).
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { NotifyMessage, NotifyResult, Plugin, PluginContext, PushRequest, PushResult, TriggerContext, TriggerPlugin } from '../plugin/contract.js';
import type { BatchStatus, ConflictAnswer, ConflictRequest } from '../plugin/service.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import { answeredClaim, claimKey, type BatchItemRef, type Requester } from './requesters.js';

/** The plugin registry, as far as the road back reads it (src/plugin/registry.ts is one). */
export interface TriggerDirectory {
  readonly triggers: ReadonlyMap<string, { plugin: Plugin; enabled: boolean }>;
  context(id: string): PluginContext | undefined;
  isStarted(id: string): boolean;
}

/** A batch row to answer; `starter`: its request started the run (the run's cost is its own). */
export interface ItemAnswer extends BatchItemRef {
  starter: boolean;
}

/** Who writes a job's answer on the batch rows that asked for it (the service's Batches). */
export interface BatchItemAnswers {
  answerItems(result: JobResult, items: ItemAnswer[]): Promise<void>;
}

export interface AlertResult {
  /** Triggers that posted it. */
  posted: string[];
  /** Triggers that could not, with why. */
  failed: { trigger: string; error: string }[];
}

export interface DeliveryOptions {
  triggers: TriggerDirectory;
  /** Where the answered-once claims are kept, under `<prefix>:claim:`. */
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** Whether answers are delivered in this process: the worker role runs the triggers that deliver. */
  answersHere: boolean;
}

type Running = { plugin: TriggerPlugin; ctx: TriggerContext };

/** A claim lives this long: a requester answered once is never answered again within it. */
const CLAIM_TTL_S = 30 * 86400;

export class Delivery {
  private batchItems?: BatchItemAnswers;

  constructor(private readonly opts: DeliveryOptions) {}

  /** Set once, by the service that owns the batches: answers addressed to batch rows go there. */
  answerBatchItemsWith(batchItems: BatchItemAnswers): void {
    this.batchItems = batchItems;
  }

  /** Whether a trigger with this id is loaded and enabled (so its results can be delivered). */
  hasTrigger(id: string): boolean {
    return !!this.opts.triggers.triggers.get(id)?.enabled;
  }

  // --- Answers ---------------------------------------------------------------------------------

  /**
   * Claims and answers the requesters not answered yet (all in one Redis round trip, so a job
   * asked for by hundreds of batch rows costs a few commands); returns how many were handed
   * over. The first requester of a run started it. A paused job tells its requesters once and
   * answers them again when it has finished.
   */
  async answer(result: JobResult, requesters: Requester[]): Promise<number> {
    if (!requesters.length) return 0;
    const paused = result.status === 'paused';
    const won = await this.claim(requesters.map((r) => (paused ? `paused:${r.id}` : answeredClaim(r))));
    const to = requesters.flatMap((r, i) => (won[i] ? [{ requester: r, starter: i === 0 }] : []));
    if (!to.length) return 0;
    await this.deliver(result, to).catch((err) => this.opts.logger.error({ err, jobId: result.jobId }, 'could not deliver the result'));
    return to.length;
  }

  /**
   * Answers a job ended outside a worker (a cancel) when this process delivers; false elsewhere,
   * where a worker answers once it dequeues the job.
   */
  async answerIfHere(result: JobResult, requesters: Requester[]): Promise<boolean> {
    if (!this.opts.answersHere) return false;
    await this.answer(result, requesters);
    return true;
  }

  /** Batch rows in bulk, then each trigger's requesters one by one, each failure logged on its own. */
  private async deliver(result: JobResult, to: { requester: Requester; starter: boolean }[]): Promise<void> {
    const items = to.flatMap(({ requester, starter }) => (requester.batchItem ? [{ ...requester.batchItem, starter }] : []));
    if (items.length) await this.deliverToRows(result, items);
    for (const { requester } of to) {
      if (!requester.replyTo) continue;
      const { trigger } = requester.replyTo;
      await this.deliverTo(result, requester.replyTo).catch((err) => this.opts.logger.error({ err, jobId: result.jobId, trigger }, 'could not deliver the result'));
    }
  }

  private async deliverToRows(result: JobResult, items: ItemAnswer[]): Promise<void> {
    try {
      if (!this.batchItems) throw new Error('no batches are served in this process (the sweeper answers the rows from the job record)');
      await this.batchItems.answerItems(result, items);
    } catch (err) {
      this.opts.logger.error({ err, jobId: result.jobId }, 'could not record the result on its batch rows');
    }
  }

  private async deliverTo(result: JobResult, replyTo: ReplyTo): Promise<void> {
    const plugin = this.opts.triggers.triggers.get(replyTo.trigger)?.plugin as TriggerPlugin | undefined;
    // A trigger without deliver (the HTTP API, the CLI) learns results by waiting on the service.
    if (plugin && !plugin.deliver) return;
    const t = this.running(replyTo.trigger);
    if (!t) {
      // Never silently: the result stays on the job record, and the operator learns why nobody got it.
      this.opts.logger.error({ jobId: result.jobId, trigger: replyTo.trigger }, 'result not delivered: that trigger is not enabled or does not run in this role (the result is kept on the job record)');
      return;
    }
    await t.plugin.deliver!(result, replyTo, t.ctx);
  }

  /** true once per key, ever (within its expiry): whoever gets true does the work. One round trip. */
  private async claim(keys: string[]): Promise<boolean[]> {
    const tx = this.opts.redis.pipeline();
    for (const key of keys) tx.set(claimKey(this.opts.prefix, key), '1', 'EX', CLAIM_TTL_S, 'NX');
    const out = (await tx.exec()) ?? [];
    return keys.map((_, i) => {
      const [err, v] = out[i] ?? [new Error('no reply')];
      if (err) throw err;
      return v === 'OK';
    });
  }

  // --- Batches ---------------------------------------------------------------------------------

  /** A batch's progress to the trigger that submitted it (`batchProgress`); a failure is logged. */
  async batchProgress(status: BatchStatus, replyTo: ReplyTo): Promise<void> {
    const t = this.running(replyTo.trigger);
    try {
      await t?.plugin.batchProgress?.(status, replyTo, t.ctx);
    } catch (err) {
      this.opts.logger.warn({ err, batchId: status.batchId }, 'could not deliver batch progress');
    }
  }

  /** A finished batch to the trigger that submitted it (`deliverBatch`), once; a failure is logged. */
  async batchDone(status: BatchStatus, replyTo: ReplyTo): Promise<void> {
    const t = this.running(replyTo.trigger);
    if (!t) {
      this.opts.logger.error({ batchId: status.batchId, trigger: replyTo.trigger }, 'finished batch not delivered: that trigger is not enabled in this process');
      return;
    }
    try {
      await t.plugin.deliverBatch?.(status, replyTo, t.ctx);
    } catch (err) {
      this.opts.logger.error({ err, batchId: status.batchId }, 'could not deliver the finished batch');
    }
  }

  // --- One trigger to another ------------------------------------------------------------------

  /** The `push` of the trigger named `destination` (a record handed to HubSpot, say). */
  async push(destination: string, request: PushRequest): Promise<PushResult> {
    const t = this.running(destination);
    if (!t?.plugin.push) throw new EnrichbotError(ErrorCodes.PUSH_UNAVAILABLE, `No enabled trigger "${destination}" can take a push: enable it (plugins.triggers) and configure its credentials.`);
    return t.plugin.push({ ...request, fromSoleWorkspace: (await this.soleWorkspaces()).includes(request.workspace) }, t.ctx);
  }

  /** The `conflicts` of the trigger named `destination`. */
  async conflicts(destination: string, request: ConflictRequest): Promise<ConflictAnswer> {
    const t = this.running(destination);
    if (!t?.plugin.conflicts) throw new EnrichbotError(ErrorCodes.PUSH_UNAVAILABLE, `No enabled trigger "${destination}" keeps conflicts here: enable it (plugins.triggers) with its credentials.`);
    if (request.op === 'count') return t.plugin.conflicts(request, t.ctx);
    return t.plugin.conflicts({ ...request, fromSoleWorkspace: (await this.soleWorkspaces()).includes(request.workspace) }, t.ctx);
  }

  /** The `notify` of the trigger named `destination` (a message posted to Slack, say). */
  async notify(destination: string, message: NotifyMessage): Promise<NotifyResult> {
    const t = this.running(destination);
    if (!t?.plugin.notify) throw new EnrichbotError(ErrorCodes.PUSH_UNAVAILABLE, `No enabled trigger "${destination}" can post messages here: enable it (plugins.triggers) with its credentials.`);
    return t.plugin.notify(message, t.ctx);
  }

  /**
   * An operator alert (a digest that could not be posted, a spend cap nearly reached): always a
   * log line at error, then a post through every trigger here that can post, each tried on its
   * own, so an alert about Slack being down still reaches whatever else can post and the log.
   * Never throws: raising an alert must not fail the caller a second time.
   */
  async alert(message: NotifyMessage): Promise<AlertResult> {
    const { logger } = this.opts;
    logger.error({ alert: message.text, channel: message.channel }, `alert: ${message.text}`);
    const out: AlertResult = { posted: [], failed: [] };
    for (const { plugin } of this.runningAll().filter((t) => t.plugin.notify)) {
      try {
        await this.notify(plugin.id, message);
        out.posted.push(plugin.id);
      } catch (err) {
        out.failed.push({ trigger: plugin.id, error: errorMessage(err) });
        logger.error({ err, trigger: plugin.id }, `the alert could not be posted through ${plugin.id}`);
      }
    }
    if (!out.posted.length) logger.error({ alert: message.text }, 'no trigger could post the alert: this log line is the only record of it');
    return out;
  }

  // --- The triggers running here ---------------------------------------------------------------

  /** The trigger and its context when it runs in this process. */
  running(id: string): Running | undefined {
    const { triggers } = this.opts;
    const loaded = triggers.triggers.get(id);
    const ctx = triggers.context(id) as TriggerContext | undefined;
    if (!loaded?.enabled || !ctx || !triggers.isStarted(id)) return undefined;
    return { plugin: loaded.plugin as TriggerPlugin, ctx };
  }

  /** Every enabled trigger running in this process, in config order. */
  runningAll(): Running[] {
    return [...this.opts.triggers.triggers.keys()].flatMap((id) => this.running(id) ?? []);
  }

  /** Workspaces that an enabled trigger serves alone (a destination's default binding). */
  private async soleWorkspaces(): Promise<string[]> {
    const out: string[] = [];
    for (const t of this.runningAll()) {
      const sole = t.plugin.soleWorkspace ? await t.plugin.soleWorkspace(t.ctx).catch(() => undefined) : undefined;
      if (sole) out.push(sole);
    }
    return out;
  }
}
