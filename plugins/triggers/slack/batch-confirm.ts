// A CSV (or a `/enrich` with many inputs) whose worst-case estimate is above the service's
// `service.batch.confirmAboveUsd` asks first: the estimate with Run and Cancel buttons. The rows
// wait in the plugin's Redis (a day); only the person who shared the file (or typed the command)
// may press either button (anyone else is told so, privately); GETDEL hands the rows to exactly
// one click, so a double click runs it once.
import { randomBytes } from 'node:crypto';
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { section } from './block-limits.js';
import { postMessage } from './bot-posts.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { answerPrivately } from './private-answers.js';
import { estimateText } from './estimate-text.js';
import { runCsvBatch, type CsvBatch } from './csv-batch-run.js';
import { submitAll } from './submit-inputs.js';
import type { BatchEstimate } from '../../../src/sdk/index.js';
import type { SlackAddress, SlackRuntime } from './runtime.js';
import { isOutsideChannel, postToResponseUrl } from './private-answers.js';

/** The inputs of one `/enrich` waiting for Run (each runs as its own job, as /enrich does). */
export interface CommandInputs {
  kind: 'inputs';
  to: SlackAddress;
  name: string;
  inputs: string[];
  refresh: boolean;
  estimate: BatchEstimate;
}
type Pending = (CsvBatch & { kind?: 'csv' }) | CommandInputs;

const WAIT_SECONDS = 86_400;
const pendingKey = (team: string, id: string) => `csv-confirm:${team}:${id}`;
const Value = z.object({ p: z.string().regex(/^[a-f0-9]{24}$/) });

/** Posts the estimate with Run / Cancel and keeps the rows until a button is pressed. */
export async function askBeforeRunning(rt: SlackRuntime, client: WebClient, batch: Pending, thresholdUsd: number): Promise<void> {
  const id = randomBytes(12).toString('hex');
  await rt.ctx.redis.set(pendingKey(batch.to.team, id), JSON.stringify(batch), 'EX', WAIT_SECONDS);
  const text = estimateText(batch.name, batch.estimate, thresholdUsd, batch.to.user);
  const value = JSON.stringify({ p: id });
  const blocks = [
    section(text),
    {
      type: 'actions',
      block_id: 'csv_confirm',
      elements: [
        { type: 'button', action_id: 'csv_run', style: 'primary', text: { type: 'plain_text', text: 'Run' }, value },
        { type: 'button', action_id: 'csv_cancel', text: { type: 'plain_text', text: 'Cancel' }, value },
      ],
    },
  ];
  try {
    await postMessage(rt, client, batch.to.team, { channel: batch.to.channel, text, ...(batch.to.threadTs ? { thread_ts: batch.to.threadTs } : {}), blocks: blocks as never });
  } catch (err) {
    // A /enrich in a channel the bot is not in: the command's response_url still reaches it.
    if (!batch.to.responseUrl || !isOutsideChannel(err)) throw err;
    await postToResponseUrl(rt, batch.to.responseUrl, { response_type: 'in_channel', replace_original: false, text, blocks });
  }
}

export function registerBatchConfirm(app: App, rt: SlackRuntime): void {
  const on = (actionId: 'csv_run' | 'csv_cancel') =>
    app.action<BlockAction<ButtonAction>>({ action_id: actionId, type: 'block_actions' }, async ({ ack, body, action, client }) => {
      await ack();
      const team = body.team?.id ?? body.user.team_id;
      const parsed = Value.safeParse(safeJson(action.value));
      const channel = body.channel?.id ?? body.container?.channel_id;
      const ts = body.message?.ts ?? body.container?.message_ts;
      if (!team || !parsed.success) return;
      const who = { channel, user: body.user.id, responseUrl: body.response_url || undefined };
      const key = pendingKey(team, parsed.data.p);
      const raw = await rt.ctx.redis.get(key);
      if (!raw) {
        await answerPrivately(rt, client, who, 'That CSV was already run or cancelled (or waited more than a day): share it again to start over.');
        return;
      }
      const batch = JSON.parse(raw) as Pending;
      if (batch.to.user && batch.to.user !== body.user.id) {
        await answerPrivately(rt, client, who, `Only <@${escapeMrkdwn(batch.to.user)}>, who ${batch.kind === 'inputs' ? 'asked for' : 'shared'} ${escapeMrkdwn(batch.name)}, can run or cancel it.`);
        return;
      }
      // Exactly one click takes the rows.
      if (!(await rt.ctx.redis.getdel(key))) return;
      const done = actionId === 'csv_run' ? `Running *${escapeMrkdwn(batch.name)}* (at most $${batch.estimate.worstUsd.toFixed(2)}).` : `Cancelled *${escapeMrkdwn(batch.name)}*: nothing was run and nothing was spent.`;
      await replaceQuestion(rt, client, { channel, ts, responseUrl: who.responseUrl }, done).catch((err: unknown) => rt.ctx.logger.warn({ err }, 'could not update the Run / Cancel message'));
      if (actionId === 'csv_run') {
        try {
          if (batch.kind === 'inputs') await submitAll(rt, client, batch.to, batch.inputs, { refresh: batch.refresh });
          else await runCsvBatch(rt, client, batch);
        } catch (err) {
          rt.ctx.logger.error({ err }, 'confirmed CSV batch failed to start');
          await answerPrivately(rt, client, who, `I could not start ${escapeMrkdwn(batch.name)}: ${escapeMrkdwn(err instanceof Error ? err.message : String(err))}`);
        }
      }
    });
  on('csv_run');
  on('csv_cancel');
}

/** The question becomes its answer (no buttons): chat.update, or the click's response_url where the bot is not in the channel. */
async function replaceQuestion(rt: SlackRuntime, client: WebClient, at: { channel?: string; ts?: string; responseUrl?: string }, text: string): Promise<void> {
  if (at.channel && at.ts) {
    try {
      await client.chat.update({ channel: at.channel, ts: at.ts, text, blocks: [section(text)] as never });
      return;
    } catch (err) {
      if (!at.responseUrl) throw err;
    }
  }
  if (at.responseUrl) await postToResponseUrl(rt, at.responseUrl, { replace_original: true, text });
}

function safeJson(s: string | undefined): unknown {
  try {
    return JSON.parse(s ?? '');
  } catch {
    return undefined;
  }
}
