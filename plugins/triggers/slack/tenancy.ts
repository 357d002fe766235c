// Which Slack teams this app serves. Each request's team (and Enterprise Grid org) is checked in
// Bolt's authorize before any listener runs: one workspace serves SLACK_BOT_TOKEN's own team only
// (a signed command from another organisation, e.g. over Slack Connect, is refused); many
// workspaces serve installed teams on the allow-list (SLACK_ALLOWED_TEAMS / _ENTERPRISES).
// A refused request is answered with an ephemeral sentence and never reaches a listener, so it
// never runs, costs or stores anything.
import type { App, Authorize, Middleware, AnyMiddlewareArgs } from '@slack/bolt';
import { isEnrichbotError } from '../../../src/sdk/index.js';
import { isAllowed, isMultiWorkspace } from './config.js';
import { escapeMrkdwn } from './mrkdwn.js';
import type { SlackRuntime } from './runtime.js';

type Source = Parameters<Authorize<boolean>>[0];

/** Bolt's authorize: the team's token and the bot's own ids (auth.test, once per token), or a refusal in the context. */
export function authorizeWith(rt: SlackRuntime): Authorize<boolean> {
  const identities = new Map<string, Promise<{ botId?: string; botUserId?: string }>>();
  return async (source: Source) => {
    const refusal = await refusalFor(rt, source);
    if (refusal) return { teamId: source.teamId, enterpriseId: source.enterpriseId, refusal };
    let botToken: string;
    try {
      botToken = await rt.clients.tokens.token(source);
    } catch (err) {
      if (!isEnrichbotError(err)) throw err;
      return { teamId: source.teamId, enterpriseId: source.enterpriseId, refusal: escapeMrkdwn(err.message) };
    }
    if (isMultiWorkspace(rt.config) && source.isEnterpriseInstall && source.enterpriseId && source.teamId) await rt.clients.tokens.installations?.rememberMember(source.teamId, source.enterpriseId);
    let who = identities.get(botToken);
    if (!who) {
      who = rt.clients
        .forToken(botToken)
        .auth.test()
        .then((r) => ({ botId: r.bot_id as string | undefined, botUserId: r.user_id as string | undefined }))
        .catch(() => ({}));
      identities.set(botToken, who);
    }
    return { botToken, teamId: source.teamId, enterpriseId: source.enterpriseId, ...(await who) };
  };
}

async function refusalFor(rt: SlackRuntime, source: Source): Promise<string | undefined> {
  // The ids come from the request body: escaped, as any text a message shows.
  const where = escapeMrkdwn(source.teamId ? `Slack team ${source.teamId}` : `Slack org ${source.enterpriseId}`);
  if (await rt.clients.tokens.isHome(source).catch(() => false)) return undefined;
  if (!isMultiWorkspace(rt.config)) return `enrichbot here serves one Slack workspace, and ${where} is not it: ask your admin to install enrichbot in your own workspace.`;
  if (!isAllowed(rt.config, source)) return `${where} is not on this enrichbot's allow-list: its operator adds it to SLACK_ALLOWED_TEAMS (or the org to SLACK_ALLOWED_ENTERPRISES) before it can be used.`;
  return undefined;
}

/** First global middleware: a refused request gets its sentence (commands, as an ephemeral answer) and stops here. */
export function refuseOutsiders(rt: SlackRuntime): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const { context, next } = args;
    const refusal = context.refusal as string | undefined;
    if (!refusal) return next();
    rt.ctx.logger.warn({ team: context.teamId, enterprise: context.enterpriseId }, 'slack request refused: team not served');
    const ack = (args as { ack?: (r?: unknown) => Promise<void> }).ack;
    const isCommand = 'command' in args;
    if (ack) await ack(isCommand ? { response_type: 'ephemeral', text: refusal } : undefined);
  };
}

export function registerTenancy(app: App, rt: SlackRuntime): void {
  app.use(refuseOutsiders(rt));
}
