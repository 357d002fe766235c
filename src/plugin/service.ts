// The one service a trigger uses to reach the core (ARCHITECTURE.md, "What a trigger holds").
// Types only: the contract is the bottom floor, so triggers depend on this file and never on
// src/queue or src/engine. The implementation is src/service/enrich-service.ts.
import type { Readable, Writable } from 'node:stream';
import type { FieldGroup } from '../engine/fields.js';
import type { StructuredInput } from '../engine/identity.js';
import type { JobResult, JobStatus, RecordView, ReplyTo } from '../engine/types.js';
import type { BatchEstimate } from './batch-estimate.js';

export type { JobResult, JobStatus, RecordView, ReplyTo, StructuredInput, FieldGroup };
export type * from './batch-estimate.js';

/** What a trigger asks for. Validated (zod) and normalized by the service. */
export interface SubmitRequest {
  workspace: string;
  /** Free text ("jane@acme.com", "Jane Doe @ acme.com", a LinkedIn URL...) or structured fields. */
  input: string | StructuredInput;
  /** Ask providers again even when the record is fresh (cached answers are still reused). */
  refresh?: boolean;
  /** Only these field groups (default: all configured for the subject). */
  groups?: FieldGroup[];
  /**
   * Most this request may spend, in USD. A call that would pass it is not made (outcome
   * `budget_reached`, no charge) and the rest of the job does not run; the result carries
   * `budgetReached`. Cached answers cost nothing and still count as answers.
   */
  maxCostUsd?: number;
  /** Who asked (Slack user id, API key name, "cli"): goes to the activity log. */
  actor?: string;
}

export interface SubmitResult {
  jobId: string;
  /** True when an identical request was already queued or running, and this one joined it. */
  joined: boolean;
  /** The normalized input, for messages ("jane@acme.com"). */
  display: string;
}

/** One row of a batch: the input and, optionally, the original columns kept for export. */
export interface BatchItem {
  input: string | StructuredInput;
  /** The row as it came in (CSV cells by header): written back first in the CSV export. */
  columns?: Record<string, string>;
  /** Set when the reader could not use the row (CSV): the item is rejected with this reason. */
  problem?: string;
}

export interface BatchOptions {
  workspace: string;
  refresh?: boolean;
  groups?: FieldGroup[];
  actor?: string;
  /** A name for people ("people.csv"). */
  label?: string;
  /** Input column names in order, for the CSV export (default: the union of items' columns). */
  columns?: string[];
  /** Most the whole batch may spend, in USD, shared by all its jobs: the paid call that would pass it is not made (outcome `budget_reached`, no charge). */
  maxCostUsd?: number;
}

export interface BatchItemProblem {
  index: number;
  /** Why it was refused, saying what to do. */
  reason: string;
  code: string;
}

export interface BatchSubmitResult {
  batchId: string;
  total: number;
  accepted: number;
  rejected: BatchItemProblem[];
}

export interface BatchCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
  paused: number;
  cancelled: number;
  /** Refused at submission (invalid input or forgotten identity). */
  rejected: number;
}

export type BatchState = 'running' | 'paused' | 'done' | 'cancelled';

export interface BatchStatus {
  kind: 'batch';
  batchId: string;
  workspace: string;
  label?: string;
  /** Input column names in order (for the CSV export). */
  columns: string[];
  state: BatchState;
  total: number;
  counts: BatchCounts;
  /** Spent so far on this batch's jobs (joined jobs count for the batch that started them). */
  costUsd: number;
  createdAt: string;
  finishedAt?: string;
  /** When a spend cap paused some items: when they resume (ISO). */
  resumeAt?: string;
  /**
   * Present while the items are still being put on the queue (submitBatch answers before):
   * items before index `through` are on it; the rest count as queued all the same.
   */
  queueing?: { through: number };
}

export interface JobStatusView {
  kind: 'job';
  jobId: string;
  workspace: string;
  status: JobStatus;
  display: string;
  costUsd: number;
  resumeAt?: string;
  /** Present once the job has finished (or paused). */
  result?: JobResult;
}

export type BatchRowStatus = 'done' | 'failed' | 'rejected' | 'cancelled' | 'paused' | 'queued' | 'running';

/** One row of `results(batchId)`, in input order. */
export interface BatchResultRow {
  index: number;
  columns: Record<string, string>;
  input: string | StructuredInput | null;
  status: BatchRowStatus;
  /** Why it failed or was rejected. */
  reason?: string;
  jobId?: string;
  result?: JobResult;
}

export interface FieldCorrection {
  workspace: string;
  /** The person or company: any input the service can parse ("jane@acme.com", "acme.com"). */
  subject: string | StructuredInput;
  /** Canonical field, e.g. "person.title" or "company.industry". */
  field: string;
  value: unknown;
  /** Who corrected it (Slack user id, "cli:alice"). */
  by: string;
}

export interface ForgetReport {
  workspace: string;
  display: string;
  /** Documents deleted or scrubbed, by collection. */
  removed: Record<string, number>;
}

export interface SpendRow {
  provider: string;
  calls: number;
  matched: number;
  costUsd: number;
}
export interface SpendReport {
  day: string;
  workspace?: string;
  totalUsd: number;
  byProvider: SpendRow[];
  /** Calls lost with a worker that died mid-call, booked at their reserved price: at most this much of the total. */
  lost: { calls: number; costUsd: number };
  /** Caps that apply (null: none). */
  caps: { dailyUsd: number | null; workspaceDailyUsd: number | null };
}

/** One UTC day for the digest: spend, calls, hits, errors, breakers, paused jobs, failed pushes. */
export interface DailyReport {
  day: string;
  totalUsd: number;
  caps: { dailyUsd: number | null; perWorkspaceDailyUsd: number | null };
  /** `calls`: requests actually made (matched, no_match, error, timeout); `hits`: matched; cached answers apart. */
  providers: { provider: string; calls: number; hits: number; hitRate: number | null; cached: number; costUsd: number }[];
  /** Workspaces that spent something, with the cap that applies to each (null: none). */
  workspaces: { workspace: string; costUsd: number; capUsd: number | null }[];
  /** Jobs finished that day with a work email found. */
  emailsFound: number;
  /** totalUsd / emailsFound (null when none was found). */
  costPerEmailUsd: number | null;
  /** Failed calls by provider and error kind, with the latest message as a sample (provider text: escape it). */
  errors: { provider: string; kind: string; count: number; sample: string }[];
  /** Providers whose circuit breaker was open that day, with the calls it refused. */
  breakers: { provider: string; refused: number }[];
  /** Jobs a spend cap paused (the first 20 listed). */
  pausedJobs: { count: number; jobs: { jobId: string; workspace: string; reason?: string }[] };
  /**
   * Records a destination could not write, per destination: every enabled one that declares
   * `pushActivity` (count 0 on a good day), and any other that logged a failure that day.
   */
  pushFailures: PushFailures[];
  /** The same weekday a week before, for the change against it. */
  sameDayLastWeek: { day: string; totalUsd: number };
  /**
   * From the 1st of `day`'s month through `day`: spend per workspace and in all, with a linear
   * forecast to the month's end (spend so far / days so far x days in the month).
   */
  monthToDate: { from: string; through: string; daysInMonth: number; totalUsd: number; forecastUsd: number; workspaces: { workspace: string; costUsd: number; forecastUsd: number }[] };
  /** People whose job change (company or title) a refresh found that day. */
  jobChanges: number;
  /**
   * Provider balances as last read, each with its days left at the last 7 days' spend rate
   * (null when the balance has no USD value or nothing was spent); `low`: under its floor.
   */
  balances: { provider: string; credits: number; usd: number | null; perDayUsd: number; daysLeft: number | null; at: string; low: boolean }[];
  /** Batches finished that day that kept an estimate: expected and worst case vs actual (the first 20 listed). */
  batchEstimates: { count: number; batches: { batchId: string; workspace: string; label?: string; expectedUsd: number; worstUsd: number; actualUsd: number }[] };
  /** Per provider: paid calls and their cost that day over the work emails it found whose status is valid and not at a catch-all domain. */
  deliverableEmails: { provider: string; paidCalls: number; costUsd: number; deliverable: number; costPerDeliverableUsd: number | null }[];
}

/** Spend per provider per day, oldest day first; `usd[provider][i]` is for `days[i]`. */
export interface SpendSeries {
  days: string[];
  providers: string[];
  usd: Record<string, number[]>;
  /** The global daily cap (the chart's cap line), null when there is none. */
  capUsd: number | null;
}

/** Today's (UTC) spend against each daily cap, from the counters the caps are enforced with. */
export interface CapUsage {
  day: string;
  global: { spentUsd: number; capUsd: number | null };
  /** Workspaces that spent today or have a cap of their own. */
  workspaces: { workspace: string; spentUsd: number; capUsd: number | null }[];
}

/** A provider's circuit breaker, as every worker shares it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface QueueHealth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  succeeded: number;
}

export interface ProviderOutage {
  provider: string;
  /** Calls its open breaker refused in the window. */
  refused: number;
  lastError?: string;
  lastErrorKind?: string;
}

/** What happened with one provider for one job (its last ledger row). */
export interface ProviderStatusRecord {
  status: import('../engine/types.js').Outcome;
  error?: string;
  httpStatus?: number;
  at: string;
}

export type ActivityAction = 'enrich' | 'batch' | 'refresh' | 'correct' | 'forget' | 'unforget' | 'export' | 'push' | 'cancel' | 'conflict';

/** A destination's failed pushes on one day (`push` activity with `ok: false`), the first 20 listed. */
export interface PushFailures {
  /** The destination trigger's id. */
  destination: string;
  /** How reports name it: its `pushActivity` label, or its id when it declares none. */
  label: string;
  count: number;
  records: { workspace: string; subject: string; error: string; objectId?: string; at: string }[];
}

/** A disagreement a destination (a CRM) kept for review: its value, and what a provider found. */
export interface ConflictItem {
  /** The destination's id for it (objectType:objectId:property). */
  id: string;
  objectType: string;
  objectId: string;
  /** What identifies the record in enrichbot (an email or a domain). */
  record: string;
  property: string;
  destinationValue: string;
  providerValue: string;
  source: string;
  confidence: number;
  /** Set when the destination refused the provider's value: why. */
  reason?: string;
  at: string;
}
/**
 * Review of a workspace's conflicts: a page of them (newest first), or a decision on some.
 * `fromSoleWorkspace` is set by the core, as for a push (a destination's default binding).
 */
export type ConflictRequest =
  | { op: 'list'; workspace: string; offset: number; limit: number; fromSoleWorkspace?: boolean }
  | { op: 'accept' | 'keep'; workspace: string; ids: string[]; by: string; fromSoleWorkspace?: boolean }
  /** The operator's count of open conflicts in every workspace (the daily digest); no items. */
  | { op: 'count' };
export interface ConflictAnswer {
  /** The page asked for (list), or the conflicts settled (accept/keep). */
  items: ConflictItem[];
  /** Open conflicts of the workspace (list). */
  total: number;
  /** Accept: conflicts whose value the destination refused, with its message (they stay open). */
  failed?: { id: string; error: string }[];
}
export interface ActivityEntry {
  workspace: string;
  at: string;
  actor: string;
  action: ActivityAction;
  /** What it was about: an input, a batch id, a field. */
  subject: string;
  detail?: Record<string, unknown>;
}

/** A listing's filter and page (GET /v1/jobs, /v1/batches): newest first. */
export interface ListQuery {
  /** A job status or a batch state. */
  state?: string;
  /** Created at or after. */
  from?: Date;
  /** Created before. */
  to?: Date;
  /** `next` of the previous page. */
  cursor?: string;
  limit: number;
}

export interface ListPage<T> {
  items: T[];
  /** The cursor of the next page, null on the last. */
  next: string | null;
}

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  display: string;
  costUsd: number;
  createdAt: string;
  finishedAt?: string;
}

/** Usage of one provider (a day's or the whole range's), from the cost ledger. */
export interface UsageRow {
  provider: string;
  /** Requests actually made (matched, no_match, error). */
  calls: number;
  /** Matched requests. */
  hits: number;
  /** Answers reused from the provider cache (no request, no cost). */
  cached: number;
  costUsd: number;
}
export interface UsageReport {
  workspace: string;
  from: string;
  to: string;
  costUsd: number;
  byProvider: UsageRow[];
  /** Every day of the range, oldest first (empty days too). */
  days: { day: string; costUsd: number; providers: UsageRow[] }[];
}

export interface EnrichService {
  /** Validates, normalizes, refuses forgotten identities, then queues (or joins) one job. */
  submit(request: SubmitRequest, replyTo: ReplyTo): Promise<SubmitResult>;
  /**
   * Writes up to `batch.maxItems` items and answers: bad items are reported by index, the rest
   * are queued in the background (crash-safe: the sweeper finishes what a dead process left).
   */
  submitBatch(items: BatchItem[] | AsyncIterable<BatchItem>, replyTo: ReplyTo, options: BatchOptions): Promise<BatchSubmitResult>;
  /**
   * What these items would cost, without a paid call: duplicates and fresh records at $0, cached
   * answers at $0, expected and worst-case cost per field group, and the caps' shares. Items with
   * a `problem` count as rejected.
   */
  estimate(items: BatchItem[], options: BatchOptions): Promise<BatchEstimate>;
  /** Keeps an estimate on a batch's record (`estimate`), beside its actual `costUsd`, for the summary and the digest. */
  keepEstimate(batchId: string, estimate: BatchEstimate): Promise<void>;
  /** `service.batch.confirmAboveUsd`: a batch whose worst case is above it asks before it runs (CLI `--yes`, Slack Run). */
  batchConfirmAboveUsd(): number;
  /** A job (`enr_...`) or a batch (`bat_...`). `workspace` restricts it to that workspace. */
  status(id: string, workspace?: string): Promise<JobStatusView | BatchStatus>;
  cancel(id: string, workspace?: string, actor?: string): Promise<void>;
  /** Wakes on the job's (or batch's) completion event (Redis pub/sub), never by polling. */
  waitFor(jobId: string, timeoutMs?: number): Promise<JobResult>;
  waitForBatch(batchId: string, timeoutMs?: number): Promise<BatchStatus>;
  /** Progress events of a batch, from any process. Returns the unsubscribe function. */
  onBatchProgress(batchId: string, listener: (status: BatchStatus) => void): Promise<() => Promise<void>>;
  /** The batch's rows in input order, streamed (never all in memory). */
  results(batchId: string, workspace?: string): AsyncIterable<BatchResultRow>;
  /** A workspace's records last enriched before `before`, oldest first (at most `limit`, up to 10,000). */
  ageingRecords(workspace: string, before: Date, limit: number): Promise<{ subject: string; kind: 'person' | 'company'; enrichedAt: string }[]>;
  /** The stored record(s) for an input, without asking any provider. */
  record(workspace: string, subject: string | StructuredInput): Promise<{ person?: RecordView; company?: RecordView }>;
  correct(correction: FieldCorrection): Promise<RecordView>;
  forget(workspace: string, subject: string | StructuredInput, by: string): Promise<ForgetReport>;
  unforget(workspace: string, subject: string | StructuredInput, by: string): Promise<boolean>;
  /** Whether the identity was forgotten: asked before storing anything that names the person (false for input that is no identity). */
  isForgotten(workspace: string, subject: string | StructuredInput): Promise<boolean>;
  spend(day: string, workspace?: string): Promise<SpendReport>;
  activity(workspace: string, since: Date, limit?: number): Promise<ActivityEntry[]>;
  /**
   * Sends a stored record to another trigger that can write it somewhere (a CRM's trigger):
   * that trigger's `push`, so the asker never holds the destination's credentials.
   */
  push(workspace: string, subject: string | StructuredInput, destination: string, by: string): Promise<{ summary: string; kept?: string[] }>;
  /**
   * Lists or settles a workspace's conflicts kept by the trigger named `destination` (its
   * `conflicts`): Accept writes the provider's value there, Keep dismisses; both are logged.
   */
  conflicts(destination: string, request: ConflictRequest): Promise<ConflictAnswer>;
  /** Posts a message through the trigger named `destination` (e.g. "slack"), via its `notify`. */
  notify(destination: string, message: NotifyMessage): Promise<NotifyResult>;
  /**
   * An operator alert: logged at error, then posted through every trigger running here that can
   * post, each on its own (one being down does not stop the others). Never throws.
   */
  alert(message: NotifyMessage): Promise<{ posted: string[]; failed: { trigger: string; error: string }[] }>;
  /** The digest's figures for one UTC day (YYYY-MM-DD). */
  dailyReport(day: string): Promise<DailyReport>;
  /** Spend per provider for the `days` days ending with `endDay` (a chart's data). */
  spendSeries(endDay: string, days: number): Promise<SpendSeries>;
  /** Jobs waiting, running, delayed and failed in the queue now. */
  queueHealth(): Promise<QueueHealth>;
  /** Providers whose circuit breaker refused calls since `since` (outage alerts). */
  providerOutages(since: Date): Promise<ProviderOutage[]>;
  /** Each enabled provider's breaker state now (recovery messages). */
  breakerStates(): Promise<Record<string, BreakerState>>;
  /** Today's spend against each daily cap (cap alerts). */
  capUsage(): Promise<CapUsage>;
  /** Structured `{ status, error, at }` per provider for one job (why an enrichment failed). */
  providerStatus(jobId: string, workspace?: string): Promise<Record<string, ProviderStatusRecord>>;
  /** The workspace's jobs, newest first, keyset-paged. */
  listJobs(workspace: string, query: ListQuery): Promise<ListPage<JobSummary>>;
  /** The workspace's batches with live counts and state, newest first, keyset-paged. */
  listBatches(workspace: string, query: ListQuery): Promise<ListPage<BatchStatus>>;
  /** A workspace's calls, hits, cached answers and spend per provider and UTC day (YYYY-MM-DD, both included). */
  usage(workspace: string, from: string, to: string): Promise<UsageReport>;
  /** For actions the service does not see itself (export). */
  logActivity(entry: Omit<ActivityEntry, 'at'>): Promise<void>;
}

/** A lease: held exclusively across processes until released or expired; renewed while held. */
export interface Lease {
  readonly key: string;
  /** True once the lease could not be renewed (another holder may have it now). */
  readonly lost: boolean;
  release(): Promise<void>;
}
export type AcquireLease = (key: string, ttlMs: number) => Promise<Lease | null>;

/**
 * Runs once per occurrence across all workers; `fn` gets the occurrence's scheduled time. A run
 * that throws is tried again (after 1, 2, 4... minutes) within `service.scheduleGraceMs` of its
 * occurrence; then `onGiveUp` is called once.
 */
export type Schedule = (
  name: string,
  cron: string,
  timeZone: string,
  fn: (occurrence: Date) => Promise<void>,
  opts?: { onGiveUp?: (failure: { name: string; occurrence: Date; attempts: number; error: Error }) => Promise<void> | void },
) => void;

/** Header columns recognised in a CSV file. */
export interface CsvColumnMap {
  email?: string;
  domain?: string;
  linkedinUrl?: string;
  firstName?: string;
  lastName?: string;
  fullName?: string;
  companyName?: string;
}

export interface CsvReadResult {
  /** The header as written, in order. */
  headers: string[];
  columns: CsvColumnMap;
  delimiter: string;
  /** Rows, each with its input or the reason it cannot be used. */
  rows: AsyncIterable<{ index: number; line: number; columns: Record<string, string>; input: StructuredInput | null; problem?: string }>;
}

export interface CsvModule {
  /** Streams a CSV: header detection, BOM, `,` `;` tab delimiters; refuses files over `maxRows`. */
  read(source: Readable | Buffer | string, options?: { maxRows?: number; maxBytes?: number }): Promise<CsvReadResult>;
  /** Streams rows out: input columns, canonical fields, per-field sources, status; BOM; formula-safe. */
  write(rows: AsyncIterable<BatchResultRow>, out: Writable, options: { inputColumns: string[] }): Promise<{ rows: number }>;
}

/** A refresh found that a person changed jobs (issue 21): handed to every trigger with `jobChanged`. */
export interface JobChangeNotice {
  workspace: string;
  /** The person's record key and how they are shown ("jane@acme.com"). */
  person: { key: string; display: string };
  change: import('../engine/types.js').JobChange;
  /** Where this trigger last asked about the person (its reply address), if it ever did. */
  askedHere?: Record<string, unknown>;
}

/** A message for a chat trigger (Slack) to post on another trigger's behalf. */
export interface NotifyMessage {
  /** The workspace (Slack team id) to post in; default: the single-workspace install. */
  workspace?: string;
  /** Channel id or name. */
  channel: string;
  /** Plain-text fallback (notifications, screen readers). */
  text: string;
  /** Block Kit blocks, already escaped by the caller. */
  blocks?: unknown[];
  /** Files to upload with the message (e.g. a PNG chart). */
  files?: { filename: string; content: Buffer; title?: string }[];
}
export interface NotifyResult {
  /** Where it landed (channel id and message ts for Slack). */
  channel: string;
  ts?: string;
}
