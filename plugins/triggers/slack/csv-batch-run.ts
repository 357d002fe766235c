// Runs a CSV's rows as one batch: one progress message (later updated by batchProgress), the
// batch submitted, and the estimate made before it kept on the batch record (for the digest) and
// in the plugin's Redis (for the finished message's estimate-vs-actual line).
import type { WebClient } from '@slack/web-api';
import type { BatchEstimate, BatchItem } from '../../../src/sdk/index.js';
import { workspaceOf } from './config.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { batchProgressText } from './cards.js';
import { section } from './block-limits.js';
import { postMessage } from './bot-posts.js';
import { rememberEstimate } from './estimate-text.js';
import type { SlackAddress, SlackRuntime } from './runtime.js';

/** A read CSV waiting to run (kept in Redis while its Run / Cancel question is open). */
export interface CsvBatch {
  to: SlackAddress;
  name: string;
  headers: string[];
  items: BatchItem[];
  estimate: BatchEstimate;
}

export async function runCsvBatch(rt: SlackRuntime, client: WebClient, batch: CsvBatch): Promise<void> {
  const { to, name } = batch;
  const progress = await postMessage(rt, client, to.team, { channel: to.channel, text: `Queuing the rows of ${escapeMrkdwn(name)}…`, ...(to.threadTs ? { thread_ts: to.threadTs } : {}) });
  const address: SlackAddress = { ...to, channel: progress.channel ?? to.channel, ts: progress.ts };
  const workspace = workspaceOf(to.team);
  const submitted = await rt.ctx.service.submitBatch(batch.items, { trigger: 'slack', address }, { workspace, actor: to.user, label: name, columns: batch.headers });
  await Promise.all([rt.ctx.service.keepEstimate(submitted.batchId, batch.estimate), rememberEstimate(rt, submitted.batchId, batch.estimate)]);
  const status = await rt.ctx.service.status(submitted.batchId, workspace);
  if (status.kind === 'batch' && status.state !== 'done' && address.ts) {
    const text = `${batchProgressText(status)}\n${submitted.total.toLocaleString('en-US')} rows read${submitted.rejected.length ? `, ${submitted.rejected.length} refused (reasons in the file I send back)` : ''}.`;
    await client.chat.update({ channel: address.channel, ts: address.ts, text, blocks: [section(text)] as never });
  }
}
