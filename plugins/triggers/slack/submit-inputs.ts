// Each /enrich input (or a card's Refresh) submitted as its own job; the ones the service refuses
// come back in one ephemeral message with the reason, and the valid ones still run.
import type { WebClient } from '@slack/web-api';
import type { FieldGroup } from '../../../src/sdk/index.js';
import { workspaceOf } from './config.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { answerPrivately } from './private-answers.js';
import type { SlackAddress, SlackRuntime } from './runtime.js';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Submits each input; refused ones are listed back in one ephemeral message (or through the response_url). */
export async function submitAll(rt: SlackRuntime, client: WebClient, address: SlackAddress, inputs: string[], opts: { refresh?: boolean; groups?: FieldGroup[] }): Promise<{ refused: { input: string; reason: string }[] }> {
  const refused: { input: string; reason: string }[] = [];
  for (const input of inputs) {
    try {
      await rt.ctx.service.submit({ workspace: workspaceOf(address.team), input, actor: address.user, refresh: opts.refresh, groups: opts.groups }, { trigger: 'slack', address });
    } catch (err) {
      refused.push({ input, reason: errorText(err) });
    }
  }
  if (refused.length) {
    const lines = refused.map((r) => `• \`${escapeMrkdwn(r.input)}\`: ${escapeMrkdwn(r.reason)}`);
    const ran = inputs.length - refused.length;
    await answerPrivately(rt, client, address, `I could not use ${plural(refused.length, 'input')}${ran ? ` (the other ${ran} are running)` : ''}:\n${lines.join('\n')}`.slice(0, 3900));
  }
  return { refused };
}
