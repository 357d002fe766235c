// GET /v1/openapi.json: an OpenAPI 3.1 document whose request schemas are generated from the zod
// schemas that validate requests (z.toJSONSchema, JSON Schema 2020-12, the dialect OpenAPI 3.1
// uses), so the description cannot drift from what the server accepts. Every operation has an
// operationId and a tag (code generators name methods after them), the scope it needs, and the
// RateLimit-* headers on its answers; `servers` is the publicUrl setting.
import { z } from 'zod';
import { BatchBodyDocSchema, EnrichBodySchema, EnrichItemSchema } from './request-schemas.js';
import { Accepted, Batch, BatchAccepted, BatchEstimate, BatchList, BatchPage, EnrichResult, Forgotten, Job, JobList, Problem, Usage, WebhookEvent } from './openapi-schemas.js';
import { BATCH_STATES, JOB_STATES } from './list-routes.js';
import { MAX_USAGE_DAYS } from './usage-routes.js';
import type { Scope } from './api-keys.js';

const SCHEMAS = { EnrichRequest: EnrichBodySchema, EnrichItem: EnrichItemSchema, BatchRequest: BatchBodyDocSchema, EnrichResult, Accepted, BatchAccepted, BatchEstimate, Job, Batch, BatchPage, JobList, BatchList, Usage, Forgotten, WebhookEvent, Problem };
type SchemaId = keyof typeof SCHEMAS;

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

const ref = (id: SchemaId) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: SchemaId) => ({ 'application/json': { schema: ref(id) } });
const oneOf = (...ids: SchemaId[]) => ({ 'application/json': { schema: { oneOf: ids.map(ref) } } });
const problem = (description: string, headers?: Record<string, unknown>) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } }, ...(headers ? { headers } : {}) });
const int = { type: 'integer' };
const rateHeaders = {
  'RateLimit-Limit': { schema: int, description: 'Requests allowed in the binding window.' },
  'RateLimit-Remaining': { schema: int, description: 'Requests left in it.' },
  'RateLimit-Reset': { schema: int, description: 'Seconds until it resets.' },
  'RateLimit-Policy': { schema: { type: 'string' }, description: 'Both windows, e.g. "60;w=60, 10000;w=86400".' },
};
const retryAfter = { 'Retry-After': { schema: int, description: 'Seconds to wait.' } };
const location = { Location: { schema: { type: 'string' } } };
/** A 2xx answer: its body and the rate-limit headers every authenticated answer carries. */
const ok = (description: string, content: Record<string, unknown>, headers: Record<string, unknown> = {}) => ({ description, content, headers: { ...headers, ...rateHeaders } });

/** Answers any authenticated operation may give. */
const common = (scope: Scope) => ({
  '401': problem('No key, an unknown, malformed, revoked or expired key.'),
  '403': problem(`The key lacks the "${scope}" scope.`),
  '429': problem('Request limit or item budget reached; Retry-After says when to try again.', { ...retryAfter, ...rateHeaders }),
});

function op(tag: string, operationId: string, scope: Scope, summary: string, rest: { responses: Record<string, unknown>; [k: string]: unknown }) {
  return { tags: [tag], operationId, summary, description: `Scope: \`${scope}\` (or \`admin\`).`, ...rest, responses: { ...rest.responses, ...common(scope) } };
}

const idParam = (pattern: string, description: string) => ({ name: 'id', in: 'path', required: true, description, schema: { type: 'string', pattern } });
const jobOrBatchId = idParam('^(enr|bat)_[A-Za-z0-9]+$', 'A job (enr_...) or batch (bat_...) id.');
const idempotencyKey = { name: 'Idempotency-Key', in: 'header', required: false, description: 'A retry with the same key and body within 24 h gets the first answer (no second job or batch, no second paid call); another body is a 409.', schema: { type: 'string', minLength: 1, maxLength: 255 } };
const instant = { type: 'string', description: 'An ISO date (midnight UTC) or date-time.' };
const listParams = (states: readonly string[]) => [
  { name: 'state', in: 'query', schema: { type: 'string', enum: states } },
  { name: 'from', in: 'query', description: 'Created at or after.', schema: instant },
  { name: 'to', in: 'query', description: 'Created before.', schema: instant },
  { name: 'cursor', in: 'query', description: '`page.cursor` of the previous page.', schema: { type: 'string', maxLength: 200 } },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
];
const completedCallback = {
  completed: {
    '{$request.body#/callbackUrl}': {
      post: {
        summary: 'Sent when the job or batch finishes, signed (Enrichbot-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the key\'s webhook secret>); retried for 24 h until a 2xx.',
        parameters: ['Enrichbot-Event-Id', 'Enrichbot-Event-Type', 'Enrichbot-Delivery-Attempt', 'Enrichbot-Signature'].map((name) => ({ name, in: 'header', required: true, schema: { type: 'string' } })),
        requestBody: { required: true, content: json('WebhookEvent') },
        responses: { '2XX': { description: 'Received; anything else is retried.' } },
      },
    },
  },
};

export interface DocumentOptions {
  maxBatchItems: number;
  waitMs: number;
  publicUrl?: string;
}

/** POST /v1/enrich and /v1/enrich/batch. */
const enrichPaths = (opts: DocumentOptions) => ({
  '/v1/enrich': {
    post: op('enrich', 'enrich', 'enrich', `Enrich one input; waits up to ${opts.waitMs / 1000} s, then answers 202 with the job.`, {
      parameters: [idempotencyKey],
      requestBody: { required: true, content: json('EnrichRequest') },
      callbacks: completedCallback,
      responses: {
        '200': ok('The record.', json('EnrichResult')),
        '202': ok('Still running (or paused by a spend cap): poll the Location.', json('Accepted'), location),
        '400': problem('The body is not valid; `errors` lists each problem.'),
        '409': problem('This Idempotency-Key was used with another body, or its first request is still running.'),
        '413': problem('The body is larger than the limit.'),
        '415': problem('The body is not UTF-8 JSON.'),
        '451': problem("The identity was forgotten at its owner's request."),
        '502': problem('The enrichment failed.'),
      },
    }),
  },
  '/v1/enrich/batch': {
    post: op('enrich', 'enrichBatch', 'enrich', `Enrich up to ${opts.maxBatchItems} inputs; answers at once with the batch id.`, {
      parameters: [idempotencyKey],
      requestBody: { required: true, content: json('BatchRequest') },
      callbacks: completedCallback,
      responses: {
        '200': ok('With "dryRun": true: the estimate; nothing was submitted and no provider was asked.', json('BatchEstimate')),
        '202': ok('Stored; invalid items are listed by index and the rest run.', json('BatchAccepted'), location),
        '400': problem('The body is not valid.'),
        '409': problem('This Idempotency-Key was used with another body, or its first request is still running.'),
        '413': problem("Too many items (for the batch limit or the key's item budget), or the body is larger than the limit."),
        '415': problem('The body is not UTF-8 JSON.'),
      },
    }),
  },
});

/** Listing, reading and cancelling jobs (a job id or a batch id), and their CSV. */
const jobPaths = () => ({
  '/v1/jobs': {
    get: op('jobs', 'listJobs', 'read', "The workspace's jobs, newest first, cursor-paged.", {
      parameters: listParams(JOB_STATES),
      responses: { '200': ok('A page of jobs.', json('JobList')), '400': problem('A bad query parameter.') },
    }),
  },
  '/v1/jobs/{id}': {
    get: op('jobs', 'getJob', 'read', "A job's status and result, or a batch's counts and a page of its items.", {
      parameters: [
        jobOrBatchId,
        { name: 'request', in: 'query', description: 'A job: the requestId of the 202 answer, to see the fields that request asked for (without it, every field found).', schema: { type: 'string', pattern: '^req_[a-f0-9]{24}$' } },
        { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
      ],
      responses: { '200': ok('The job or batch.', oneOf('Job', 'BatchPage')), '400': problem('A bad query parameter.'), '404': problem("No such job (or request) in this key's workspace.") },
    }),
    delete: op('jobs', 'cancelJob', 'enrich', 'Cancel a job or a whole batch. Idempotent: a finished job is left as it is and shown.', {
      parameters: [jobOrBatchId],
      responses: {
        '200': ok('Cancelled (or already finished): the job or batch as it is now.', oneOf('Job', 'Batch')),
        '202': ok('A running job was asked to stop; poll it until its status is final.', json('Job')),
        '404': problem("No such job in this key's workspace."),
        '503': problem('Another process is changing the job right now; Retry-After says when to try again.', retryAfter),
      },
    }),
  },
  '/v1/jobs/{id}/results.csv': {
    get: op('jobs', 'getResultsCsv', 'read', "The results as CSV (UTF-8 with BOM; cells that a spreadsheet would run as formulas are prefixed with ').", {
      parameters: [jobOrBatchId],
      responses: { '200': ok('CSV', { 'text/csv': { schema: { type: 'string' } } }), '404': problem("No such job in this key's workspace.") },
    }),
  },
});

/** Listing and reading batches. */
const batchPaths = () => ({
  '/v1/batches': {
    get: op('batches', 'listBatches', 'read', "The workspace's batches with their counts, newest first, cursor-paged.", {
      parameters: listParams(BATCH_STATES),
      responses: { '200': ok('A page of batches.', json('BatchList')), '400': problem('A bad query parameter.') },
    }),
  },
  '/v1/batches/{id}': {
    get: op('batches', 'getBatch', 'read', "A batch's state, counts, progress and cost, without items.", {
      parameters: [idParam('^bat_[A-Za-z0-9]+$', 'A batch id (bat_...).')],
      responses: { '200': ok('The batch.', json('Batch')), '404': problem("No such batch in this key's workspace.") },
    }),
  },
});

/** Usage from the cost ledger, and forgetting a person or company. */
const usageAndPrivacyPaths = () => ({
  '/v1/usage': {
    get: op('usage', 'getUsage', 'read', `Calls, hits and spend per provider and UTC day, from the cost ledger (at most ${MAX_USAGE_DAYS} days).`, {
      parameters: [
        { name: 'from', in: 'query', description: 'First day (default: 6 days before `to`).', schema: { type: 'string', format: 'date' } },
        { name: 'to', in: 'query', description: 'Last day, included (default: today, UTC).', schema: { type: 'string', format: 'date' } },
      ],
      responses: { '200': ok('Usage.', json('Usage')), '400': problem('A bad range.') },
    }),
  },
  '/v1/people/{identifier}': {
    delete: op('privacy', 'forgetPerson', 'privacy', 'Forget a person (email or LinkedIn profile URL, URL-encoded): records, cache, jobs scrubbed; refused from then on.', {
      parameters: [{ name: 'identifier', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': ok('Forgotten.', json('Forgotten')), '400': problem('Not an email or LinkedIn profile URL.') },
    }),
  },
  '/v1/companies/{domain}': {
    delete: op('privacy', 'forgetCompany', 'privacy', 'Forget a company by its domain.', {
      parameters: [{ name: 'domain', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': ok('Forgotten.', json('Forgotten')), '400': problem('Not a domain.') },
    }),
  },
});

export function openApiDocument(opts: DocumentOptions) {
  return {
    openapi: '3.1.0',
    info: { title: 'enrichbot HTTP API', version: '1.1.0', description: 'Enrich people and companies from an email, a domain, a company name or a LinkedIn URL. Nothing is ever made up: a field no source found is null.' },
    servers: [{ url: (opts.publicUrl ?? '/').replace(/(.)\/+$/, '$1') }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'enrich', description: 'Submit work (scope enrich).' },
      { name: 'jobs', description: 'Jobs: status, results, listing, cancel.' },
      { name: 'batches', description: 'Batches: counts and listing.' },
      { name: 'usage', description: 'Spend and calls from the cost ledger.' },
      { name: 'privacy', description: 'Forget a person or company (scope privacy).' },
      { name: 'meta', description: 'This document.' },
    ],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from `enrichbot api-key create --workspace <id>`.' } }, schemas: componentSchemas() },
    paths: {
      ...enrichPaths(opts),
      ...jobPaths(),
      ...batchPaths(),
      ...usageAndPrivacyPaths(),
      '/v1/openapi.json': { get: { tags: ['meta'], operationId: 'getOpenApi', summary: 'This document.', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
  };
}
