// The HubSpot trigger: new and changed CRM records arrive by webhook (POST /webhooks/hubspot),
// are enriched as batches through the EnrichService, and are written back under a fill-only
// policy. It also takes "Push to HubSpot" requests from other triggers (Slack) via `push`.
// Routes run on the web role; deliveries (deliverBatch, push) on the worker role.
import { defineTrigger } from '../../../src/sdk/index.js';
import { HubspotConfigSchema } from './config.js';
import { hubspotFor, activatedAt } from './state.js';
import { writeJobChange } from './job-change.js';
import { mountWebhook } from './webhook.js';
import { mountOAuth } from './oauth.js';
import { deliverBatch, drain, drainInProgress } from './intake.js';
import { flushInProgress, flushWrites } from './write-queue.js';
import { pushToHubspot } from './push.js';
import { reviewConflicts } from './conflict-review.js';
import { registerHubspotCommands } from './cli.js';
import { HubspotErrors } from './errors.js';

const timers = new WeakMap<object, NodeJS.Timeout>();

export default defineTrigger({
  kind: 'trigger',
  id: 'hubspot',
  description: 'HubSpot: enrich new CRM records from webhooks and write the results back (fill empty properties only).',
  configSchema: HubspotConfigSchema,
  roles: ['web', 'worker'],
  mountPath: '/webhooks',
  cli: { register: registerHubspotCommands, setup: 'set HUBSPOT_ACCESS_TOKEN, HUBSPOT_CLIENT_SECRET and HUBSPOT_PORTAL_IDS' },
  // Slack's "Push to HubSpot" and the write-back's own failures, on /metrics and in the digest.
  pushActivity: { label: 'HubSpot', metric: { name: 'enrichbot_hubspot_writes_total', help: 'Records written to HubSpot, by result (ok, failed).' } },
  errors: HubspotErrors,
  async start(ctx) {
    const h = hubspotFor(ctx);
    // The first start stores the activation time: records from before it wait for a backfill.
    await activatedAt(h);
    const kick = () => {
      void drain(h).catch((err) => ctx.logger.error({ err }, 'HubSpot drain failed'));
      void flushWrites(h).catch((err) => ctx.logger.error({ err }, 'HubSpot write-back failed; the records stay queued'));
    };
    if (ctx.role === 'web' || ctx.role === 'all') {
      mountWebhook(h, () => void setTimeout(kick, h.config.drainDelayMs).unref());
      mountOAuth(h);
    }
    // Events queued by a web process that stopped before processing them are picked up here.
    const timer = setInterval(kick, h.config.drainIntervalMs);
    timer.unref();
    timers.set(ctx, timer);
  },
  async stop(ctx) {
    clearInterval(timers.get(ctx));
    timers.delete(ctx);
    await drainInProgress(hubspotFor(ctx))?.catch(() => undefined);
    await flushInProgress(hubspotFor(ctx))?.catch(() => undefined);
  },
  async deliverBatch(status, _replyTo, ctx) {
    await deliverBatch(hubspotFor(ctx), status);
  },
  push(request, ctx) {
    return pushToHubspot(hubspotFor(ctx), request);
  },
  conflicts(request, ctx) {
    return reviewConflicts(hubspotFor(ctx), request);
  },
  async jobChanged(notice, ctx) {
    await writeJobChange(hubspotFor(ctx), notice);
  },
});

// What the CLI and tests call with this trigger's context from a started App.
export { hubspotBackfill, hubspotConflicts, hubspotDelivered, hubspotFlush, hubspotProperties, hubspotSetup } from './operations.js';
