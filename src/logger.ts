// JSON logs via pino; pretty only on a TTY. Secrets are redacted by key name wherever they sit.
import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = [
  'apiKey', 'api_key', 'token', 'accessToken', 'access_token', 'authorization', 'Authorization',
  'password', 'secret', 'signingSecret', 'clientSecret', 'botToken', 'appToken', 'x-api-key',
  'X-API-Key', 'X-KEY', 'x-key', 'X-TOKEN', 'cookie',
];

function redactPaths(): string[] {
  return SECRET_KEYS.flatMap((k) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`;
    const top = key.startsWith('.') ? key.slice(1) : key;
    return [top, `*${key}`, `*.*${key}`, `*.*.*${key}`];
  });
}

export interface LoggerOptions {
  level?: string;
  /** 1 = stdout (servers), 2 = stderr (the CLI, so its stdout stays clean for --json). */
  fd?: 1 | 2;
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 1;
  const pretty = options.pretty ?? (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY);
  const base = {
    level: options.level ?? 'info',
    base: { app: 'enrichbot' },
    redact: { paths: redactPaths(), censor: '[redacted]' },
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: fd, colorize: true } } });
  }
  return pino(base, pino.destination({ fd, sync: false }));
}

export const SECRET_KEY_NAMES: readonly string[] = SECRET_KEYS;

/** The same redaction onto any stream (tests, embedding). */
export function redactedLogger(stream: NodeJS.WritableStream, level = 'info'): Logger {
  return pino({ level, redact: { paths: redactPaths(), censor: '[redacted]' } }, stream);
}
