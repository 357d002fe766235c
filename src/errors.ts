// The core's error codes, and the helpers plugins declare their own with (`defineErrors`): a
// plugin's codes live in the plugin and are checked at start-up against the core's and every
// other enabled plugin's. Tests assert `err.code`, not message text; messages say what was wrong
// and what the user can do about it.
export const ErrorCodes = {
  CONFIG_INVALID: 'ENRICHBOT_ERR_CONFIG_INVALID',
  PLUGIN_UNKNOWN: 'ENRICHBOT_ERR_PLUGIN_UNKNOWN',
  PLUGIN_INVALID: 'ENRICHBOT_ERR_PLUGIN_INVALID',
  PLUGIN_CONFIG_INVALID: 'ENRICHBOT_ERR_PLUGIN_CONFIG_INVALID',
  PLUGIN_DEPENDENCY_MISSING: 'ENRICHBOT_ERR_PLUGIN_DEPENDENCY_MISSING',
  PLUGIN_API_KEY_MISSING: 'ENRICHBOT_ERR_PLUGIN_API_KEY_MISSING',
  PLUGIN_INIT_FAILED: 'ENRICHBOT_ERR_PLUGIN_INIT_FAILED',
  PLUGIN_TIMEOUT: 'ENRICHBOT_ERR_PLUGIN_TIMEOUT',
  STARTUP_FAILED: 'ENRICHBOT_ERR_STARTUP_FAILED',
  INPUT_INVALID: 'ENRICHBOT_ERR_INPUT_INVALID',
  URL_REFUSED: 'ENRICHBOT_ERR_URL_REFUSED',
  FETCH_FAILED: 'ENRICHBOT_ERR_FETCH_FAILED',
  BODY_TOO_LARGE: 'ENRICHBOT_ERR_BODY_TOO_LARGE',
  SERVICE_UNREACHABLE: 'ENRICHBOT_ERR_SERVICE_UNREACHABLE',
  JOB_FAILED: 'ENRICHBOT_ERR_JOB_FAILED',
  JOB_TIMEOUT: 'ENRICHBOT_ERR_JOB_TIMEOUT',
  JOB_NOT_FOUND: 'ENRICHBOT_ERR_JOB_NOT_FOUND',
  JOB_BUSY: 'ENRICHBOT_ERR_JOB_BUSY',
  JOB_STALLED: 'ENRICHBOT_ERR_JOB_STALLED',
  SCHEDULE_INVALID: 'ENRICHBOT_ERR_SCHEDULE_INVALID',
  CSV_INVALID: 'ENRICHBOT_ERR_CSV_INVALID',
  CSV_TOO_LARGE: 'ENRICHBOT_ERR_CSV_TOO_LARGE',
  TRIGGER_UNKNOWN: 'ENRICHBOT_ERR_TRIGGER_UNKNOWN',
  IDENTITY_FORGOTTEN: 'ENRICHBOT_ERR_IDENTITY_FORGOTTEN',
  BATCH_TOO_LARGE: 'ENRICHBOT_ERR_BATCH_TOO_LARGE',
  BATCH_NOT_FOUND: 'ENRICHBOT_ERR_BATCH_NOT_FOUND',
  FIELD_INVALID: 'ENRICHBOT_ERR_FIELD_INVALID',
  PUSH_UNAVAILABLE: 'ENRICHBOT_ERR_PUSH_UNAVAILABLE',
  /** A workspace asked another trigger to act outside what is bound to it (a CRM account, a chat team). */
  PUSH_REFUSED: 'ENRICHBOT_ERR_PUSH_REFUSED',
} as const;

export type CoreErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
/** A plugin's own code, declared with `defineErrors`. */
export type PluginErrorCode = `ENRICHBOT_ERR_${string}`;
export type ErrorCode = CoreErrorCode | PluginErrorCode;

/**
 * A plugin's error codes from their names and what the user can do about each:
 * `defineErrors({ HUBSPOT_API_FAILED: 'HubSpot refused a call: ...' })` gives
 * `{ HUBSPOT_API_FAILED: { code: 'ENRICHBOT_ERR_HUBSPOT_API_FAILED', help } }`. The plugin throws
 * `new EnrichbotError(Errors.HUBSPOT_API_FAILED.code, message)` and declares `errors: Errors`.
 */
export function defineErrors<const T extends Record<string, string>>(help: T): { readonly [K in keyof T & string]: { code: `ENRICHBOT_ERR_${K}`; help: string } } {
  return Object.fromEntries(Object.entries(help).map(([name, text]) => [name, { code: `ENRICHBOT_ERR_${name}`, help: text }])) as never;
}

export class EnrichbotError extends Error {
  readonly code: ErrorCode;
  /** Further problems reported together (start-up collects all of them before failing). */
  readonly problems: string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; problems?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnrichbotError';
    this.code = code;
    this.problems = options.problems ?? [message];
  }
}

export function isEnrichbotError(err: unknown, code?: ErrorCode): err is EnrichbotError {
  return err instanceof EnrichbotError && (code === undefined || err.code === code);
}

/** A list of problems gathered across config and plugins, thrown together so start-up shows all. */
export class StartupError extends EnrichbotError {
  readonly issues: { code: ErrorCode; message: string }[];
  constructor(issues: { code: ErrorCode; message: string }[]) {
    super(issues[0]?.code ?? ErrorCodes.STARTUP_FAILED, issues.map((i) => i.message).join('\n'), {
      problems: issues.map((i) => i.message),
    });
    this.name = 'StartupError';
    this.issues = issues;
  }
  get codes(): ErrorCode[] {
    return this.issues.map((i) => i.code);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
