// What the Slack trigger holds while it runs, per context (so two Apps in one process, as in
// tests, never share a client or a queue): config, Web API clients, the per-channel post queue.
import { z } from 'zod';
import type { WebClient } from '@slack/web-api';
import type { App } from '@slack/bolt';
import type { TriggerContext } from '../../../src/plugin/contract.js';
import type { ReplyTo } from '../../../src/plugin/service.js';
import type { SlackConfig } from './config.js';
import type { SlackClients } from './slack-clients.js';
import type { ChannelPacer } from './channel-pacer.js';
import { splitMessages, type Block } from './block-limits.js';

export interface SlackRuntime {
  ctx: TriggerContext<SlackConfig>;
  config: SlackConfig;
  clients: SlackClients;
  pacer: ChannelPacer;
  bolt?: App;
  stopSocket?: () => Promise<void>;
}

/** Where a result goes back to: the team, the channel, who asked; for a CSV, the progress message. */
export const SlackAddressSchema = z.object({
  team: z.string().min(1),
  channel: z.string().min(1),
  user: z.string().optional(),
  responseUrl: z.string().optional(),
  /** The message to update (a CSV's progress message). */
  ts: z.string().optional(),
});
export type SlackAddress = z.infer<typeof SlackAddressSchema>;

export function addressOf(replyTo: ReplyTo): SlackAddress {
  return SlackAddressSchema.parse(replyTo.address);
}

/** Posts blocks as one or more messages (50 blocks each), paced per channel. Returns the first message. */
export async function postBlocks(rt: SlackRuntime, client: WebClient, channel: string, text: string, blocks: Block[], extra: Record<string, unknown> = {}): Promise<{ channel: string; ts?: string }> {
  let first: { channel: string; ts?: string } | undefined;
  for (const chunk of splitMessages(blocks)) {
    const res = await rt.pacer.run(channel, () => client.chat.postMessage({ channel, text, blocks: chunk as never, unfurl_links: false, unfurl_media: false, ...extra }));
    first ??= { channel: (res.channel as string | undefined) ?? channel, ts: res.ts as string | undefined };
  }
  return first ?? { channel };
}

export const today = (rt: SlackRuntime) => rt.ctx.clock.now().toISOString().slice(0, 10);
