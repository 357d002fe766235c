// Trigger: the daily Slack digest of cost and errors, and provider outage alerts. It runs in the
// worker role, schedules itself through the platform (each occurrence runs once across every
// worker) and posts through the Slack trigger's `notify`: it never holds a Slack token.
import { z } from 'zod';
import { defineTrigger } from '../../../src/sdk/index.js';
import { dayBefore, runDigest } from './digest.js';
import { checkOutages, checkRecoveries, digestFailedAlert } from './outage-alerts.js';
import { checkCaps } from './cap-alerts.js';
import { registerDigestCommand } from './cli.js';

const ConfigSchema = z.object({
  /** Slack channel (id or name) for the digest. */
  channel: z.string().min(1),
  /** Channel for outage alerts (default: the digest's channel). */
  alertsChannel: z.string().min(1).optional(),
  /** Slack workspace (team id) to post in; default: the single-workspace install. */
  workspace: z.string().min(1).optional(),
  /** Local time of the digest, HH:MM (24 h). */
  time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM, e.g. 09:00')
    .default('09:00'),
  /** IANA time zone of `time`, e.g. Europe/Paris. */
  timeZone: z.string().min(1).default('UTC'),
  /** Spend cap alerts at 80 % and 100 % of each daily cap (a check every minute). */
  capAlerts: z
    .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
    .default(true),
  /** Outage alerts on (a check every minute). */
  outageAlerts: z
    .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
    .default(true),
});
export type DigestConfig = z.infer<typeof ConfigSchema>;

export function digestCron(time: string): string {
  const [h, m] = time.split(':').map(Number);
  return `${m} ${h} * * *`;
}

export default defineTrigger({
  kind: 'trigger',
  id: 'daily-digest',
  description: 'Posts a daily Slack digest of spend, hits and errors with a 7-day spend chart, and alerts when a provider circuit opens.',
  configSchema: ConfigSchema,
  // It posts through Slack's notify: without it every digest would fail at 09:00, so start-up refuses.
  dependencies: ['slack'],
  roles: ['worker'],
  cli: { register: registerDigestCommand, setup: 'list slack before it and set DAILY_DIGEST_CHANNEL' },
  start(ctx) {
    // Started by `enrichbot digest` (client role) only for its settings and the service: no schedules.
    if (ctx.role === 'client') return;
    const { config } = ctx;
    const target = { channel: config.channel, ...(config.workspace ? { workspace: config.workspace } : {}) };
    const alertsTarget = { channel: config.alertsChannel ?? config.channel, ...(config.workspace ? { workspace: config.workspace } : {}) };
    ctx.schedule(
      'daily',
      digestCron(config.time),
      config.timeZone,
      async (occurrence) => {
        const run = await runDigest(ctx.service, target, dayBefore(occurrence));
        ctx.logger.info({ day: run.digest.day, quiet: run.digest.quiet, channel: run.posted?.channel }, 'daily digest posted');
      },
      // Retried by the scheduler within the grace period; then the day's digest would be lost unseen.
      { onGiveUp: async (failure) => void (await ctx.service.alert(digestFailedAlert(alertsTarget, dayBefore(failure.occurrence), failure.attempts, failure.error))) },
    );
    const alertDeps = { service: ctx.service, redis: ctx.redis, logger: ctx.logger, ...alertsTarget };
    if (config.outageAlerts) {
      ctx.schedule('outage-check', '* * * * *', 'UTC', async (occurrence) => {
        await checkOutages(alertDeps, occurrence);
        await checkRecoveries(alertDeps);
      });
    }
    if (config.capAlerts) ctx.schedule('cap-check', '* * * * *', 'UTC', async () => void (await checkCaps(alertDeps)));
  },
});
