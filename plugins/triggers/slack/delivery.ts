// Results back into Slack: a card per prospect (deliver), one progress message per CSV
// (batchProgress, chat.update), the enriched CSV (deliverBatch, streamed upload), and posts
// on another trigger's behalf (notify: the digest's text and chart). A card longer than one
// message (50 blocks) goes out as several, in order.
import type { WebClient } from '@slack/web-api';
import { EnrichbotError, ErrorCodes, type BatchResultRow, type BatchStatus, type JobResult, type NotifyMessage, type NotifyResult, type ReplyTo } from '../../../src/sdk/index.js';
import { section, splitMessages } from './block-limits.js';
import { postMessage } from './bot-posts.js';
import { batchProgressText, resultCard } from './cards.js';
import { workspaceOf } from './config.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { estimateVsActual, keptEstimate } from './estimate-text.js';
import { addressOf, postBlocks, type SlackRuntime } from './runtime.js';
import { uploadFile, uploadStreamedFile } from './slack-files.js';
import { isOutsideChannel, postToResponseUrl } from './private-answers.js';

const teamOfWorkspace = (ws?: string) => (ws?.startsWith('slack:') ? ws.slice('slack:'.length) : ws);

export async function deliverResult(rt: SlackRuntime, result: JobResult, replyTo: ReplyTo): Promise<void> {
  const to = addressOf(replyTo);
  const client = await rt.clients.forTeam(to.team);
  const text = `${result.display}: ${result.status}`;
  let viaResponseUrl = false;
  for (const blocks of splitMessages(resultCard(result, rt.ctx.clock.now()))) {
    if (!viaResponseUrl) {
      try {
        await postBlocks(rt, client, to, text, blocks);
        continue;
      } catch (err) {
        // The bot is not in that channel (a private channel, another's DM): the command's
        // response_url still reaches it, for this message and the rest of the card.
        if (!to.responseUrl || !isOutsideChannel(err)) throw err;
        viaResponseUrl = true;
      }
    }
    await postToResponseUrl(rt, to.responseUrl!, { response_type: 'in_channel', replace_original: false, text, blocks });
  }
}

export async function updateProgress(rt: SlackRuntime, status: BatchStatus, replyTo: ReplyTo): Promise<void> {
  const to = addressOf(replyTo);
  if (!to.ts) return;
  const client = await rt.clients.forTeam(to.team);
  // A finished batch says how good its estimate was.
  const kept = status.state === 'done' || status.state === 'cancelled' ? await keptEstimate(rt, status.batchId) : undefined;
  const text = `${batchProgressText(status)}${kept ? `\n${estimateVsActual(kept, status.costUsd)}` : ''}`;
  await client.chat.update({ channel: to.channel, ts: to.ts, text, blocks: [section(text)] as never });
}

export async function deliverCsv(rt: SlackRuntime, status: BatchStatus, replyTo: ReplyTo): Promise<void> {
  const to = addressOf(replyTo);
  await updateProgress(rt, status, replyTo);
  const client = await rt.clients.forTeam(to.team);
  const label = status.label ?? 'results.csv';
  const filename = `enriched-${label.replace(/\.csv$/i, '')}.csv`;
  let rows = 0;
  await uploadStreamedFile(client, rt.config.apiUrl, { channelId: to.channel, threadTs: to.threadTs, filename, initialComment: `Here is ${escapeMrkdwn(label)}, enriched.` }, async (out) => {
    rows = (await rt.ctx.csv.write(rt.ctx.service.results(status.batchId, status.workspace), out, { inputColumns: status.columns })).rows;
  });
  await rt.ctx.service.logActivity({ workspace: status.workspace, actor: to.user ?? 'slack', action: 'export', subject: status.batchId, detail: { rows, file: filename } });
  if (to.user) await rt.ctx.collection('last_exports').replaceOne({ _id: `${to.team}:${to.user}` as never }, { batchId: status.batchId, label, at: new Date() }, { upsert: true });
}

/** One prospect as a CSV file (the card's Download CSV button). */
export async function uploadJobCsv(rt: SlackRuntime, client: WebClient, opts: { team: string; channel: string; user: string; result: JobResult }): Promise<void> {
  const row: BatchResultRow = { index: 0, columns: { input: opts.result.display }, input: opts.result.display, status: opts.result.status === 'done' ? 'done' : 'failed', jobId: opts.result.jobId, result: opts.result };
  async function* one() {
    yield row;
  }
  const safeName = opts.result.display.replace(/[^\w.@-]+/g, '_').slice(0, 60);
  await uploadStreamedFile(client, rt.config.apiUrl, { channelId: opts.channel, filename: `enriched-${safeName}.csv` }, (out) => rt.ctx.csv.write(one(), out, { inputColumns: ['input'] }));
  await rt.ctx.service.logActivity({ workspace: workspaceOf(opts.team), actor: opts.user, action: 'export', subject: opts.result.display, detail: { jobId: opts.result.jobId } });
}

export async function notify(rt: SlackRuntime, message: NotifyMessage): Promise<NotifyResult> {
  const wanted = teamOfWorkspace(message.workspace);
  const token = await rt.clients.token(wanted);
  const team = wanted && token !== rt.config.botToken ? wanted : await rt.clients.teamOf(token);
  // SLACK_BOT_TOKEN belongs to one team: a message meant for another never lands there. (A team's
  // installation token is that team's by its lookup; an org-wide one names no single team.)
  if (wanted && team !== wanted) {
    rt.ctx.logger.warn({ workspace: message.workspace, tokenTeam: team }, 'notify refused: the Slack workspace it names is not one the bot is installed in');
    throw new EnrichbotError(ErrorCodes.PUSH_REFUSED, `enrichbot's Slack app is not installed in workspace ${message.workspace}, so nothing was posted there. Install it in that workspace (/slack/install) or name the workspace it is installed in.`);
  }
  const client = rt.clients.forToken(token);
  const posted = await postMessage(rt, client, team, { channel: message.channel, text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}), unfurl_links: false });
  const channel = posted.channel ?? message.channel;
  for (const f of message.files ?? []) {
    await uploadFile(client, rt.config.apiUrl, { channelId: channel, filename: f.filename, title: f.title ?? f.filename }, { content: f.content });
  }
  return { channel, ts: posted.ts };
}
