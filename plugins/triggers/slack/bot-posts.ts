// Every chat.postMessage of the bot goes through here: paced per channel across processes
// (channel-pacer.ts), and remembered in Redis for 90 days by channel and ts, so a CSV shared
// later in a thread is taken only when that thread hangs under one of the bot's own messages
// (the file_shared event names no parent; remembering avoids the channels:history scope).
import type { ChatPostMessageArguments, ChatPostMessageResponse, WebClient } from '@slack/web-api';
import type { SlackRuntime } from './runtime.js';

const REMEMBER_SECONDS = 90 * 86_400;
const botMessageKey = (team: string, channel: string, ts: string) => `botmsg:${team}:${channel}:${ts}`;
const botChannelKey = (team: string, channel: string) => `botchan:${team}:${channel}`;

export async function postMessage(rt: SlackRuntime, client: WebClient, team: string | undefined, args: ChatPostMessageArguments & { channel: string }): Promise<ChatPostMessageResponse> {
  rt.pacer.bind(client, team);
  const res = await rt.pacer.run(team, args.channel, () => client.chat.postMessage(args));
  if (team && res.ts) {
    const channel = res.channel ?? args.channel;
    await rt.ctx.redis.multi().set(botMessageKey(team, channel, res.ts), '1', 'EX', REMEMBER_SECONDS).set(botChannelKey(team, channel), '1', 'EX', REMEMBER_SECONDS).exec();
  }
  return res;
}

/** Has the bot posted in this channel (within the memory)? If not, no thread there can be its own. */
export async function hasBotPosted(rt: SlackRuntime, team: string, channel: string): Promise<boolean> {
  return (await rt.ctx.redis.exists(botChannelKey(team, channel))) === 1;
}

/**
 * Is `threadTs` in `channel` one of the bot's own messages? A message event says who wrote the
 * parent (`parent_user_id`); otherwise (file_shared) the bot's memory of what it posted decides.
 */
export async function isBotThread(rt: SlackRuntime, opts: { team: string; channel: string; threadTs: string; parentUserId?: string; botUserId?: string }): Promise<boolean> {
  if (opts.parentUserId && opts.botUserId) return opts.parentUserId === opts.botUserId;
  return (await rt.ctx.redis.exists(botMessageKey(opts.team, opts.channel, opts.threadTs))) === 1;
}
