// What travels through the queue and comes back out.
import { z } from 'zod';
import { StructuredInputSchema } from './identity.js';
import { FIELD_GROUP_NAMES, type FieldGroup } from './fields.js';

/** Where the answer goes: the trigger that asked, and its own address (channel, portal...). */
export const ReplyToSchema = z.object({
  trigger: z.string().min(1),
  address: z.record(z.string(), z.unknown()).default({}),
});
export type ReplyTo = z.infer<typeof ReplyToSchema>;

/** Names an object inherits (`constructor`, `__proto__`, `toString`...): never a workspace, so no lookup by workspace can reach Object.prototype. */
const RESERVED_WORKSPACES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype'].map((n) => n.toLowerCase()));

export const EnrichRequestSchema = z.object({
  workspace: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w.:-]+$/, 'letters, digits, _ . : - only')
    .refine((w) => !RESERVED_WORKSPACES.has(w.toLowerCase()), 'this name is reserved (it names a built-in property); choose another workspace name'),
  input: z.union([z.string().min(1).max(500), StructuredInputSchema]),
  /** Ask again even if the record is fresh (cached provider answers are still reused). */
  refresh: z.boolean().default(false),
  /** Limit to these field groups (default: every group configured for the subject). */
  groups: z.array(z.enum(FIELD_GROUP_NAMES as [FieldGroup, ...FieldGroup[]])).optional(),
  replyTo: ReplyToSchema.optional(),
  /** Most this request may spend, in USD: the call that would pass it is not made (budget_reached). */
  maxCostUsd: z.number().nonnegative().max(1_000_000).optional(),
  /**
   * The budget `maxCostUsd` counts against: a batch's id, shared by all its jobs. Absent, each run
   * of the job has its own.
   */
  budgetKey: z.string().min(1).max(200).optional(),
});
export type EnrichRequest = z.infer<typeof EnrichRequestSchema>;
export type EnrichRequestInput = z.input<typeof EnrichRequestSchema>;

export const OUTCOMES = ['matched', 'no_match', 'skipped', 'error', 'timeout', 'not_run', 'circuit_open', 'cap_reached', 'budget_reached', 'cached'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes where the provider gave no answer (a miss is an answer): its field group stays due. */
export const NO_ANSWER: ReadonlySet<Outcome> = new Set(['error', 'timeout', 'circuit_open', 'cap_reached', 'budget_reached']);

export interface ProviderOutcome {
  group: string;
  provider: string;
  operation?: string;
  outcome: Outcome;
  /** Why: the error message, the missing input, the cap that was reached. */
  reason?: string;
  costUsd: number;
  ledgerId?: string;
  /** How long the call took (attempts included); absent when no request was made. */
  latencyMs?: number;
  /** Fields this call contributed. */
  fields?: string[];
  /** Items of the answer dropped for lack of identity evidence (the reason says why). */
  rejected?: number;
  /** Their distinct reasons ("same name, other company: beta.io"). */
  rejectedReasons?: string[];
}

export interface StoredField {
  value: unknown;
  provider: string;
  operation?: string;
  fetchedAt: string;
  confidence: number;
  ledgerId?: string;
  /** Who set it, for manual corrections. */
  by?: string;
  /** The provider's own text when the canonical value differs ("Vice President" for vp). */
  raw?: unknown;
  /** What the other providers said for this field in the same run (agreeing or not). */
  alternatives?: FieldAlternative[];
}

export interface FieldAlternative {
  provider: string;
  value: unknown;
  confidence: number;
  raw?: unknown;
}
export interface RecordView {
  key: string;
  display?: string;
  fields: Record<string, StoredField>;
  enrichedAt?: string;
  /** A person's job changes found by refreshes, oldest first (issue 21). */
  jobChanges?: JobChange[];
}

export type JobStatus = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

export interface JobResult {
  jobId: string;
  workspace: string;
  status: JobStatus;
  display: string;
  person?: RecordView;
  company?: RecordView;
  outcomes: ProviderOutcome[];
  costUsd: number;
  /** True when the record was fresh and no provider was asked. */
  fromRecord?: boolean;
  resumeAt?: string;
  /** The request's maxCostUsd stopped it before a call: what it had spent of it. */
  budgetReached?: { maxUsd: number; spentUsd: number };
  error?: string;
  errorCode?: string;
  /** The job change this run found (a refresh), also stored on the person record. */
  jobChange?: JobChange;
}

/** A person's company and title as a job change shows them. */
export interface JobChangeValues {
  companyName?: string;
  companyDomain?: string;
  title?: string;
}

/** A refresh found the person at another company or in another title (issue 21; engine/job-change.ts). */
export interface JobChange {
  /** When it was detected (ISO). */
  at: string;
  jobId: string;
  /** The job's run that found it (a job id is reused by later requests for the same thing). */
  run?: number;
  old: JobChangeValues;
  new: JobChangeValues;
  /** The providers that reported the new values. */
  sources: string[];
}
