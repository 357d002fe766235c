// Which bot token answers for a team. One workspace: SLACK_BOT_TOKEN, for its own team (and org,
// when the token is an org-wide install) only. Many workspaces: the team's installation, or its
// org's for an Enterprise Grid org-wide install. With token rotation on, a bot token lives 12 hours
// (docs: "Token rotation"); one expiring within REFRESH_MARGIN is refreshed through oauth.v2.access
// (grant_type=refresh_token) by one process at a time, under a Redis lease: a refresh token is
// good for one refresh, so two processes refreshing at once would lose the installation.
import { WebClient } from '@slack/web-api';
import type { Installation } from '@slack/bolt';
import type { TriggerContext } from '../../../src/sdk/index.js';
import { EnrichbotError } from '../../../src/sdk/index.js';
import { isMultiWorkspace, type SlackConfig } from './config.js';
import { notInstalled, type MongoInstallationStore, type TokenQuery } from './installation-store.js';
import { SlackErrors } from './errors.js';

/** Refresh this long before expiry (what Bolt's InstallProvider does too). */
export const REFRESH_MARGIN_SECONDS = 2 * 3600;
const LEASE_MS = 30_000;
const WAIT_STEP_MS = 100;
const WAIT_STEPS = 100;
/** How long a process trusts that SLACK_BOT_TOKEN is not revoked before asking MongoDB again. */
const REVOKED_CHECK_MS = 30_000;

export interface HomeTeam {
  teamId?: string;
  enterpriseId?: string;
  isEnterpriseInstall: boolean;
}

export class BotTokens {
  private home?: Promise<HomeTeam>;
  private revokedCheck?: { at: number; revoked: Promise<boolean> };

  constructor(
    private readonly ctx: TriggerContext<SlackConfig>,
    private readonly config: SlackConfig,
    private readonly clientOptions: () => ConstructorParameters<typeof WebClient>[1],
    readonly installations?: MongoInstallationStore,
  ) {}

  /** SLACK_BOT_TOKEN's own team (auth.test, once): the only team one-workspace mode serves. */
  homeTeam(): Promise<HomeTeam> {
    if (!this.config.botToken) return Promise.resolve({ isEnterpriseInstall: false });
    this.home ??= new WebClient(this.config.botToken, this.clientOptions())
      .auth.test()
      .then((r) => ({ teamId: r.team_id, enterpriseId: r.enterprise_id || undefined, isEnterpriseInstall: r.is_enterprise_install === true }))
      .catch((err) => {
        this.home = undefined;
        throw err;
      });
    return this.home;
  }

  /** Is this team (or org) the one SLACK_BOT_TOKEN was installed in? */
  async isHome(q: TokenQuery): Promise<boolean> {
    if (!this.config.botToken) return false;
    const home = await this.homeTeam();
    return (!!q.teamId && q.teamId === home.teamId) || (home.isEnterpriseInstall && !!q.enterpriseId && q.enterpriseId === home.enterpriseId);
  }

  /** The bot token for a team; throws SLACK_NOT_INSTALLED when there is none (never installed, or uninstalled). */
  async token(q: TokenQuery): Promise<string> {
    if (this.installations && isMultiWorkspace(this.config)) {
      const inst = await this.installations.find(q);
      if (inst?.bot?.token) return this.fresh(q, inst);
    }
    if (this.config.botToken && (!q.teamId || (await this.isHome(q)))) {
      if (await this.isRevoked(this.config.botToken)) throw notInstalled(q);
      return this.config.botToken;
    }
    throw notInstalled(q);
  }

  /** Was SLACK_BOT_TOKEN revoked (an uninstall)? Checked once per REVOKED_CHECK_MS: deliveries ask often. */
  private isRevoked(token: string): Promise<boolean> {
    const now = Date.now();
    if (!this.installations) return Promise.resolve(false);
    if (!this.revokedCheck || now - this.revokedCheck.at > REVOKED_CHECK_MS) {
      const revoked = this.installations.isRevoked(token).catch((err: unknown) => {
        this.revokedCheck = undefined;
        throw err;
      });
      this.revokedCheck = { at: now, revoked };
    }
    return this.revokedCheck.revoked;
  }

  /** This process saw the uninstall itself: no need to wait for the next check. */
  markRevoked(): void {
    this.revokedCheck = { at: Date.now(), revoked: Promise.resolve(true) };
  }

  private expiring(inst: Installation): boolean {
    const at = inst.bot?.expiresAt;
    return !!inst.bot?.refreshToken && at !== undefined && at - this.nowSeconds() < REFRESH_MARGIN_SECONDS;
  }

  private nowSeconds(): number {
    return Math.floor(this.ctx.clock.now().getTime() / 1000);
  }

  /** The installation's token, refreshed first when it expires soon (once across processes). */
  private async fresh(q: TokenQuery, inst: Installation): Promise<string> {
    if (!this.expiring(inst)) return inst.bot!.token!;
    const store = this.installations!;
    const key = await store.keyOf(q);
    for (let step = 0; step < WAIT_STEPS; step++) {
      const lease = await this.ctx.lease(`slack-token-refresh:${key}`, LEASE_MS);
      if (lease) {
        try {
          // Read again under the lease: another process may have refreshed it meanwhile.
          const current = await store.find(q);
          if (!current?.bot?.token) throw notInstalled(q);
          if (!this.expiring(current)) return current.bot.token;
          return await this.refresh(current);
        } finally {
          await lease.release().catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
      const now = await store.find(q);
      if (!now?.bot?.token) throw notInstalled(q);
      if (!this.expiring(now)) return now.bot.token;
    }
    // Still expiring after waiting for the holder: the old token works until it actually expires.
    if ((inst.bot!.expiresAt ?? 0) > this.nowSeconds()) return inst.bot!.token!;
    throw new EnrichbotError(SlackErrors.SLACK_NOT_INSTALLED.code, `the Slack bot token of ${key} expired and could not be refreshed; try again, or reinstall from /slack/install`);
  }

  private async refresh(inst: Installation): Promise<string> {
    const res = await new WebClient(undefined, this.clientOptions()).oauth.v2.access({
      client_id: this.config.clientId!,
      client_secret: this.config.clientSecret!,
      grant_type: 'refresh_token',
      refresh_token: inst.bot!.refreshToken!,
    });
    if (!res.access_token || !res.refresh_token || !res.expires_in) throw new Error('oauth.v2.access (refresh) answered without a token');
    inst.bot = { ...inst.bot!, token: res.access_token, refreshToken: res.refresh_token, expiresAt: this.nowSeconds() + res.expires_in };
    await this.installations!.storeInstallation(inst);
    this.ctx.logger.info({ team: inst.team?.id, enterprise: inst.enterprise?.id }, 'slack bot token refreshed');
    return res.access_token;
  }
}
