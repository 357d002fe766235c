// The HTTP API's settings: triggers.http-api in config, or HTTP_API_* variables (strings, so
// numbers are coerced). Defaults follow the issue: wait 10 s, 1,000 items a batch.
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const HttpApiConfigSchema = z
  .object({
    /** How long POST /v1/enrich waits for the result before answering 202 (HTTP_API_WAIT_MS). */
    waitMs: int(0, 120_000).default(10_000),
    /** Items in one POST /v1/enrich/batch (HTTP_API_MAX_BATCH_ITEMS). */
    maxBatchItems: int(1, 100_000).default(1000),
    /** Largest request body, in express/bytes notation (HTTP_API_BODY_LIMIT): "1mb", "200kb". */
    bodyLimit: z.string().regex(/^\d+(\.\d+)?\s*(b|kb|mb)$/i, 'a size such as 200kb or 1mb').default('1mb'),
    /** Requests per API key per minute (HTTP_API_RATE_PER_MINUTE). */
    ratePerMinute: int(1, 1_000_000).default(60),
    /** Requests per API key per UTC day (HTTP_API_RATE_PER_DAY). */
    ratePerDay: int(1, 100_000_000).default(10_000),
    /** Items a key may queue per minute, a batch counting its items (HTTP_API_ITEMS_PER_MINUTE). */
    itemsPerMinute: int(1, 10_000_000).default(2000),
    /** Items a key may queue per UTC day (HTTP_API_ITEMS_PER_DAY). */
    itemsPerDay: int(1, 1_000_000_000).default(50_000),
    /** The API's public base URL (HTTP_API_PUBLIC_URL), e.g. https://enrich.acme.com: the OpenAPI `servers` entry and absolute links in webhooks. */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** First retry of a failed webhook delivery, doubled each time up to an hour, for 24 h (HTTP_API_WEBHOOK_RETRY_BASE_MS). */
    webhookRetryBaseMs: int(10, 3_600_000).default(30_000),
    /** How often each process looks for webhook deliveries that are due (HTTP_API_WEBHOOK_POLL_MS). */
    webhookPollMs: int(10, 60_000).default(1000),
    /** Largest page of batch items in GET /v1/jobs/:id (HTTP_API_MAX_PAGE). */
    maxPage: int(1, 10_000).default(500),
  })
  .loose();

export type HttpApiConfig = z.infer<typeof HttpApiConfigSchema>;
