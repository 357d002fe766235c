// The HTTP API trigger: real-time and batch enrichment for other systems under /v1, with API
// keys (stored hashed, in this plugin's collection), per-key rate limits in Redis, a body size
// limit and RFC 9457 problem details. It has no `deliver`: a request waits on the service
// (waitFor), and later answers are read back with status/results.
import express, { type NextFunction, type Request, type Response } from 'express';
import { defineTrigger } from '../../../src/sdk/index.js';
import { EnrichbotError, ErrorCodes, isEnrichbotError } from '../../../src/sdk/index.js';
import { HttpApiConfigSchema, type HttpApiConfig } from './config.js';
import type { TriggerContext } from '../../../src/sdk/index.js';
import { WebhookOutbox } from './webhooks.js';
import { API_KEYS_COLLECTION, webhookSecretOf } from './api-keys.js';
import { registerApiKeyCommands } from './cli.js';
import { HttpApiErrors } from './errors.js';
import { callbackChecker } from './callback-url.js';
import { renderResult } from './record-response.js';
import { authenticate, rateLimit } from './auth.js';
import { KeyRateLimiter } from './rate-limit.js';
import { mountEnrichRoutes } from './enrich-routes.js';
import { idempotent } from './idempotency.js';
import { batchView, mountCancelRoute, mountJobRoutes } from './job-routes.js';
import { mountListRoutes } from './list-routes.js';
import { mountUsageRoute } from './usage-routes.js';
import { mountPrivacyRoutes } from './privacy-routes.js';
import { openApiDocument } from './openapi.js';
import { ApiProblem, sendProblem } from './problem.js';

export { API_KEYS_COLLECTION } from './api-keys.js';

/** Service errors as HTTP: what the caller can fix is 4xx, the rest 500 without internals. */
const STATUS_OF: Partial<Record<string, [number, string, string]>> = {
  [ErrorCodes.INPUT_INVALID]: [400, 'validation-error', 'Invalid request'],
  [ErrorCodes.IDENTITY_FORGOTTEN]: [451, 'identity-forgotten', 'Forgotten at its owner\'s request'],
  [ErrorCodes.JOB_NOT_FOUND]: [404, 'not-found', 'No such job'],
  [ErrorCodes.BATCH_NOT_FOUND]: [404, 'not-found', 'No such job'],
  [ErrorCodes.BATCH_TOO_LARGE]: [413, 'batch-too-large', 'Batch too large'],
  [ErrorCodes.JOB_BUSY]: [503, 'busy', 'Busy: try again shortly'],
};
/** Seconds a client waits before retrying a 503 (a job or batch held by another process's short step). */
const BUSY_RETRY_AFTER_S = 2;

export default defineTrigger({
  kind: 'trigger',
  id: 'http-api',
  description: 'HTTP API: POST /v1/enrich, /v1/enrich/batch, GET and DELETE /v1/jobs/:id (+ results.csv), listings, usage, forget, completion webhooks, /v1/openapi.json; API keys via `enrichbot api-key`.',
  configSchema: HttpApiConfigSchema,
  // The worker role too: completions are handed to `deliver` where the job finishes, and every
  // process helps send the webhook outbox.
  roles: ['web', 'worker'],
  mountPath: '/v1',
  cli: { register: registerApiKeyCommands },
  errors: HttpApiErrors,
  start(ctx) {
    const { router, config, logger } = ctx;
    const keys = ctx.collection(API_KEYS_COLLECTION);
    outboxOf(ctx).start(config.webhookPollMs);
    const limiter = new KeyRateLimiter(ctx.redis, ctx.clock, { perMinute: config.ratePerMinute, perDay: config.ratePerDay });
    const itemBudget = new KeyRateLimiter(ctx.redis, ctx.clock, { perMinute: config.itemsPerMinute, perDay: config.itemsPerDay }, 'items');
    const json = express.json({ limit: config.bodyLimit, type: 'application/json' });

    const openapi = JSON.stringify(openApiDocument(config), null, 2);
    router.get('/openapi.json', (_req, res) => {
      res.type('application/json').send(openapi);
    });
    router.use(authenticate(keys, ctx.clock), rateLimit(limiter, { perMinute: config.ratePerMinute, perDay: config.ratePerDay }));
    mountEnrichRoutes(router, ctx, { json, itemBudget, idempotent: idempotent(ctx.redis, config.waitMs + 60_000), checkCallback: callbackChecker(keys, ctx.safeFetch) });
    mountListRoutes(router, ctx);
    mountJobRoutes(router, ctx);
    mountCancelRoute(router, ctx);
    mountUsageRoute(router, ctx);
    mountPrivacyRoutes(router, ctx);
    router.use((req: Request) => {
      throw new ApiProblem(404, 'not-found', 'Not found', `No route ${req.method} ${req.originalUrl}: GET /v1/openapi.json lists the routes.`);
    });
    // Express 5 passes rejected async handlers here.
    router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
      if (res.headersSent) {
        logger.error({ err, path: req.path }, 'HTTP API: failed while streaming the response');
        res.destroy();
        return;
      }
      sendProblem(req, res, toProblem(err, config.bodyLimit, (e) => logger.error({ err: e, path: req.path }, 'HTTP API request failed')));
    });
  },
  stop(ctx) {
    outboxes.get(ctx)?.stop();
  },
  // A finished job or batch whose request named a callbackUrl: its event goes to the outbox.
  async deliver(result, replyTo, ctx) {
    const { keyId, callbackUrl } = replyTo.address as { keyId?: string; callbackUrl?: string };
    if (!keyId || !callbackUrl) return;
    const data = { jobId: result.jobId, status: result.status, input: result.display, links: { self: link(ctx.config, `/v1/jobs/${result.jobId}`) }, result: renderResult(result) };
    await outboxOf(ctx).enqueue({ keyId, url: callbackUrl, type: 'job.completed', data });
  },
  async deliverBatch(status, replyTo, ctx) {
    const { keyId, callbackUrl } = replyTo.address as { keyId?: string; callbackUrl?: string };
    if (!keyId || !callbackUrl) return;
    const id = status.batchId;
    const data = { ...batchView(status), links: { self: link(ctx.config, `/v1/batches/${id}`), items: link(ctx.config, `/v1/jobs/${id}`), results: link(ctx.config, `/v1/jobs/${id}/results.csv`) } };
    await outboxOf(ctx).enqueue({ keyId, url: callbackUrl, type: 'batch.completed', data });
  },
});

/** A path as an absolute URL when publicUrl is set. */
const link = (config: HttpApiConfig, path: string) => `${(config.publicUrl ?? '').replace(/\/+$/, '')}${path}`;

// One outbox per started context (an App may run several in tests).
const outboxes = new WeakMap<TriggerContext<HttpApiConfig>, WebhookOutbox>();
function outboxOf(ctx: TriggerContext<HttpApiConfig>): WebhookOutbox {
  let box = outboxes.get(ctx);
  if (!box) {
    const keys = ctx.collection(API_KEYS_COLLECTION);
    box = new WebhookOutbox({ redis: ctx.redis, clock: ctx.clock, logger: ctx.logger, safeFetch: ctx.safeFetch, secretOf: (id) => webhookSecretOf(keys, id), retryBaseMs: ctx.config.webhookRetryBaseMs });
    outboxes.set(ctx, box);
  }
  return box;
}

function toProblem(err: unknown, bodyLimit: string, logUnexpected: (e: unknown) => void): ApiProblem {
  if (err instanceof ApiProblem) return err;
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') return new ApiProblem(413, 'body-too-large', 'Request body too large', `The body is larger than ${bodyLimit}: send fewer items per request (split a batch).`, { code: ErrorCodes.BODY_TOO_LARGE });
  if (type === 'entity.parse.failed') return new ApiProblem(400, 'malformed-json', 'Malformed JSON', `The body is not valid JSON (${(err as Error).message}): check quotes, commas and brackets.`, { code: ErrorCodes.INPUT_INVALID, errors: [{ path: '', message: 'not valid JSON' }] });
  const client = clientErrorProblem(err);
  if (client) return client;
  if (isEnrichbotError(err)) {
    const mapped = STATUS_OF[err.code];
    if (mapped) {
      return new ApiProblem(mapped[0], mapped[1], mapped[2], err.message, {
        code: err.code,
        ...(mapped[0] === 400 ? { errors: [{ path: '', message: err.message }] } : {}),
        ...(mapped[0] === 503 ? { headers: { 'Retry-After': String(BUSY_RETRY_AFTER_S) } } : {}),
      });
    }
  }
  logUnexpected(err);
  const code = err instanceof EnrichbotError ? err.code : ErrorCodes.SERVICE_UNREACHABLE;
  return new ApiProblem(500, 'internal-error', 'Internal error', 'enrichbot could not answer this request; it was logged. Try again shortly, and tell the operator if it persists.', { code });
}

/**
 * Client errors raised before our handlers run are the caller's to fix, never logged as failures:
 * the body parser's (http-errors with a 4xx status: an unsupported charset or Content-Encoding, an
 * aborted upload...) and the router's URIError for a path that is not valid percent-encoding.
 */
function clientErrorProblem(err: unknown): ApiProblem | undefined {
  const e = err as { status?: unknown; expose?: unknown; type?: unknown; message?: string };
  if (typeof e?.status !== 'number' || e.status < 400 || e.status > 499 || (e.expose !== true && !(err instanceof URIError))) return undefined;
  if (err instanceof URIError) return new ApiProblem(400, 'bad-request', 'Bad request', `The path is not valid percent-encoding (${e.message}): encode each path segment with encodeURIComponent.`, { code: ErrorCodes.INPUT_INVALID });
  if (e.status === 415) {
    const what = e.type === 'encoding.unsupported' ? 'Content-Encoding' : 'charset';
    return new ApiProblem(415, 'unsupported-media-type', 'Unsupported media type', `This ${what} is not supported (${e.message}): send JSON as UTF-8, "Content-Type: application/json; charset=utf-8", with no Content-Encoding or gzip, deflate or br.`, { code: ErrorCodes.INPUT_INVALID });
  }
  if (e.status === 413) return new ApiProblem(413, 'body-too-large', 'Request body too large', `${e.message}: send a smaller body.`, { code: ErrorCodes.BODY_TOO_LARGE });
  return new ApiProblem(400, 'bad-request', 'Bad request', `The request could not be read (${e.message}): send the whole body as UTF-8 JSON and try again.`, { code: ErrorCodes.INPUT_INVALID });
}
