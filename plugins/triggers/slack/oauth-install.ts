// GET /slack/install and /slack/oauth_redirect: Slack's OAuth v2 install into another workspace
// (@slack/oauth's InstallProvider). The state is single-use (oauth-state.ts). Only teams and
// Enterprise Grid orgs on the allow-list may install: anyone else's token is revoked at once
// (auth.revoke) and nothing is stored, and the operator's log names the team to add, so no
// stranger's workspace ever spends on the operator's provider keys.
import { InstallProvider, type Installation } from '@slack/oauth';
import { WebClient } from '@slack/web-api';
import type { ServerResponse } from 'node:http';
import type { TriggerContext } from '../../../src/sdk/index.js';
import { isAllowed, type SlackConfig } from './config.js';
import type { MongoInstallationStore } from './installation-store.js';
import { RedisStateStore } from './oauth-state.js';
import { escapeHtml } from './html-text.js';
import { slackLogger } from './slack-clients.js';
import type { SlackRuntime } from './runtime.js';

export function mountOAuth(ctx: TriggerContext<SlackConfig>, config: SlackConfig, installations: MongoInstallationStore, rt: SlackRuntime): void {
  const installer = new InstallProvider({
    clientId: config.clientId!,
    clientSecret: config.clientSecret!,
    stateStore: new RedisStateStore(ctx.redis),
    installationStore: installations,
    clientOptions: rt.clients.options(),
    logger: slackLogger(ctx.logger),
  });
  ctx.router.get('/install', (req, res) => void installer.handleInstallPath(req, res, undefined, { scopes: config.scopes }));
  ctx.router.get('/oauth_redirect', (req, res) =>
    void installer.handleCallback(req, res, {
      afterInstallation: async (installation, _options, _req, response) => admit(rt, installation, response),
    }),
  );
}

/** After the code is traded: an installation not on the allow-list is revoked and never stored. */
async function admit(rt: SlackRuntime, installation: Installation, res: ServerResponse): Promise<boolean> {
  const who = { teamId: installation.team?.id, enterpriseId: installation.enterprise?.id };
  if (isAllowed(rt.config, who)) {
    rt.ctx.logger.info({ team: who.teamId, enterprise: who.enterpriseId }, 'slack app installed');
    return true;
  }
  const name = installation.isEnterpriseInstall ? `org ${who.enterpriseId}` : `team ${who.teamId}`;
  const setting = installation.isEnterpriseInstall ? 'SLACK_ALLOWED_ENTERPRISES' : 'SLACK_ALLOWED_TEAMS';
  rt.ctx.logger.warn({ team: who.teamId, enterprise: who.enterpriseId, teamName: installation.team?.name }, `slack install refused: ${name} is not allowed; to allow it, add it to ${setting} and ask them to install again`);
  const token = installation.bot?.token;
  if (token) await new WebClient(token, rt.clients.options()).auth.revoke().catch((err) => rt.ctx.logger.warn({ err: { message: (err as Error).message } }, 'slack install refused: the token could not be revoked'));
  res.writeHead(403, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<html><body><p>This enrichbot does not serve Slack ${escapeHtml(name)} yet. Ask its operator to add it to ${setting}, then install again.</p></body></html>`);
  return false;
}
