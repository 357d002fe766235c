// `/enrich`: acknowledged at once with an ephemeral "Enriching N…" (Slack waits 3 s), then each
// input goes to the service (many inputs whose worst case is above service.batch.confirmAboveUsd
// ask Run / Cancel first); the ones it refuses come back in one ephemeral message with the
// reason, and the valid ones still run. Results arrive later through deliver(). Every answer to the
// person is in the ack body or, later, ephemeral with the command's response_url as fallback
// (private-answers.ts): in a channel the bot is not in, Slack refuses its ephemeral messages.
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { workspaceOf } from './config.js';
import { HELP_TEXT, parseCommand } from './command-text.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { usageText } from './usage.js';
import { answerPrivately } from './private-answers.js';
import { today, type SlackAddress, type SlackRuntime } from './runtime.js';
import { plural, submitAll } from './submit-inputs.js';
import { askBeforeRunning } from './batch-confirm.js';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** How long an answer may take to go in the ack body; Slack gives up on the ack after 3 s. */
const ACK_BUDGET_MS = 2000;

/** `answer` if it settles within the ack budget, else undefined (it goes on). */
async function withinAckBudget<T>(answer: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ACK_BUDGET_MS, undefined)));
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerEnrichCommand(app: App, rt: SlackRuntime): void {
  // A command pointed at this app by mistake gets an answer instead of Slack's time-out error.
  app.command(/^\/(?!enrich)/, async ({ command, ack }) => {
    await ack({ response_type: 'ephemeral', text: `I do not know ${escapeMrkdwn(command.command)}; try /enrich help.` });
  });
  app.command(/^\/enrich/, async ({ command, ack: slackAck, client }) => {
    const address: SlackAddress = { team: command.team_id, channel: command.channel_id, user: command.user_id, responseUrl: command.response_url };
    let acked = false;
    const ack = (body?: { response_type: 'ephemeral'; text: string }) => {
      acked = true;
      return body ? slackAck(body) : slackAck();
    };
    const say = (text: string) => (acked ? answerPrivately(rt, client, address, text) : ack({ response_type: 'ephemeral', text }));
    try {
      await answerCommand(rt, client, command.text ?? '', address, ack, say);
    } catch (err) {
      rt.ctx.logger.error({ err, team: command.team_id }, '/enrich failed');
      await say(`That did not work: ${escapeMrkdwn(errorText(err))}`).catch((e: unknown) => rt.ctx.logger.error({ err: e }, 'could not tell the person /enrich failed'));
    }
  });
}

async function answerCommand(rt: SlackRuntime, client: WebClient, text: string, address: SlackAddress, ack: (body?: { response_type: 'ephemeral'; text: string }) => Promise<void>, say: (text: string) => Promise<void>): Promise<void> {
  const parsed = parseCommand(text, rt.config.maxInputs);
  switch (parsed.kind) {
    case 'help':
      return say(HELP_TEXT);
    case 'missing':
      return say(`Please give ${parsed.what}.`);
    case 'too_many':
      return say(`That is ${parsed.count} inputs; /enrich takes up to ${rt.config.maxInputs} at once. Send the rest in another /enrich, or send me a CSV in a direct message.`);
    case 'usage': {
      const usage = rt.ctx.service.spend(today(rt), workspaceOf(address.team)).then(usageText);
      const inTime = await withinAckBudget(usage);
      if (inTime !== undefined) return say(inTime);
      await ack();
      return say(await usage);
    }
    case 'lookalikes':
      await say(`Finding companies like ${escapeMrkdwn(parsed.input)}…`);
      await submitAll(rt, client, address, [parsed.input], { groups: ['companyProfile', 'lookalikes'] });
      return;
    case 'refresh':
    case 'enrich': {
      const refresh = parsed.kind === 'refresh';
      if (parsed.inputs.length > 1 && (await askedFirst(rt, client, address, parsed.inputs, refresh, ack, say))) return;
      await say(`Enriching ${plural(parsed.inputs.length, 'input')}…`);
      await submitAll(rt, client, address, parsed.inputs, { refresh });
      return;
    }
  }
}

/**
 * Many inputs are priced first (no paid call); above service.batch.confirmAboveUsd they wait for
 * Run / Cancel (batch-confirm.ts) and this returns true. The price goes in the ack when it is quick.
 */
async function askedFirst(rt: SlackRuntime, client: WebClient, address: SlackAddress, inputs: string[], refresh: boolean, ack: () => Promise<void>, say: (text: string) => Promise<void>): Promise<boolean> {
  const pricing = rt.ctx.service.estimate(inputs.map((input) => ({ input })), { workspace: workspaceOf(address.team), refresh });
  let estimate = await withinAckBudget(pricing);
  if (estimate === undefined) {
    await ack();
    estimate = await pricing;
  }
  const threshold = rt.ctx.service.batchConfirmAboveUsd();
  if (estimate.worstUsd <= threshold) return false;
  await say(`These ${plural(inputs.length, 'input')} may cost up to $${estimate.worstUsd.toFixed(2)}: press Run to enrich them, or Cancel.`);
  await askBeforeRunning(rt, client, { kind: 'inputs', to: address, name: `${plural(inputs.length, 'input')} from /enrich`, inputs, refresh, estimate }, threshold);
  return true;
}
