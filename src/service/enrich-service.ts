// The EnrichService: the only way a trigger reaches the core. It validates and normalizes what
// a trigger asks, refuses forgotten identities, queues (or joins) jobs, answers status and
// waits by Redis pub/sub, and keeps the activity log. Batches live in batches.ts (and its
// batch-*.ts parts), a job's end and cancel in jobs.ts, forgetting in forget.ts; whatever goes
// back to a trigger goes through the delivery (src/delivery/). This file is the front door.
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import { runStateKey, type EnrichQueue } from '../queue/enrich-queue.js';
import type { Delivery, AlertResult } from '../delivery/delivery.js';
import type { Leases } from '../platform/lease.js';
import type { EnrichRequest, JobResult, RecordView, ReplyTo } from '../engine/types.js';
import { identityOfInput, type Identity, type StructuredInput } from '../engine/identity.js';
import type { ProviderRuntime } from '../engine/provider-call.js';
import type { SpendCap } from '../engine/spend-cap.js';
import { FIELD_SCHEMAS } from '../engine/fields.js';
import { MANUAL_PROVIDER } from '../engine/merge.js';
import { normalizeField } from '../engine/normalize/index.js';
import { Ledger } from '../engine/ledger.js';
import { recordId } from '../store/models.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import type {
  ActivityEntry,
  BatchItem,
  BatchOptions,
  BatchResultRow,
  BatchStatus,
  EnrichService,
  FieldCorrection,
  ForgetReport,
  JobStatusView,
  JobSummary,
  ListPage,
  ListQuery,
  SpendReport,
  BreakerState,
  UsageReport,
  SubmitRequest,
  SubmitResult,
  ConflictAnswer,
  ConflictRequest,
} from '../plugin/service.js';
import type { NotifyMessage, NotifyResult, PushActivity, PushResult } from '../plugin/contract.js';
import { CompletionHub } from './completion.js';
import { ActivityLog } from './activity-log.js';
import { Tombstones } from './tombstones.js';
import { ageingRecords, readRecords, toRecordView, type AgeingRecord } from './records.js';
import { Batches } from './batches.js';
import { forgetIdentity } from './forget.js';
import { Reports } from './reports.js';
import { UsageCounters } from './usage-counters.js';
import { Listing } from './listing.js';
import { workspaceUsage } from './usage.js';
import { estimateBatch, keepEstimate, type BatchEstimate } from './estimate.js';
import { Jobs } from './jobs.js';
import { validateRequest, type RequestToValidate } from './request-validation.js';

export interface EnrichServiceDeps {
  config: Config;
  store: Store;
  redis: Redis;
  queue: EnrichQueue;
  clock: Clock;
  logger: Logger;
  /** Batches are queued in the background under a lease. */
  leases: Leases;
  /** The road back to triggers: answers, a batch's progress and end, push, conflicts, notify, alerts. */
  delivery: Delivery;
  /** The engine's providers: estimates price their waterfalls; their breakers are shared in Redis. */
  providers: Map<string, ProviderRuntime>;
  /** The spend caps an estimate compares itself with. */
  spendCap: SpendCap;
  /** What pushes to each destination trigger count as (its `pushActivity`): the daily report names them so. */
  pushActivity?: Record<string, PushActivity>;
}

const OPEN = ['queued', 'running', 'paused'];

/** A UTC day as YYYY-MM-DD, or INPUT_INVALID saying so. */
function validDay(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `"${day}" is not a day: give it as YYYY-MM-DD (UTC), e.g. 2026-03-01.`);
  }
  return day;
}

export class EnrichServiceImpl implements EnrichService {
  readonly hub: CompletionHub;
  readonly activityLog: ActivityLog;
  readonly tombstones: Tombstones;
  readonly batches: Batches;
  readonly jobs: Jobs;
  private readonly ledger: Ledger;
  readonly reports: Reports;
  readonly counters: UsageCounters;
  private readonly listing: Listing;

  constructor(private readonly deps: EnrichServiceDeps) {
    const { config, store, redis, clock, delivery } = deps;
    this.listing = new Listing(store);
    this.reports = new Reports({ config, store, redis, queue: deps.queue, pushActivity: deps.pushActivity });
    this.counters = new UsageCounters(redis, clock, config.queue.prefix);
    this.hub = new CompletionHub(redis, config.queue.prefix);
    this.activityLog = new ActivityLog(store.models, clock, config.service.activityRetentionDays);
    this.tombstones = new Tombstones(store.models, config.service.privacySalt, redis, config.queue.prefix);
    this.ledger = new Ledger(store.models, config.engine.rawResponseMaxBytes);
    this.jobs = new Jobs({ redis, prefix: config.queue.prefix, queue: deps.queue, models: store.models, hub: this.hub, counters: this.counters, delivery, logger: deps.logger });
    this.batches = new Batches({
      config,
      store,
      redis,
      clock,
      logger: deps.logger.child({ part: 'batches' }),
      hub: this.hub,
      tombstones: this.tombstones,
      activity: this.activityLog,
      leases: deps.leases,
      queue: deps.queue,
      jobs: this.jobs,
      delivery,
    });
    // A job's answer to batch rows comes back through the delivery to these batches.
    delivery.answerBatchItemsWith(this.batches);
  }

  /** Validates a request (zod) and parses its input; throws with what to fix. */
  validate(request: RequestToValidate, replyTo?: ReplyTo): { request: EnrichRequest; identity: Identity } {
    return validateRequest(request, replyTo);
  }

  async estimate(items: BatchItem[], options: BatchOptions): Promise<BatchEstimate> {
    if (items.length > this.deps.config.service.batch.maxItems) {
      throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `${items.length} items is more than service.batch.maxItems (${this.deps.config.service.batch.maxItems}): split the list.`);
    }
    const usable = items.filter((i) => !i.problem).map((i) => i.input);
    const { config, store, providers, spendCap, clock } = this.deps;
    const est = await estimateBatch({ config, models: store.models, providers, spendCap, clock }, usable, { workspace: options.workspace, refresh: options.refresh, groups: options.groups });
    return { ...est, rows: items.length, rejected: est.rejected + (items.length - usable.length) };
  }

  async keepEstimate(batchId: string, estimate: BatchEstimate): Promise<void> {
    await keepEstimate(this.deps.store.models, batchId, estimate);
  }

  batchConfirmAboveUsd(): number {
    return this.deps.config.service.batch.confirmAboveUsd;
  }

  private checkTrigger(replyTo: ReplyTo): void {
    if (!this.deps.delivery.hasTrigger(replyTo.trigger)) {
      throw new EnrichbotError(ErrorCodes.TRIGGER_UNKNOWN, `No enabled trigger "${replyTo.trigger}" to send the answer to: list it under plugins.triggers (or fix replyTo.trigger).`);
    }
  }

  private async refuseForgotten(workspace: string, identity: Identity): Promise<void> {
    if (await this.tombstones.isForgotten(workspace, identity.key)) {
      throw new EnrichbotError(
        ErrorCodes.IDENTITY_FORGOTTEN,
        `${identity.display} was forgotten in workspace ${workspace} at someone's request, so enrichbot will not look them up again. To allow it, run \`enrichbot forget --undo ${identity.display} -w ${workspace}\`.`,
      );
    }
  }

  async submit(request: SubmitRequest, replyTo: ReplyTo): Promise<SubmitResult> {
    this.checkTrigger(replyTo);
    const { request: req, identity } = this.validate(request, replyTo);
    await this.refuseForgotten(req.workspace, identity);
    const { jobId, joined } = await this.deps.queue.enqueue({ request: req, identity });
    await this.activityLog.write({ workspace: req.workspace, actor: request.actor ?? replyTo.trigger, action: req.refresh ? 'refresh' : 'enrich', subject: identity.display, identityKey: identity.key, detail: { jobId, joined } });
    return { jobId, joined, display: identity.display };
  }

  async submitBatch(items: BatchItem[] | AsyncIterable<BatchItem>, replyTo: ReplyTo, options: BatchOptions) {
    this.checkTrigger(replyTo);
    return this.batches.submit(items, replyTo, options);
  }

  async status(id: string, workspace?: string): Promise<JobStatusView | BatchStatus> {
    if (id.startsWith('bat_')) return this.batches.status(id, workspace);
    const doc = await this.deps.store.models.Job.findById(id).lean();
    if (!doc || (workspace !== undefined && doc.workspace !== workspace)) {
      throw new EnrichbotError(ErrorCodes.JOB_NOT_FOUND, `No job ${id}${workspace ? ` in workspace ${workspace}` : ''}: check the id (jobs are kept ${this.deps.config.sweeper.jobRetentionDays} days).`);
    }
    return {
      kind: 'job',
      jobId: id,
      workspace: doc.workspace,
      // A run being worked on is `queued` in the record and `open` in its Redis state.
      status: doc.status === 'queued' && (await this.deps.redis.hget(runStateKey(this.deps.config.queue.prefix, id, doc.run ?? 0), 'open')) === '1' ? 'running' : doc.status,
      display: doc.display ?? '',
      costUsd: doc.costUsd ?? 0,
      ...(doc.resumeAt ? { resumeAt: new Date(doc.resumeAt).toISOString() } : {}),
      ...(doc.result ? { result: doc.result as JobResult } : {}),
    };
  }

  async cancel(id: string, workspace?: string, actor?: string): Promise<void> {
    const status = await this.status(id, workspace);
    if (status.kind === 'batch') await this.batches.cancel(id);
    else await this.cancelJob(id);
    await this.activityLog.write({ workspace: status.workspace, actor: actor ?? 'unknown', action: 'cancel', subject: id });
  }

  /** Asks a queued or running job to stop: providers not yet called are marked not_run. */
  cancelJob(jobId: string): Promise<void> {
    return this.jobs.cancel(jobId);
  }

  /** Called by the worker when a job ends (or pauses): wakes every waiter in every process. */
  jobFinished(result: JobResult): Promise<void> {
    return this.jobs.finished(result);
  }

  async waitFor(jobId: string, timeoutMs = this.deps.config.queue.waitTimeoutMs): Promise<JobResult> {
    let unsubscribe: (() => Promise<void>) | undefined;
    try {
      return await new Promise<JobResult>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new EnrichbotError(ErrorCodes.JOB_TIMEOUT, `Job ${jobId} did not finish within ${Math.round(timeoutMs / 1000)} s; it goes on, so ask again later (is a worker running?).`)),
          timeoutMs,
        );
        const done = (r: JobResult) => {
          clearTimeout(timer);
          resolve(r);
        };
        const fail = (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        };
        const readRecord = async () => {
          const doc = await this.deps.store.models.Job.findById(jobId).lean();
          if (!doc) return fail(new EnrichbotError(ErrorCodes.JOB_NOT_FOUND, `No job ${jobId}.`));
          if (!OPEN.includes(doc.status) || doc.status === 'paused') {
            if (doc.result) done(doc.result as JobResult);
          }
        };
        // Subscribe first, then read the record: a result published in between is not lost. The
        // record is read again after a Redis reconnect, which loses the messages sent meanwhile.
        this.hub
          .subscribe('job', jobId, (payload) => done(payload as JobResult), () => void readRecord().catch(() => undefined))
          .then(async (unsub) => {
            unsubscribe = unsub;
            await readRecord();
          })
          .catch(fail);
      });
    } finally {
      await unsubscribe?.();
    }
  }

  waitForBatch(batchId: string, timeoutMs = this.deps.config.queue.waitTimeoutMs): Promise<BatchStatus> {
    return this.batches.waitFor(batchId, timeoutMs);
  }

  onBatchProgress(batchId: string, listener: (status: BatchStatus) => void) {
    return this.hub.subscribe('batch', batchId, (p) => listener(p as BatchStatus));
  }

  results(batchId: string, workspace?: string): AsyncIterable<BatchResultRow> {
    return this.batches.results(batchId, workspace);
  }

  ageingRecords(workspace: string, before: Date, limit: number): Promise<AgeingRecord[]> {
    return ageingRecords(this.deps.store.models, workspace, before, Math.max(0, Math.min(limit, 10_000)));
  }

  async record(workspace: string, subject: string | StructuredInput): Promise<{ person?: RecordView; company?: RecordView }> {
    const identity = identityOfInput(subject);
    return readRecords(this.deps.store.models, workspace, identity);
  }

  async correct(c: FieldCorrection): Promise<RecordView> {
    const identity = identityOfInput(c.subject);
    const schema = Object.hasOwn(FIELD_SCHEMAS, c.field) ? FIELD_SCHEMAS[c.field] : undefined;
    if (!schema) {
      throw new EnrichbotError(ErrorCodes.FIELD_INVALID, `"${c.field}" is not a field enrichbot stores: use one of ${Object.keys(FIELD_SCHEMAS).join(', ')}.`);
    }
    // A person types "Computer Software" or "+44 20 7946 0958": the same canonical forms as providers.
    const normalized = normalizeField(c.field, c.value);
    if (!normalized.ok) throw new EnrichbotError(ErrorCodes.FIELD_INVALID, `${JSON.stringify(c.value)} does not fit ${c.field}: ${normalized.problem}`);
    const parsed = schema.safeParse(normalized.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]?.message ?? 'invalid';
      throw new EnrichbotError(ErrorCodes.FIELD_INVALID, `${JSON.stringify(c.value)} does not fit ${c.field}: ${issue.length > 300 ? `${issue.slice(0, 300)}…` : issue}.`);
    }
    const [subject, name] = [c.field.slice(0, c.field.indexOf('.')), c.field.slice(c.field.indexOf('.') + 1)];
    const { Person, Company } = this.deps.store.models;
    let key: string;
    if (subject === 'person') {
      if (identity.subject !== 'person') throw new EnrichbotError(ErrorCodes.FIELD_INVALID, `${c.field} belongs to a person, but ${identity.display} is a company: give the person's email or LinkedIn URL.`);
      key = identity.key;
    } else if (identity.subject === 'company') {
      key = identity.key;
    } else {
      const p = await Person.findById(recordId(c.workspace, identity.key)).lean();
      if (!p?.companyKey) throw new EnrichbotError(ErrorCodes.FIELD_INVALID, `No company is known for ${identity.display} yet: correct the company by its domain instead.`);
      key = p.companyKey;
    }
    const model = subject === 'person' ? Person : Company;
    const now = this.deps.clock.now();
    await model.updateOne(
      { _id: recordId(c.workspace, key) },
      {
        $set: { [`fields.${name}`]: { value: parsed.data, provider: MANUAL_PROVIDER, operation: 'correct', fetchedAt: now, confidence: 1, by: c.by } },
        $setOnInsert: { workspace: c.workspace, key, kind: identity.kind, display: subject === 'person' || identity.subject === 'company' ? identity.display : key },
      },
      { upsert: true },
    );
    await this.activityLog.write({ workspace: c.workspace, actor: c.by, action: 'correct', subject: identity.display, identityKey: identity.key, detail: { field: c.field } });
    return toRecordView(await model.findById(recordId(c.workspace, key)).lean())!;
  }

  async forget(workspace: string, subject: string | StructuredInput, by: string): Promise<ForgetReport> {
    const identity = identityOfInput(subject);
    const report = await forgetIdentity({ models: this.deps.store.models, workspace, identity, jobs: this.jobs });
    await this.tombstones.add(workspace, identity.key, by, this.deps.clock.now());
    // The log keeps that something was forgotten, not whom.
    await this.activityLog.write({ workspace, actor: by, action: 'forget', subject: '[forgotten]' });
    return { workspace, display: identity.display, removed: report };
  }

  async isForgotten(workspace: string, subject: string | StructuredInput): Promise<boolean> {
    let key: string;
    try {
      key = identityOfInput(subject).key;
    } catch {
      return false;
    }
    return this.tombstones.isForgotten(workspace, key);
  }

  async unforget(workspace: string, subject: string | StructuredInput, by: string): Promise<boolean> {
    const identity = identityOfInput(subject);
    const removed = await this.tombstones.remove(workspace, identity.key);
    await this.activityLog.write({ workspace, actor: by, action: 'unforget', subject: identity.display, identityKey: identity.key });
    return removed;
  }

  async spend(day: string, workspace?: string): Promise<SpendReport> {
    const rows = await this.ledger.summary(day, workspace);
    const byProvider = new Map<string, { provider: string; calls: number; matched: number; costUsd: number }>();
    const lost = { calls: 0, costUsd: 0 };
    for (const r of rows) {
      if (r.outcome === 'lost') {
        lost.calls += r.calls;
        lost.costUsd = Math.round((lost.costUsd + r.costUsd) * 1e6) / 1e6;
      }
      const p = byProvider.get(r.provider) ?? { provider: r.provider, calls: 0, matched: 0, costUsd: 0 };
      p.calls += r.calls;
      if (r.outcome === 'matched') p.matched += r.calls;
      p.costUsd = Math.round((p.costUsd + r.costUsd) * 1e6) / 1e6;
      byProvider.set(r.provider, p);
    }
    const caps = this.deps.config.spendCaps;
    const own = workspace !== undefined && Object.hasOwn(caps.workspaces, workspace) ? caps.workspaces[workspace] : undefined;
    const list = [...byProvider.values()].sort((a, b) => b.costUsd - a.costUsd || a.provider.localeCompare(b.provider));
    return {
      day,
      ...(workspace ? { workspace } : {}),
      totalUsd: Math.round(list.reduce((s, r) => s + r.costUsd, 0) * 1e6) / 1e6,
      byProvider: list,
      lost,
      caps: { dailyUsd: caps.dailyUsd, workspaceDailyUsd: own ?? caps.perWorkspaceDailyUsd },
    };
  }

  listJobs(workspace: string, query: ListQuery): Promise<ListPage<JobSummary>> {
    return this.listing.jobs(workspace, query);
  }

  listBatches(workspace: string, query: ListQuery): Promise<ListPage<BatchStatus>> {
    return this.listing.batches(workspace, query, (id) => this.batches.status(id, workspace));
  }

  usage(workspace: string, from: string, to: string): Promise<UsageReport> {
    return workspaceUsage(this.deps.store, workspace, validDay(from), validDay(to));
  }

  activity(workspace: string, since: Date, limit?: number): Promise<ActivityEntry[]> {
    return this.activityLog.since(workspace, since, limit);
  }

  async logActivity(entry: Omit<ActivityEntry, 'at'>): Promise<void> {
    await this.activityLog.write(entry);
    await this.counters.activity(entry).catch((err) => this.deps.logger.warn({ err }, 'could not update usage counters'));
  }

  async dailyReport(day: string) {
    return this.reports.daily(validDay(day));
  }

  async spendSeries(endDay: string, days: number) {
    if (!Number.isInteger(days) || days < 1 || days > 92) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `A spend series covers 1 to 92 days, not ${days}.`);
    return this.reports.spendSeries(validDay(endDay), days);
  }

  queueHealth() {
    return this.reports.queueHealth();
  }

  capUsage() {
    return this.reports.capUsage(this.deps.clock.now());
  }

  /** Each enabled provider's circuit breaker, read from the state every worker shares in Redis. */
  async breakerStates(): Promise<Record<string, BreakerState>> {
    const out: Record<string, BreakerState> = {};
    for (const p of [...this.deps.providers.values()].filter((r) => r.enabled).sort((a, b) => a.id.localeCompare(b.id))) out[p.id] = await p.policy.breaker.state();
    return out;
  }

  providerOutages(since: Date) {
    return this.reports.providerOutages(since);
  }

  providerStatus(jobId: string, workspace?: string) {
    return this.reports.providerStatus(jobId, workspace);
  }

  async push(workspace: string, subject: string | StructuredInput, destination: string, by: string) {
    const identity = identityOfInput(subject);
    const records = await readRecords(this.deps.store.models, workspace, identity);
    if (!records.person && !records.company) {
      throw new EnrichbotError(ErrorCodes.JOB_NOT_FOUND, `Nothing is stored about ${identity.display} in workspace ${workspace}: enrich it first.`);
    }
    let result: PushResult;
    try {
      result = await this.deps.delivery.push(destination, { workspace, ...records, by });
    } catch (err) {
      if (err instanceof EnrichbotError) throw err;
      throw new EnrichbotError(ErrorCodes.PUSH_UNAVAILABLE, `Could not push ${identity.display} to ${destination}: ${errorMessage(err)}`, { cause: err });
    }
    const entry = { workspace, actor: by, action: 'push' as const, subject: identity.display, identityKey: identity.key, detail: { destination, summary: result.summary } };
    await this.activityLog.write(entry);
    await this.counters.activity(entry).catch((err) => this.deps.logger.warn({ err }, 'could not update usage counters'));
    return result;
  }

  async conflicts(destination: string, request: ConflictRequest): Promise<ConflictAnswer> {
    const answer = await this.deps.delivery.conflicts(destination, request);
    if (request.op === 'list' || request.op === 'count') return answer;
    // Who settled what, one entry per conflict (Accept or Keep), for the activity log.
    for (const c of answer.items) {
      await this.logActivity({ workspace: request.workspace, actor: request.by, action: 'conflict', subject: c.record, detail: { destination, decision: request.op, property: c.property, objectType: c.objectType, objectId: c.objectId, destinationValue: c.destinationValue, providerValue: c.providerValue, source: c.source } });
    }
    return answer;
  }

  notify(destination: string, message: NotifyMessage): Promise<NotifyResult> {
    return this.deps.delivery.notify(destination, message);
  }

  alert(message: NotifyMessage): Promise<AlertResult> {
    return this.deps.delivery.alert(message);
  }

  async close(): Promise<void> {
    await this.hub.close();
  }
}
