// Operator alerts (a digest that could not be posted, a spend cap nearly reached): always a log
// line at error, then a post through every trigger in this process that can post (`notify`),
// each tried on its own, so an alert about Slack being down still reaches whatever else can post
// and the log. Never throws: raising an alert must not fail the caller a second time.
import type { Logger } from '../logger.js';
import type { NotifyMessage, NotifyResult } from '../plugin/contract.js';
import { errorMessage } from '../errors.js';

export interface AlertDeps {
  logger: Logger;
  /** Ids of the triggers running here that have `notify`, in config order. */
  notifiers(): string[];
  notifyVia(destination: string, message: NotifyMessage): Promise<NotifyResult>;
}

export interface AlertResult {
  /** Triggers that posted it. */
  posted: string[];
  /** Triggers that could not, with why. */
  failed: { trigger: string; error: string }[];
}

export async function raiseAlert(deps: AlertDeps, message: NotifyMessage): Promise<AlertResult> {
  deps.logger.error({ alert: message.text, channel: message.channel }, `alert: ${message.text}`);
  const out: AlertResult = { posted: [], failed: [] };
  for (const trigger of deps.notifiers()) {
    try {
      await deps.notifyVia(trigger, message);
      out.posted.push(trigger);
    } catch (err) {
      out.failed.push({ trigger, error: errorMessage(err) });
      deps.logger.error({ err, trigger }, `the alert could not be posted through ${trigger}`);
    }
  }
  if (!out.posted.length) deps.logger.error({ alert: message.text }, 'no trigger could post the alert: this log line is the only record of it');
  return out;
}
