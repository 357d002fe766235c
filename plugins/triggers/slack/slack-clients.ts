// Web API clients per Slack team. Single-workspace mode uses SLACK_BOT_TOKEN; multi-workspace
// mode looks up the team's installation (OAuth). Every client goes to `apiUrl` (SLACK_API_URL)
// and lets @slack/web-api honour 429 Retry-After (it pauses its queue for the time Slack asks).
import { WebClient, LogLevel, type FetchFunction, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../../../src/sdk/index.js';
import type { SlackConfig } from './config.js';
import type { BotTokens } from './bot-tokens.js';

export class SlackClients {
  private readonly clients = new Map<string, WebClient>();
  /** Set once the tokens are known (bot-tokens.ts needs these clients' options first). */
  tokens!: BotTokens;

  constructor(
    private readonly config: SlackConfig,
    private readonly logger: Logger,
  ) {}

  /** The bot token for a team: its installation (multi-workspace), or the single bot token for its own team. */
  token(teamId?: string): Promise<string> {
    return this.tokens.token({ teamId });
  }

  /** Forgets the clients of tokens that no longer work (an uninstall). */
  forget(token: string): void {
    this.clients.delete(token);
    this.teams.delete(token);
  }

  private readonly teams = new Map<string, Promise<string | undefined>>();

  /**
   * The team a token belongs to (auth.test, once per token), for posts made without naming a team
   * (the digest in single-workspace mode): they are paced and remembered as that team's.
   */
  teamOf(token: string): Promise<string | undefined> {
    let team = this.teams.get(token);
    if (!team) {
      team = this.forToken(token)
        .auth.test()
        .then((r) => r.team_id as string | undefined)
        .catch(() => {
          this.teams.delete(token);
          return undefined;
        });
      this.teams.set(token, team);
    }
    return team;
  }

  async forTeam(teamId?: string): Promise<WebClient> {
    return this.forToken(await this.token(teamId));
  }

  forToken(token: string): WebClient {
    let c = this.clients.get(token);
    if (!c) {
      c = new WebClient(token, this.options());
      this.clients.set(token, c);
    }
    return c;
  }

  /** The channel pacer's fetch (channel-pacer.ts), set at start: chat.postMessage waits its turn at the wire. */
  fetch?: FetchFunction;

  /** Options for every WebClient, Bolt's included (clientOptions). */
  options() {
    return {
      slackApiUrl: this.config.apiUrl,
      logger: slackLogger(this.logger),
      retryConfig: { retries: this.config.apiRetries, factor: 2, minTimeout: this.config.apiRetryMinMs, randomize: false },
      ...(this.fetch ? { fetch: this.fetch } : {}),
    };
  }
}

/** The SDK's logger interface over ours; tokens never reach it (the SDK redacts them). */
export function slackLogger(logger: Logger): SlackLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => logger.debug({ slack: m.map(String).join(' ') }, 'slack sdk'),
    info: (...m: unknown[]) => logger.debug({ slack: m.map(String).join(' ') }, 'slack sdk'),
    warn: (...m: unknown[]) => logger.warn({ slack: m.map(String).join(' ') }, 'slack sdk'),
    error: (...m: unknown[]) => logger.error({ slack: m.map(String).join(' ') }, 'slack sdk'),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
