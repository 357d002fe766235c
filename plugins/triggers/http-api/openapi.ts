// GET /v1/openapi.json: an OpenAPI 3.1 document whose request and response schemas are generated
// from the same zod schemas that validate requests (z.toJSONSchema, JSON Schema 2020-12, the
// dialect OpenAPI 3.1 uses), so the description cannot drift from what the server accepts.
import { z } from 'zod';
import { BatchBodyDocSchema, EnrichBodySchema, EnrichItemSchema } from './request-schemas.js';

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
  outcome: z.enum(['matched', 'no_match', 'skipped', 'error', 'timeout', 'not_run', 'circuit_open', 'cap_reached', 'cached']),
  reason: z.string().optional().meta({ description: 'Why: the missing input, the error, the cap reached.' }),
  costUsd: z.number(),
  fields: z.array(z.string()).optional(),
});
const EnrichResult = z.object({
  jobId: z.string(),
  status: z.string(),
  input: z.string(),
  fields: z.record(z.string(), FieldAnswer.nullable()).meta({ description: 'Every requested field (null when no source found it), or every field found when `enrich` was not given.' }),
  fromRecord: z.boolean(),
  cost: z.object({ usd: z.number() }),
  outcomes: z.array(Outcome),
  resumeAt: z.string().optional(),
});
const Accepted = z.object({
  jobId: z.string(),
  requestId: z.string().meta({ description: 'This request: polling `links.self` (which carries it) shows the fields it asked for, even when another request joined the same job.' }),
  status: z.string(),
  input: z.string(),
  resumeAt: z.string().optional(),
  links: z.object({ self: z.string() }),
});
const BatchAccepted = z.object({
  batchId: z.string(),
  total: z.number().int(),
  accepted: z.number().int(),
  rejected: z.array(z.object({ index: z.number().int(), code: z.string(), reason: z.string(), errors: z.array(z.object({ path: z.string(), message: z.string() })).optional() })),
  links: z.object({ self: z.string(), results: z.string() }),
});
const JobView = z
  .object({
    kind: z.enum(['job', 'batch']),
    status: z.string(),
    progress: z.object({ done: z.number().int(), total: z.number().int() }),
    cost: z.object({ usd: z.number() }),
    result: EnrichResult.optional(),
    counts: z.record(z.string(), z.number().int()).optional(),
    items: z.array(z.object({ index: z.number().int(), status: z.string(), input: z.record(z.string(), z.string()), reason: z.string().optional(), jobId: z.string().optional(), result: EnrichResult.optional() })).optional(),
    page: z.object({ offset: z.number().int(), limit: z.number().int(), returned: z.number().int(), next: z.string().nullable() }).optional(),
    queueing: z.object({ through: z.number().int() }).optional().meta({ description: 'A batch whose items are still being put on the queue: items from index `through` on are not yet (they count as queued).' }),
  })
  .loose();
const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().meta({ description: 'What was wrong and what to do about it.' }),
  instance: z.string(),
  code: z.string().optional().meta({ description: 'ENRICHBOT_ERR_* code.' }),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const SCHEMAS = { EnrichRequest: EnrichBodySchema, EnrichItem: EnrichItemSchema, BatchRequest: BatchBodyDocSchema, EnrichResult, Accepted, BatchAccepted, Job: JobView, Problem };

function componentSchemas(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(SCHEMAS)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  const schemas: Record<string, unknown> = {};
  for (const [id, s] of Object.entries(out.schemas)) {
    const { $schema: _drop, $id: _id, ...rest } = s as Record<string, unknown>;
    schemas[id] = rest;
  }
  return schemas;
}

const ref = (id: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: keyof typeof SCHEMAS) => ({ 'application/json': { schema: ref(id) } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const rateHeaders = {
  'RateLimit-Limit': { schema: { type: 'integer' }, description: 'Requests allowed in the binding window.' },
  'RateLimit-Remaining': { schema: { type: 'integer' } },
  'RateLimit-Reset': { schema: { type: 'integer' }, description: 'Seconds until the window resets.' },
  'RateLimit-Policy': { schema: { type: 'string' }, description: 'Both windows, e.g. "60;w=60, 10000;w=86400".' },
};
const common = {
  '401': problem('No key, an unknown key or a revoked key.'),
  '429': { ...problem('Rate limit reached; Retry-After says when to try again.'), headers: { 'Retry-After': { schema: { type: 'integer' } }, ...rateHeaders } },
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^(enr|bat)_[A-Za-z0-9]+$' } };

export function openApiDocument(opts: { maxBatchItems: number; waitMs: number }) {
  return {
    openapi: '3.1.0',
    info: { title: 'enrichbot HTTP API', version: '1.0.0', description: 'Enrich people and companies from an email, a domain, a company name or a LinkedIn URL. Nothing is ever made up: a field no source found is null.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from `enrichbot api-key create --workspace <id>`.' } }, schemas: componentSchemas() },
    paths: {
      '/v1/enrich': {
        post: {
          summary: `Enrich one input; waits up to ${opts.waitMs / 1000} s, then answers 202 with the job.`,
          requestBody: { required: true, content: json('EnrichRequest') },
          responses: {
            '200': { description: 'The record.', content: json('EnrichResult'), headers: rateHeaders },
            '202': { description: 'Still running (or paused by a spend cap): poll the Location.', content: json('Accepted'), headers: { Location: { schema: { type: 'string' } }, ...rateHeaders } },
            '400': problem('The body is not valid; `errors` lists each problem.'),
            '413': problem('The body is larger than the limit.'),
            '415': problem('The body is not JSON.'),
            '451': problem('The identity was forgotten at its owner\'s request.'),
            '502': problem('The enrichment failed.'),
            ...common,
          },
        },
      },
      '/v1/enrich/batch': {
        post: {
          summary: `Enrich up to ${opts.maxBatchItems} inputs; answers at once with the batch id.`,
          requestBody: { required: true, content: json('BatchRequest') },
          responses: {
            '202': { description: 'Queued; invalid items are listed by index and the rest run.', content: json('BatchAccepted'), headers: { Location: { schema: { type: 'string' } }, ...rateHeaders } },
            '400': problem('The body is not valid.'),
            '413': problem('Too many items, or the body is larger than the limit.'),
            ...common,
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: "A job's status and result, or a batch's counts and a page of its items.",
          parameters: [
            idParam,
            { name: 'request', in: 'query', description: 'A job: the requestId of the 202 answer, to see the fields that request asked for (without it, every field found).', schema: { type: 'string', pattern: '^req_[a-f0-9]{24}$' } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
          ],
          responses: { '200': { description: 'The job or batch.', content: json('Job') }, '400': problem('A bad query parameter.'), '404': problem('No such job (or request) in this key\'s workspace.'), ...common },
        },
        delete: {
          summary: 'Cancel a job or a whole batch. Idempotent: a finished job is left as it is and shown.',
          parameters: [idParam],
          responses: {
            '200': { description: 'Cancelled (or already finished): the job or batch as it is now.', content: json('Job') },
            '202': { description: 'A running job was asked to stop; poll it until its status is final.', content: json('Job') },
            '404': problem('No such job in this key\'s workspace.'),
            '503': { ...problem('Another process is changing the job right now; Retry-After says when to try again.'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
            ...common,
          },
        },
      },
      '/v1/jobs/{id}/results.csv': {
        get: {
          summary: 'The results as CSV (UTF-8 with BOM; cells that a spreadsheet would run as formulas are prefixed with \').',
          parameters: [idParam],
          responses: { '200': { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, '404': problem('No such job in this key\'s workspace.'), ...common },
        },
      },
      '/v1/openapi.json': { get: { summary: 'This document.', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
  };
}
