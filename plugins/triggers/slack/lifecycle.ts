// Uninstalls. Slack sends `app_uninstalled` when a workspace removes the app and `tokens_revoked`
// when its bot token is revoked (docs: Events API; both skip Bolt's authorize, as the token is
// already dead). The installation and its sealed token are deleted (one workspace: the token is
// marked revoked), so later requests from that team are refused and its pending deliveries are
// dropped instead of retried against a dead token.
import type { App } from '@slack/bolt';
import { isMultiWorkspace } from './config.js';
import type { TokenQuery } from './installation-store.js';
import type { SlackRuntime } from './runtime.js';

export function registerLifecycle(app: App, rt: SlackRuntime): void {
  app.event('app_uninstalled', async ({ context }) => {
    await forgetInstallation(rt, { teamId: context.teamId, enterpriseId: context.enterpriseId, isEnterpriseInstall: context.isEnterpriseInstall }, 'app_uninstalled');
  });
  app.event('tokens_revoked', async ({ event, context }) => {
    // User tokens alone do not matter here: enrichbot acts with the bot token only.
    if (!event.tokens.bot?.length) return;
    await forgetInstallation(rt, { teamId: context.teamId, enterpriseId: context.enterpriseId, isEnterpriseInstall: context.isEnterpriseInstall }, 'tokens_revoked');
  });
}

export async function forgetInstallation(rt: SlackRuntime, q: TokenQuery, why: string): Promise<void> {
  const store = rt.clients.tokens.installations;
  if (!store) return;
  const home = await rt.clients.tokens.isHome(q).catch(() => false);
  if (isMultiWorkspace(rt.config) && !home) {
    const inst = await store.find(q).catch(() => undefined);
    await store.deleteInstallation(q);
    if (inst?.bot?.token) rt.clients.forget(inst.bot.token);
  } else if (rt.config.botToken && home) {
    await store.revokeToken(rt.config.botToken);
    rt.clients.tokens.markRevoked();
    rt.clients.forget(rt.config.botToken);
  } else {
    return;
  }
  rt.ctx.logger.warn({ team: q.teamId, enterprise: q.enterpriseId, why }, 'slack installation removed: that team is no longer served');
}
