// Starts the App for one CLI command and hands the command the CLI trigger's context: the
// command reaches the core through the EnrichService like every other trigger.
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { App } from '../app.js';
import { isEnrichbotError, StartupError, errorMessage } from '../errors.js';
import type { TriggerContext } from '../plugin/contract.js';
import { cliTriggerContext } from './cli-trigger.js';

export function fail(err: unknown, code = 1): never {
  if (err instanceof StartupError) {
    process.stderr.write(`enrichbot cannot start:\n${err.issues.map((i) => `  - ${i.message} [${i.code}]`).join('\n')}\n`);
  } else if (isEnrichbotError(err)) {
    process.stderr.write(`enrichbot: ${err.message} [${err.code}]\n`);
  } else {
    process.stderr.write(`enrichbot: ${errorMessage(err)}\n`);
  }
  process.exit(code);
}

/**
 * Runs `fn` with a started App (`worker`: this process also does the work, as a one-shot
 * `enrich` does by default; `client`: only queue and wait), then stops it and exits with the
 * code `fn` returns. `triggers`: other triggers a client-role command needs started (their context
 * is then `app.registry.context(id)`).
 */
export async function runWithApp(opts: { worker: boolean; triggers?: string[] }, fn: (ctx: TriggerContext, app: App) => Promise<number>): Promise<never> {
  let app: App | undefined;
  let code = 0;
  try {
    const config = loadConfig();
    const worker = opts.worker && config.role !== 'web';
    app = new App({ config, logger: createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, fd: 2 }), role: worker ? 'worker' : 'client', clientTriggers: opts.triggers });
    await app.start();
    code = await fn(cliTriggerContext(), app);
  } catch (err) {
    await app?.stop().catch(() => undefined);
    fail(err);
  }
  await app!.stop();
  process.exit(code);
}

/** The actor recorded in the activity log for CLI actions. */
export const cliActor = () => `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
