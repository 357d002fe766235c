// `/enrich`: acknowledged at once with an ephemeral "Enriching N…" (Slack waits 3 s), then each
// input goes to the service; the ones it refuses come back in one ephemeral message with the
// reason, and the valid ones still run. Results arrive later through deliver().
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { workspaceOf } from './config.js';
import { HELP_TEXT, parseCommand } from './command-text.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { usageText } from './usage.js';
import { today, type SlackAddress, type SlackRuntime } from './runtime.js';
import type { FieldGroup } from '../../../src/sdk/index.js';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function registerEnrichCommand(app: App, rt: SlackRuntime): void {
  // A command pointed at this app by mistake gets an answer instead of Slack's time-out error.
  app.command(/^\/(?!enrich)/, async ({ command, ack }) => {
    await ack({ response_type: 'ephemeral', text: `I do not know ${escapeMrkdwn(command.command)}; try /enrich help.` });
  });
  app.command(/^\/enrich/, async ({ command, ack, client }) => {
    const parsed = parseCommand(command.text ?? '', rt.config.maxInputs);
    const workspace = workspaceOf(command.team_id);
    const address: SlackAddress = { team: command.team_id, channel: command.channel_id, user: command.user_id, responseUrl: command.response_url };
    switch (parsed.kind) {
      case 'help':
        return ack({ response_type: 'ephemeral', text: HELP_TEXT });
      case 'missing':
        return ack({ response_type: 'ephemeral', text: `Please give ${parsed.what}.` });
      case 'too_many':
        return ack({ response_type: 'ephemeral', text: `That is ${parsed.count} inputs; /enrich takes up to ${rt.config.maxInputs} at once. Send the rest in another /enrich, or send me a CSV in a direct message.` });
      case 'usage': {
        await ack();
        const report = await rt.ctx.service.spend(today(rt), workspace);
        await client.chat.postEphemeral({ channel: command.channel_id, user: command.user_id, text: usageText(report) });
        return;
      }
      case 'lookalikes':
        await ack({ response_type: 'ephemeral', text: `Finding companies like ${escapeMrkdwn(parsed.input)}…` });
        await submitAll(rt, client, address, [parsed.input], { groups: ['companyProfile', 'lookalikes'] });
        return;
      case 'refresh':
      case 'enrich':
        await ack({ response_type: 'ephemeral', text: `Enriching ${plural(parsed.inputs.length, 'input')}…` });
        await submitAll(rt, client, address, parsed.inputs, { refresh: parsed.kind === 'refresh' });
        return;
    }
  });
}

/** Submits each input; refused ones are listed back in one ephemeral message. */
export async function submitAll(rt: SlackRuntime, client: WebClient, address: SlackAddress, inputs: string[], opts: { refresh?: boolean; groups?: FieldGroup[] }): Promise<{ refused: { input: string; reason: string }[] }> {
  const refused: { input: string; reason: string }[] = [];
  for (const input of inputs) {
    try {
      await rt.ctx.service.submit({ workspace: workspaceOf(address.team), input, actor: address.user, refresh: opts.refresh, groups: opts.groups }, { trigger: 'slack', address });
    } catch (err) {
      refused.push({ input, reason: errorText(err) });
    }
  }
  if (refused.length && address.user) {
    const lines = refused.map((r) => `• \`${escapeMrkdwn(r.input)}\`: ${escapeMrkdwn(r.reason)}`);
    const ran = inputs.length - refused.length;
    await client.chat.postEphemeral({
      channel: address.channel,
      user: address.user,
      text: `I could not use ${plural(refused.length, 'input')}${ran ? ` (the other ${ran} are running)` : ''}:\n${lines.join('\n')}`.slice(0, 3900),
    });
  }
  return { refused };
}
