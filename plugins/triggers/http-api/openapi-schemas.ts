// The response bodies of /v1 as zod schemas, for the OpenAPI document only (requests are
// described by the schemas that validate them, request-schemas.ts). Each mirrors the function
// that renders it: record-response.ts, job-routes.ts, list-routes.ts, usage-routes.ts, webhooks.ts.
import { z } from 'zod';
import { BATCH_STATES, JOB_STATES } from './list-routes.js';

const FieldAnswer = z.object({
  value: z.unknown(),
  raw: z.unknown().optional().meta({ description: "The provider's own text when the canonical value differs." }),
  source: z.object({ provider: z.string(), operation: z.string().optional(), fetchedAt: z.string(), by: z.string().optional() }),
  confidence: z.number().min(0).max(1),
});
const Outcome = z.object({
  group: z.string(),
  provider: z.string(),
  operation: z.string().optional(),
  outcome: z.enum(['matched', 'no_match', 'skipped', 'error', 'timeout', 'not_run', 'circuit_open', 'cap_reached', 'budget_reached', 'cached']),
  reason: z.string().optional().meta({ description: 'Why: the missing input, the error, the cap reached.' }),
  costUsd: z.number(),
  fields: z.array(z.string()).optional(),
});
const Cost = z.object({ usd: z.number() });
const Progress = z.object({ done: z.number().int(), total: z.number().int() });

export const EnrichResult = z.object({
  jobId: z.string(),
  status: z.enum(JOB_STATES),
  input: z.string(),
  fields: z.record(z.string(), FieldAnswer.nullable()).meta({ description: 'Every requested field (null when no source found it), or every field found when `enrich` was not given.' }),
  fromRecord: z.boolean(),
  cost: Cost,
  outcomes: z.array(Outcome),
  resumeAt: z.string().optional(),
  budgetReached: z.object({ maxUsd: z.number(), spentUsd: z.number() }).optional().meta({ description: 'The request\'s maxCostUsd stopped it before the call that would pass it: the budget and what was spent of it.' }),
  error: z.string().optional(),
  errorCode: z.string().optional(),
});
export const Accepted = z.object({
  jobId: z.string(),
  requestId: z.string().meta({ description: 'This request: polling `links.self` (which carries it) shows the fields it asked for, even when another request joined the same job.' }),
  status: z.enum(JOB_STATES),
  input: z.string(),
  resumeAt: z.string().optional(),
  links: z.object({ self: z.string() }),
});
export const BatchAccepted = z.object({
  batchId: z.string(),
  total: z.number().int(),
  accepted: z.number().int(),
  rejected: z.array(z.object({ index: z.number().int(), code: z.string(), reason: z.string(), errors: z.array(z.object({ path: z.string(), message: z.string() })).optional() })),
  links: z.object({ self: z.string(), results: z.string() }),
});
const CapShare = z.object({
  capUsd: z.number().nullable().meta({ description: 'The daily cap; null when there is none.' }),
  spentTodayUsd: z.number(),
  expectedShare: z.number().nullable().meta({ description: 'Expected cost over the cap (0.25 = 25 %); null without a cap.' }),
  worstShare: z.number().nullable(),
});
/** The answer to a batch with "dryRun": true (src/plugin/batch-estimate.ts). */
export const BatchEstimate = z.object({
  dryRun: z.literal(true),
  estimate: z.object({
    workspace: z.string(),
    rows: z.number().int(),
    rejected: z.number().int(),
    duplicates: z.number().int().meta({ description: 'Rows that repeat an earlier one: $0.' }),
    fresh: z.number().int().meta({ description: 'Rows whose stored record is fresh: $0.' }),
    toRun: z.number().int(),
    groups: z.array(z.object({ group: z.string(), rows: z.number().int(), cachedAnswers: z.number().int(), paidCalls: z.number().int(), expectedUsd: z.number(), worstUsd: z.number() })),
    expectedUsd: z.number().meta({ description: "From the configured prices and each provider's hit rate in this workspace (prior 50 % without history)." }),
    worstUsd: z.number().meta({ description: 'Every provider that could run is paid: the batch cannot cost more.' }),
    providers: z.array(z.object({ provider: z.string(), hitRate: z.number(), calls: z.number().int() })),
    workspaceCap: CapShare,
    globalCap: CapShare,
  }),
  rejected: z.array(z.object({ index: z.number().int(), errors: z.array(z.object({ path: z.string(), message: z.string() })) })).meta({ description: 'Items that would be refused, by index.' }),
});
export const Batch = z.object({
  kind: z.literal('batch'),
  batchId: z.string(),
  status: z.enum(BATCH_STATES),
  label: z.string().optional(),
  total: z.number().int(),
  counts: z.object({ queued: z.number().int(), running: z.number().int(), done: z.number().int(), failed: z.number().int(), paused: z.number().int(), cancelled: z.number().int(), rejected: z.number().int() }),
  progress: Progress,
  cost: Cost,
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  resumeAt: z.string().optional(),
  queueing: z.object({ through: z.number().int() }).optional().meta({ description: 'While items are still being put on the queue: those from index `through` on are not yet (they count as queued).' }),
});
const BatchItem = z.object({ index: z.number().int(), status: z.string(), input: z.record(z.string(), z.string()), reason: z.string().optional(), jobId: z.string().optional(), result: EnrichResult.optional() });
export const BatchPage = Batch.extend({
  items: z.array(BatchItem),
  page: z.object({ offset: z.number().int(), limit: z.number().int(), returned: z.number().int(), next: z.string().nullable() }),
});
export const Job = z.object({
  kind: z.literal('job'),
  jobId: z.string(),
  status: z.enum(JOB_STATES),
  input: z.string(),
  progress: Progress,
  cost: Cost,
  resumeAt: z.string().optional(),
  result: EnrichResult.optional().meta({ description: 'Once the job has finished (or paused).' }),
});
const Page = z.object({ limit: z.number().int(), cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }), next: z.string().nullable().meta({ description: 'The next page\'s URL; null on the last.' }) });
export const JobList = z.object({
  items: z.array(z.object({ kind: z.literal('job'), jobId: z.string(), status: z.enum(JOB_STATES), input: z.string(), cost: Cost, createdAt: z.string(), finishedAt: z.string().optional() })),
  page: Page,
});
export const BatchList = z.object({ items: z.array(Batch), page: Page });
const UsageRow = z.object({ provider: z.string(), calls: z.number().int().meta({ description: 'Provider calls made (matched, no match, errors).' }), hits: z.number().int().meta({ description: 'Matched calls.' }), cached: z.number().int().meta({ description: 'Answers reused from the provider cache (no call, no cost).' }), costUsd: z.number() });
export const Usage = z.object({
  workspace: z.string(),
  from: z.string(),
  to: z.string(),
  costUsd: z.number(),
  byProvider: z.array(UsageRow),
  days: z.array(z.object({ day: z.string(), costUsd: z.number(), providers: z.array(UsageRow) })),
});
export const Forgotten = z.object({ forgotten: z.string().meta({ description: 'The identity as normalized.' }), removed: z.record(z.string(), z.number().int()).meta({ description: 'Documents deleted or scrubbed, by collection.' }) });
export const WebhookEvent = z.object({
  id: z.string().meta({ description: 'evt_...: the same on every attempt; dedupe on it.' }),
  type: z.enum(['job.completed', 'batch.completed']),
  createdAt: z.string(),
  data: z.looseObject({}).meta({ description: 'job.completed: { jobId, status, input, links, result }; batch.completed: the Batch with links { self, items, results }.' }),
});
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().meta({ description: 'What was wrong and what to do about it.' }),
  instance: z.string(),
  code: z.string().optional().meta({ description: 'ENRICHBOT_ERR_* code.' }),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
