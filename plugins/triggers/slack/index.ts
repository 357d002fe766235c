// The Slack trigger: `/enrich`, result cards with buttons, an App Home tab, and CSV files in
// direct messages or threads under the bot's messages, on @slack/bolt. It holds Slack's side
// only; everything else goes through the EnrichService in its context. HTTP mode:
// POST /slack/events on the web role, signed requests only. Socket Mode when SLACK_APP_TOKEN is
// set. One workspace (SLACK_BOT_TOKEN, its own team only) or many (OAuth install of allow-listed
// teams, installations sealed in this trigger's own collection; tenancy.ts, oauth-install.ts).
// Each Slack team is its own enrichbot workspace (`slack:<team id>`): records, spend and files
// never cross teams.
import boltPkg, { type App as BoltApp, type Receiver } from '@slack/bolt';
import { defineTrigger, isEnrichbotError, type TriggerContext } from '../../../src/sdk/index.js';
import { SlackConfigSchema, isMultiWorkspace, workspaceOf, type SlackConfig } from './config.js';
import { MongoInstallationStore } from './installation-store.js';
import { TokenCipher } from './token-cipher.js';
import { BotTokens } from './bot-tokens.js';
import { SlackClients, slackLogger } from './slack-clients.js';
import { authorizeWith, registerTenancy } from './tenancy.js';
import { registerLifecycle } from './lifecycle.js';
import { mountOAuth } from './oauth-install.js';
import { ChannelPacer } from './channel-pacer.js';
import { RouterReceiver } from './router-receiver.js';
import { takeEventsOnce } from './replay-guard.js';
import { registerEnrichCommand } from './enrich-command.js';
import { registerCardActions } from './card-actions.js';
import { registerAppHome } from './app-home.js';
import { registerSharedCsv } from './csv-shared.js';
import { registerBatchConfirm } from './batch-confirm.js';
import { deliverCsv, deliverResult, notify, updateProgress } from './delivery.js';
import { deliverJobChange } from './job-change.js';
import type { SlackRuntime } from './runtime.js';
import { SlackErrors } from './errors.js';

const { App, SocketModeReceiver } = boltPkg as unknown as typeof import('@slack/bolt');

/** One runtime per context: several Apps in one process (tests) never share clients or queues. */
const runtimes = new WeakMap<object, SlackRuntime>();

function runtimeOf(ctx: TriggerContext<SlackConfig>): SlackRuntime {
  const rt = runtimes.get(ctx);
  if (!rt) throw new Error('the Slack trigger has not started in this process');
  return rt;
}

function startBolt(ctx: TriggerContext<SlackConfig>, rt: SlackRuntime, installations?: MongoInstallationStore): BoltApp | undefined {
  const { config } = rt;
  const logger = slackLogger(ctx.logger);
  let receiver: Receiver;
  if (config.appToken) {
    // Socket Mode: Slack pushes over a websocket, so no public URL is needed. The receiver hands
    // installerOptions.clientOptions to its SocketModeClient: apps.connections.open then goes to
    // SLACK_API_URL like every other call (without it, always to slack.com).
    receiver = new SocketModeReceiver({ appToken: config.appToken, logger, installerOptions: { clientOptions: { slackApiUrl: config.apiUrl } } });
  } else if (ctx.role === 'web' || ctx.role === 'all') {
    receiver = new RouterReceiver({ router: ctx.router, path: '/events', signingSecret: config.signingSecret!, clock: ctx.clock, logger: ctx.logger, redis: ctx.redis });
  } else {
    return undefined;
  }
  const app = new App({ receiver, authorize: authorizeWith(rt), clientOptions: rt.clients.options(), logger, ignoreSelf: true });
  registerTenancy(app, rt);
  if (config.appToken) app.use(takeEventsOnce(ctx.redis, ctx.logger));
  registerLifecycle(app, rt);
  registerEnrichCommand(app, rt);
  registerCardActions(app, rt);
  registerAppHome(app, rt);
  registerSharedCsv(app, rt);
  registerBatchConfirm(app, rt);
  app.error(async (err) => {
    ctx.logger.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'slack listener error');
  });
  if (installations && isMultiWorkspace(config) && !config.appToken) mountOAuth(ctx, config, installations, rt);
  return app;
}

export default defineTrigger({
  kind: 'trigger',
  id: 'slack',
  description: 'Slack: /enrich, result cards, lookalikes, corrections, App Home, and CSV files in direct messages.',
  configSchema: SlackConfigSchema,
  mountPath: '/slack',
  errors: SlackErrors,
  async start(ctx) {
    const config = ctx.config;
    const cipher = config.tokenKeys ? new TokenCipher(config.tokenKeys) : undefined;
    const installations = new MongoInstallationStore(ctx.collection('installations'), cipher);
    const clients = new SlackClients(config, ctx.logger);
    clients.tokens = new BotTokens(ctx, config, () => clients.options(), installations);
    const rt: SlackRuntime = { ctx, config, clients, pacer: new ChannelPacer(ctx.redis, config.postIntervalMs, ctx.logger) };
    rt.clients.fetch = rt.pacer.fetch(config.apiRetries);
    runtimes.set(ctx, rt);
    // Socket Mode runs where the web role runs (one connection is enough; workers only deliver).
    const wantsBolt = ctx.role === 'web' || ctx.role === 'all';
    if (wantsBolt) {
      rt.bolt = startBolt(ctx, rt, installations);
      if (rt.bolt && config.appToken) {
        await rt.bolt.start();
        rt.stopSocket = () => rt.bolt!.stop() as Promise<void>;
      }
    }
  },
  async stop(ctx) {
    const rt = runtimes.get(ctx);
    if (!rt) return;
    await rt.stopSocket?.();
    await rt.pacer.drain();
    runtimes.delete(ctx);
  },
  deliver: (result, replyTo, ctx) => unlessUninstalled(ctx, deliverResult(runtimeOf(ctx), result, replyTo)),
  batchProgress: (status, replyTo, ctx) => unlessUninstalled(ctx, updateProgress(runtimeOf(ctx), status, replyTo)),
  deliverBatch: (status, replyTo, ctx) => unlessUninstalled(ctx, deliverCsv(runtimeOf(ctx), status, replyTo)),
  notify: (message, ctx) => notify(runtimeOf(ctx), message),
  // One bot token and no OAuth install: its team is the operator's own (push binds it by default).
  async soleWorkspace(ctx) {
    const rt = runtimes.get(ctx);
    if (!rt || isMultiWorkspace(rt.config) || !rt.config.botToken) return undefined;
    const team = await rt.clients.teamOf(rt.config.botToken);
    return team ? workspaceOf(team) : undefined;
  },
  jobChanged: (notice, ctx) => deliverJobChange(runtimeOf(ctx), notice),
});

/** A delivery to a team that uninstalled the app is dropped (its token is gone), not retried. */
async function unlessUninstalled(ctx: TriggerContext<SlackConfig>, delivery: Promise<void>): Promise<void> {
  try {
    await delivery;
  } catch (err) {
    if (!isEnrichbotError(err, SlackErrors.SLACK_NOT_INSTALLED.code)) throw err;
    ctx.logger.warn({ err: { code: err.code, message: err.message } }, 'slack delivery dropped: the app is no longer installed in that team');
  }
}

export { MongoInstallationStore, TokenCipher };
