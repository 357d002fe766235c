// The Slack trigger: `/enrich`, result cards with buttons, an App Home tab, and CSV files in
// direct messages or threads under the bot's messages, on @slack/bolt. It holds Slack's side
// only; everything else goes through the EnrichService in its context. HTTP mode:
// POST /slack/events on the web role, signed requests only. Socket Mode when SLACK_APP_TOKEN is
// set. One workspace (SLACK_BOT_TOKEN) or many (OAuth install, installations in this trigger's own
// collection). Each Slack team is its own enrichbot workspace (`slack:<team id>`): records, spend
// and files never cross teams.
import boltPkg, { type App as BoltApp, type Authorize, type Receiver } from '@slack/bolt';
import { InstallProvider } from '@slack/oauth';
import { defineTrigger, type TriggerContext } from '../../../src/sdk/index.js';
import { SlackConfigSchema, isMultiWorkspace, type SlackConfig } from './config.js';
import { MongoInstallationStore } from './installation-store.js';
import { SlackClients, slackLogger } from './slack-clients.js';
import { ChannelPacer } from './channel-pacer.js';
import { RouterReceiver } from './router-receiver.js';
import { registerEnrichCommand } from './enrich-command.js';
import { registerCardActions } from './card-actions.js';
import { registerAppHome } from './app-home.js';
import { registerSharedCsv } from './csv-shared.js';
import { deliverCsv, deliverResult, notify, updateProgress } from './delivery.js';
import { deliverJobChange } from './job-change.js';
import type { SlackRuntime } from './runtime.js';

const { App, SocketModeReceiver } = boltPkg as unknown as typeof import('@slack/bolt');

/** One runtime per context: several Apps in one process (tests) never share clients or queues. */
const runtimes = new WeakMap<object, SlackRuntime>();

function runtimeOf(ctx: TriggerContext<SlackConfig>): SlackRuntime {
  const rt = runtimes.get(ctx);
  if (!rt) throw new Error('the Slack trigger has not started in this process');
  return rt;
}

/** Bolt's authorize: the team's token, and the bot's own ids (auth.test, once per token) so it ignores itself. */
function authorizeWith(clients: SlackClients): Authorize<boolean> {
  const identities = new Map<string, Promise<{ botId?: string; botUserId?: string }>>();
  return async (source) => {
    const botToken = await clients.token(source.teamId);
    let who = identities.get(botToken);
    if (!who) {
      who = clients
        .forToken(botToken)
        .auth.test()
        .then((r) => ({ botId: r.bot_id as string | undefined, botUserId: r.user_id as string | undefined }))
        .catch(() => ({}));
      identities.set(botToken, who);
    }
    return { botToken, teamId: source.teamId, ...(await who) };
  };
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
    receiver = new RouterReceiver({ router: ctx.router, path: '/events', signingSecret: config.signingSecret!, clock: ctx.clock, logger: ctx.logger });
  } else {
    return undefined;
  }
  const app = new App({ receiver, authorize: authorizeWith(rt.clients), clientOptions: rt.clients.options(), logger, ignoreSelf: true });
  registerEnrichCommand(app, rt);
  registerCardActions(app, rt);
  registerAppHome(app, rt);
  registerSharedCsv(app, rt);
  app.error(async (err) => {
    ctx.logger.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'slack listener error');
  });
  if (installations && !config.appToken) mountOAuth(ctx, config, installations, rt);
  return app;
}

/** GET /slack/install and /slack/oauth_redirect: Slack's OAuth v2 install into another workspace. */
function mountOAuth(ctx: TriggerContext<SlackConfig>, config: SlackConfig, installations: MongoInstallationStore, rt: SlackRuntime): void {
  const installer = new InstallProvider({
    clientId: config.clientId!,
    clientSecret: config.clientSecret!,
    stateSecret: config.stateSecret!,
    installationStore: installations,
    clientOptions: { slackApiUrl: config.apiUrl },
    logger: slackLogger(ctx.logger),
  });
  ctx.router.get('/install', (req, res) => void installer.handleInstallPath(req, res, undefined, { scopes: config.scopes }));
  ctx.router.get('/oauth_redirect', (req, res) => void installer.handleCallback(req, res));
  void rt;
}

export default defineTrigger({
  kind: 'trigger',
  id: 'slack',
  description: 'Slack: /enrich, result cards, lookalikes, corrections, App Home, and CSV files in direct messages.',
  configSchema: SlackConfigSchema,
  mountPath: '/slack',
  async start(ctx) {
    const config = ctx.config;
    const installations = isMultiWorkspace(config) ? new MongoInstallationStore(ctx.collection('installations')) : undefined;
    const rt: SlackRuntime = { ctx, config, clients: new SlackClients(config, ctx.logger, installations), pacer: new ChannelPacer(ctx.redis, config.postIntervalMs, ctx.logger) };
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
  deliver: (result, replyTo, ctx) => deliverResult(runtimeOf(ctx), result, replyTo),
  batchProgress: (status, replyTo, ctx) => updateProgress(runtimeOf(ctx), status, replyTo),
  deliverBatch: (status, replyTo, ctx) => deliverCsv(runtimeOf(ctx), status, replyTo),
  notify: (message, ctx) => notify(runtimeOf(ctx), message),
  jobChanged: (notice, ctx) => deliverJobChange(runtimeOf(ctx), notice),
});

export { MongoInstallationStore };
