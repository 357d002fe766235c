// What the Slack trigger holds while it runs, per context (so two Apps in one process, as in
// tests, never share a client or a pacer): config, Web API clients, the per-channel post pacer.
import { z } from 'zod';
import type { WebClient } from '@slack/web-api';
import type { App } from '@slack/bolt';
import type { ReplyTo, TriggerContext } from '../../../src/sdk/index.js';
import type { SlackConfig } from './config.js';
import type { SlackClients } from './slack-clients.js';
import type { ChannelPacer } from './channel-pacer.js';
import { splitMessages, type Block } from './block-limits.js';
import { postMessage } from './bot-posts.js';

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
  /** The thread to answer in (a CSV shared in a thread under the bot's message). */
  threadTs: z.string().optional(),
});
export type SlackAddress = z.infer<typeof SlackAddressSchema>;

export function addressOf(replyTo: ReplyTo): SlackAddress {
  return SlackAddressSchema.parse(replyTo.address);
}

/** Posts blocks as one or more messages (50 blocks each), in order, paced per channel. Returns the first message. */
export async function postBlocks(rt: SlackRuntime, client: WebClient, to: { team?: string; channel: string; threadTs?: string }, text: string, blocks: Block[]): Promise<{ channel: string; ts?: string }> {
  let first: { channel: string; ts?: string } | undefined;
  for (const chunk of splitMessages(blocks)) {
    const res = await postMessage(rt, client, to.team, { channel: to.channel, text, blocks: chunk as never, unfurl_links: false, unfurl_media: false, ...(to.threadTs ? { thread_ts: to.threadTs } : {}) });
    first ??= { channel: res.channel ?? to.channel, ts: res.ts };
  }
  return first ?? { channel: to.channel };
}

export const today = (rt: SlackRuntime) => rt.ctx.clock.now().toISOString().slice(0, 10);
