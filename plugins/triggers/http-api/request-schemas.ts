// The request bodies, as zod schemas: the single source for validation and for the OpenAPI
// document (z.toJSONSchema). Bodies are strict: an unknown key is an error naming it, since a
// misspelt "emial" silently ignored would enrich the wrong thing.
import { z } from 'zod';
import type { BatchItem, StructuredInput } from '../../../src/sdk/index.js';
import { normalizeDomain, normalizeEmail, normalizeLinkedinUrl } from '../../../src/sdk/index.js';
import { ACCEPTED_FIELD_NAMES, canonicalField } from './requested-fields.js';
import { fieldErrors, type FieldError } from './problem.js';

const IDENTIFIERS = ['email', 'domain', 'company_name', 'linkedin_url'] as const;

/**
 * A typed field must parse as its type: an email that is not one would otherwise reach the
 * service's free-text parser and be enriched as a company of that name. The message is the
 * parser's own (what was wrong, what to give).
 */
const fits = (parse: (raw: string) => unknown) => (value: string, ctx: z.RefinementCtx) => {
  try {
    parse(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
};

const identifierShape = {
  email: z.string().trim().min(3).max(320).superRefine(fits(normalizeEmail)).meta({ description: 'Work or personal email.', example: 'jane@acme.com' }).optional(),
  domain: z.string().trim().min(1).max(253).superRefine(fits(normalizeDomain)).meta({ description: 'Company domain or website.', example: 'acme.com' }).optional(),
  company_name: z.string().trim().min(1).max(200).meta({ description: 'Company name.', example: 'Acme Corp' }).optional(),
  linkedin_url: z.string().trim().min(1).max(500).superRefine(fits(normalizeLinkedinUrl)).meta({ description: 'LinkedIn profile or company page URL.' }).optional(),
  name: z
    .string()
    .trim()
    .max(200)
    .regex(/^\S+(\s+\S+)+$/, 'give the first and last name, e.g. "Jane Doe"')
    .meta({ description: 'The person\'s "First Last"; with domain or company_name it identifies a person at that company.', example: 'Jane Doe' })
    .optional(),
};

const atLeastOneIdentifier = (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
  if (!IDENTIFIERS.some((k) => typeof v[k] === 'string' && v[k] !== '')) {
    ctx.addIssue({ code: 'custom', path: [], message: `give at least one of ${IDENTIFIERS.join(', ')} (name alone is not enough: add domain or company_name)` });
  }
};

export const FieldNameSchema = z
  .string()
  .refine((n) => canonicalField(n) !== undefined, { message: `unknown field name; use one of: ${ACCEPTED_FIELD_NAMES.join(', ')}` })
  .meta({ description: 'A canonical field ("person.title") or its short name ("title", "company_industry").', enum: ACCEPTED_FIELD_NAMES });

const enrichList = z.array(FieldNameSchema).min(1).max(100).meta({ description: 'Fields to return (default: every field found). Limits the work to the field groups that produce them.' });
const refresh = z.boolean().meta({ description: 'Ask providers again even when the stored record is fresh.' });
/** A request's own budget: the paid call that would pass it is not made (outcome budget_reached, no charge). */
const maxCostUsd = z.number().nonnegative().max(1_000_000).meta({ description: 'Most this request may spend, in USD. The paid call that would pass it is not made (outcome `budget_reached`, no charge) and the answer carries `budgetReached`.', example: 0.5 });
const dryRun = z.boolean().meta({ description: 'Answer the estimate (200, `BatchEstimate`) and submit nothing: no job, no provider call.' });
/** Batches share no budget yet (the batch service has no batch-wide budget): refused, never ignored. */

/** Where to POST the signed completion event (webhooks.ts); checked against the SSRF guard at submit. */
export const CallbackUrlSchema = z
  .url({ protocol: /^https?$/, error: 'expected an absolute http(s) URL such as https://crm.example.com/hooks/enrichbot' })
  .max(2000)
  .meta({ description: 'POSTed a signed completion event (job.completed or batch.completed) when the work finishes; retried for 24 h until it answers 2xx. Public hosts only.', example: 'https://crm.example.com/hooks/enrichbot' });

/** One thing to enrich (also one batch item). */
const batchMaxCostUsd = z.number().nonnegative().max(1_000_000).meta({ description: 'Most the whole batch may spend, in USD, shared by all its items (in any worker process). The paid call that would pass it is not made: those items end with outcome `budget_reached`, no charge, and the batch still finishes.', example: 5 });

export const EnrichItemSchema = z.strictObject(identifierShape).superRefine(atLeastOneIdentifier);

export const EnrichBodySchema = z
  .strictObject({ ...identifierShape, enrich: enrichList.optional(), refresh: refresh.optional(), maxCostUsd: maxCostUsd.optional(), callbackUrl: CallbackUrlSchema.optional() })
  .superRefine(atLeastOneIdentifier);

/**
 * The batch body; items are checked one by one (EnrichItemSchema) so a bad item fails alone.
 * One schema per limit, kept: zod compiles a schema on its first parse, which cost 150 µs a
 * request when it was built per request (found by test/fuzz/http-api-bodies).
 */
export function batchBodySchema(maxItems: number) {
  let schema = batchSchemas.get(maxItems);
  if (!schema) batchSchemas.set(maxItems, (schema = buildBatchBodySchema(maxItems)));
  return schema;
}
const batchSchemas = new Map<number, ReturnType<typeof buildBatchBodySchema>>();

function buildBatchBodySchema(maxItems: number) {
  return z.strictObject({
    items: z.array(z.unknown()).min(1, 'send at least one item').max(maxItems, `send at most ${maxItems} items per batch; split the rest into further batches`),
    enrich: enrichList.optional(),
    refresh: refresh.optional(),
    label: z.string().trim().min(1).max(200).meta({ description: 'A name for the batch, shown in its status.' }).optional(),
    callbackUrl: CallbackUrlSchema.optional(),
    dryRun: dryRun.optional(),
    maxCostUsd: batchMaxCostUsd.optional(),
  });
}

/** The batch body as documented (items typed) for OpenAPI. */
export const BatchBodyDocSchema = z.strictObject({
    items: z.array(EnrichItemSchema).min(1).max(1000),
    enrich: enrichList.optional(),
    refresh: refresh.optional(),
    label: z.string().max(200).optional(),
    callbackUrl: CallbackUrlSchema.optional(),
    dryRun: dryRun.optional(),
    maxCostUsd: batchMaxCostUsd.optional(),
  });

export type EnrichItem = z.infer<typeof EnrichItemSchema>;

/** An item as the service's structured input: "First Last" is split at the first space. */
export function toStructuredInput(item: EnrichItem): StructuredInput {
  const out: StructuredInput = {};
  if (item.email) out.email = item.email;
  if (item.domain) out.domain = item.domain;
  if (item.linkedin_url) out.linkedinUrl = item.linkedin_url;
  if (item.company_name) out.companyName = item.company_name;
  if (item.name) {
    const [first, ...rest] = item.name.split(/\s+/);
    out.firstName = first;
    out.lastName = rest.join(' ');
  }
  return out;
}

/**
 * A batch's items, each checked alone: a bad one becomes an item with its `problem` (and its
 * errors by index, for the answer), so the rest still run.
 */
export function checkBatchItems(raw: unknown[]): { items: BatchItem[]; itemErrors: Map<number, FieldError[]> } {
  const itemErrors = new Map<number, FieldError[]>();
  const items = raw.map((one, index): BatchItem => {
    const columns = itemColumns(one);
    const item = EnrichItemSchema.safeParse(one);
    if (item.success) return { input: toStructuredInput(item.data), columns };
    const errors = fieldErrors(item.error, ['items', index]);
    itemErrors.set(index, errors);
    return { input: {}, columns, problem: errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
  });
  return { items, itemErrors };
}

/** The item's identifiers as text columns (kept for the CSV export). */
export function itemColumns(item: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!item || typeof item !== 'object' || Array.isArray(item)) return out;
  for (const k of [...IDENTIFIERS, 'name'] as const) {
    const v = (item as Record<string, unknown>)[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export const ITEM_COLUMNS = [...IDENTIFIERS, 'name'];
