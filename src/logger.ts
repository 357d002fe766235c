// JSON logs via pino; pretty only on a TTY. Every line is redacted before it is written (see
// redaction.ts): secret-looking keys at any depth and in any case, URL credentials and query
// strings in any value or message, also in child-logger bindings and errors.
import { pino, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { redactText, redactValue } from './redaction.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** 1 = stdout (servers), 2 = stderr (the CLI, so its stdout stays clean for --json). */
  fd?: 1 | 2;
  pretty?: boolean;
  /** Write here instead of fd (tests, embedding). */
  stream?: NodeJS.WritableStream;
}

function pinoOptions(level: string): PinoOptions {
  return {
    level,
    base: { app: 'enrichbot' },
    formatters: {
      log: (obj) => redactValue(obj) as Record<string, unknown>,
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
    },
    // `err` arrives already turned into a redacted plain object by formatters.log.
    serializers: { err: (e: unknown) => e },
    hooks: {
      logMethod(args, method) {
        const safe = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>;
        return method.apply(this, safe);
      },
    },
  };
}

/**
 * pino applies formatters.bindings to the root logger only; children inherit this `child`
 * (they are prototype copies), so every child's bindings are redacted too.
 */
function redactChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactValue(bindings) as typeof bindings, options);
  } as Logger['child'];
  return logger;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return redactChildBindings(buildLogger(options));
}

function buildLogger(options: LoggerOptions): Logger {
  const base = pinoOptions(options.level ?? 'info');
  if (options.stream) return pino(base, options.stream);
  const fd = options.fd ?? 1;
  const pretty = options.pretty ?? (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: fd, colorize: true } } });
  }
  return pino(base, pino.destination({ fd, sync: false }));
}

/** The same logger onto any stream. */
export function redactedLogger(stream: NodeJS.WritableStream, level = 'info'): Logger {
  return createLogger({ stream, level });
}
