// Trigger: scheduled re-enrichment of ageing records (issue 21), opt-in per workspace with its
// own daily budget. Runs in the worker role, once a day across all workers (ctx.schedule); a
// refresh that finds a person in another job records it like any other (engine/job-change.ts).
import { z } from 'zod';
import { defineTrigger } from '../../../src/sdk/index.js';
import { runScheduledRefresh } from './refresh-run.js';

const WorkspaceSchema = z.object({
  /** USD this trigger may spend in the workspace per UTC day. */
  dailyBudgetUsd: z.number().positive(),
  /** Most records looked at per day. */
  maxRecords: z.number().int().positive().max(10_000).default(200),
});

const ConfigSchema = z.object({
  /** Opted-in workspaces and their budgets; a workspace not listed is never re-enriched on a schedule. */
  workspaces: z.record(z.string().min(1), WorkspaceSchema).default({}),
  /** Records last enriched longer ago than this are due (keep it >= engine.recordFreshnessDays). */
  olderThanDays: z.number().positive().default(30),
  /** Local time of the daily run, HH:MM (24 h). */
  time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM, e.g. 03:00')
    .default('03:00'),
  timeZone: z.string().min(1).default('UTC'),
  /** How long to wait for one record's job. */
  waitMs: z.number().int().positive().default(120_000),
});
export type ScheduledRefreshConfig = z.infer<typeof ConfigSchema>;

export default defineTrigger({
  kind: 'trigger',
  id: 'scheduled-refresh',
  description: 'Re-enriches each opted-in workspace’s oldest records once a day, within its own daily budget.',
  configSchema: ConfigSchema,
  roles: ['worker'],
  start(ctx) {
    const { config } = ctx;
    const [h, m] = config.time.split(':').map(Number);
    ctx.schedule('daily', `${m} ${h} * * *`, config.timeZone, async () => {
      await runScheduledRefresh(
        { service: ctx.service, redis: ctx.redis, logger: ctx.logger, trigger: ctx.id, olderThanDays: config.olderThanDays, workspaces: config.workspaces, waitMs: config.waitMs },
        ctx.clock.now(),
      );
    });
  },
});
