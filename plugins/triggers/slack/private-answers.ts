// Answers meant for one person (usage, refused inputs, a button's outcome, errors) go as an
// ephemeral message; where Slack refuses it (the bot is not in the channel: channel_not_found,
// not_in_channel, or any other refusal), they go through the response_url Slack sent with the
// command or the click, so an answer never vanishes. A response_url takes up to five messages
// within 30 minutes (Slack docs: "Handling user interaction"); only Slack's hosts are posted to.
import type { WebClient } from '@slack/web-api';
import type { SlackRuntime } from './runtime.js';

export interface PrivateAddress {
  channel?: string;
  user?: string;
  responseUrl?: string;
}

const slackError = (err: unknown) => (err as { data?: { error?: string } }).data?.error ?? (err instanceof Error ? err.message : String(err));

/** An ephemeral message to `to.user`, or the same text through the response_url when Slack refuses it. */
export async function answerPrivately(rt: SlackRuntime, client: WebClient, to: PrivateAddress, text: string): Promise<void> {
  if (to.channel && to.user) {
    try {
      await client.chat.postEphemeral({ channel: to.channel, user: to.user, text });
      return;
    } catch (err) {
      if (!to.responseUrl) throw err;
      rt.ctx.logger.info({ channel: to.channel, error: slackError(err) }, 'Slack refused an ephemeral answer: sending it through the response_url');
    }
  }
  if (!to.responseUrl) throw new Error('no channel and no response_url to answer in');
  await postToResponseUrl(rt, to.responseUrl, { response_type: 'ephemeral', replace_original: false, text });
}

/** Posts to a command's or a click's response_url (Slack's hook host, or the configured API's host). */
export async function postToResponseUrl(rt: SlackRuntime, url: string, body: Record<string, unknown>): Promise<void> {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    throw new Error('the response_url Slack sent is not a URL');
  }
  const allowed = ['https://hooks.slack.com', 'https://hooks.slack-gov.com', new URL(rt.config.apiUrl).origin];
  if (!allowed.includes(origin)) throw new Error(`the response_url is not on Slack's host (${origin}); nothing was sent`);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), redirect: 'error', signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`Slack answered ${res.status} on the response_url`);
}

/** Whether Slack refused a post because the bot cannot write in that channel. */
export const isOutsideChannel = (err: unknown) => ['not_in_channel', 'channel_not_found'].includes((err as { data?: { error?: string } }).data?.error ?? '');
