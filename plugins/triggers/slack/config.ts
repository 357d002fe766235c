// The Slack trigger's settings: triggers.slack in YAML, or SLACK_* variables (SLACK_BOT_TOKEN ->
// botToken, SLACK_API_URL -> apiUrl...). Values from the environment are strings: numbers coerce.
import { z } from 'zod';
import { TokenKeysSchema } from './token-cipher.js';

/** Bot scopes asked at install; README "Scopes" says what each one is for. */
export const DEFAULT_SCOPES = ['commands', 'chat:write', 'files:read', 'files:write', 'im:history', 'im:write', 'usergroups:read', 'users:read'];

const idList = z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))]).default([]);

export const SlackConfigSchema = z
  .object({
    enabled: z.unknown().optional(),
    /** Single-workspace mode: the bot token (xoxb-...). */
    botToken: z.string().min(1).optional(),
    /** HTTP mode: every request to POST /slack/events is checked against it. */
    signingSecret: z.string().min(1).optional(),
    /** Socket Mode (no public URL): an app-level token (xapp-...). */
    appToken: z.string().min(1).optional(),
    /** Web API base URL (tests and proxies); must end with a slash, as the SDK appends method names. */
    apiUrl: z
      .string()
      .url()
      .default('https://slack.com/api/')
      .transform((u) => (u.endsWith('/') ? u : `${u}/`)),
    /** Multi-workspace OAuth install: both are needed. */
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    /** No longer used: OAuth state is a single-use random value kept in Redis. */
    stateSecret: z.string().optional(),
    /** Teams (T...) and Enterprise Grid orgs (E...) allowed to install; any other is refused. */
    allowedTeams: idList,
    allowedEnterprises: idList,
    /** Keys sealing installation tokens in MongoDB, "id:base64key,...": the first encrypts, all decrypt. */
    tokenKeys: TokenKeysSchema.optional(),
    scopes: z
      .union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))])
      .default(DEFAULT_SCOPES),
    /** User group ids (S...) whose members may Accept or Keep HubSpot conflicts; workspace admins always may. */
    conflictReviewers: idList,
    /** Most inputs one /enrich takes. */
    maxInputs: z.coerce.number().int().min(1).max(25).default(25),
    /** Largest CSV downloaded from Slack, in bytes. */
    maxCsvBytes: z.coerce.number().int().positive().default(10_000_000),
    /** Most rows in one CSV (above it, the file is refused with a clear message). */
    maxCsvRows: z.coerce.number().int().positive().default(10_000),
    /** Pause between two posts in one channel (Slack: about one message per second per channel). */
    postIntervalMs: z.coerce.number().int().min(0).default(1000),
    /** Web API retries (429 waits the Retry-After Slack sends; 5xx and network errors back off). */
    apiRetries: z.coerce.number().int().min(0).max(10).default(3),
    apiRetryMinMs: z.coerce.number().int().min(0).default(1000),
  })
  .loose()
  .superRefine((c, ctx) => {
    const oauth = [c.clientId, c.clientSecret].filter(Boolean).length;
    if (oauth === 1) {
      ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'multi-workspace install needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET; set both or none' });
    }
    if (!c.botToken && oauth < 2) {
      ctx.addIssue({ code: 'custom', path: ['botToken'], message: 'set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (install in many workspaces)' });
    }
    if (oauth === 2 && !c.tokenKeys) {
      ctx.addIssue({ code: 'custom', path: ['tokenKeys'], message: 'multi-workspace install keeps each workspace\'s bot token in MongoDB, encrypted: set SLACK_TOKEN_KEYS to id:key with a 32-byte base64 key (e.g. k1:$(openssl rand -base64 32))' });
    }
    if (oauth === 2 && c.appToken) {
      ctx.addIssue({ code: 'custom', path: ['appToken'], message: 'Socket Mode (SLACK_APP_TOKEN) has no public URL, so other workspaces cannot reach /slack/install: unset SLACK_APP_TOKEN and use HTTP mode (SLACK_SIGNING_SECRET) to install in many workspaces, or unset SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to serve the one workspace of SLACK_BOT_TOKEN' });
    }
    if (!c.signingSecret && !c.appToken) {
      ctx.addIssue({ code: 'custom', path: ['signingSecret'], message: 'set SLACK_SIGNING_SECRET (HTTP mode, POST /slack/events) or SLACK_APP_TOKEN (Socket Mode)' });
    }
  });

export type SlackConfig = z.infer<typeof SlackConfigSchema>;

export const isMultiWorkspace = (c: SlackConfig) => !!(c.clientId && c.clientSecret);

/** May this team (or org-wide install of this enterprise) use the app? Multi-workspace mode only. */
export const isAllowed = (c: SlackConfig, who: { teamId?: string; enterpriseId?: string }) =>
  (!!who.teamId && c.allowedTeams.includes(who.teamId)) || (!!who.enterpriseId && c.allowedEnterprises.includes(who.enterpriseId));

/** EnrichService workspace of a Slack team: records, costs and files are kept per team. */
export const workspaceOf = (teamId: string) => `slack:${teamId}`;
