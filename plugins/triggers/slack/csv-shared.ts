// A CSV shared with the bot, in a DM or in a thread under one of the bot's own messages, is
// enriched as one batch: downloaded from Slack (slack-files.ts), read by the platform's CSV
// reader (header detection, row limit), then the bot says which columns it uses, posts one
// progress message and submits the batch (a batch whose worst-case estimate is above
// service.batch.confirmAboveUsd first asks Run / Cancel: batch-confirm.ts), which comes back through batchProgress (that message,
// updated) and deliverBatch (the enriched file), in the same DM or thread.
//
// Two events can announce one file: `message` (subtype file_share; DMs through message.im) and
// `file_shared` (any conversation the bot is in; needs files:read and files.info). Both apply the
// same rules, and a Redis SET NX on the file id lets exactly one of them (and one of Slack's
// retries) read it.
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { BatchItem, CsvColumnMap } from '../../../src/sdk/index.js';
import { workspaceOf } from './config.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { askBeforeRunning } from './batch-confirm.js';
import { runCsvBatch, type CsvBatch } from './csv-batch-run.js';
import { hasBotPosted, isBotThread, postMessage } from './bot-posts.js';
import type { SlackAddress, SlackRuntime } from './runtime.js';
import { downloadSlackFile, SlackFileError } from './slack-files.js';

interface SharedFile {
  id: string;
  name?: string;
  filetype?: string;
  mimetype?: string;
  size?: number;
  user?: string;
  url_private?: string;
  url_private_download?: string;
  /** Slack Connect: the event carries only the id; files.info has the rest. */
  file_access?: string;
  ims?: string[];
  shares?: Record<'public' | 'private', Record<string, { ts?: string; thread_ts?: string }[]> | undefined>;
}

/** Where and by whom a file was shared. */
interface Share {
  team: string;
  channel: string;
  user: string;
  isIm: boolean;
  /** Set when the file was shared as a reply in a thread. */
  threadTs?: string;
  /** Who wrote the thread's parent, when the event says (message events do). */
  parentUserId?: string;
}

interface BotIdentity {
  token: string;
  botUserId?: string;
  botId?: string;
}

const isCsv = (f: SharedFile) => f.filetype === 'csv' || /\.csv$/i.test(f.name ?? '') || f.mimetype === 'text/csv';
const CLAIM_SECONDS = 86_400;
const claimKey = (team: string, fileId: string) => `csvfile:${team}:${fileId}`;

const COLUMN_LABELS: Record<keyof CsvColumnMap, string> = {
  email: 'email',
  domain: 'domain',
  linkedinUrl: 'LinkedIn URL',
  firstName: 'first name',
  lastName: 'last name',
  fullName: 'full name',
  companyName: 'company name',
};

export function registerSharedCsv(app: App, rt: SlackRuntime): void {
  app.event('message', async ({ event, body, client, context }) => {
    const m = event as unknown as { channel: string; channel_type?: string; user?: string; bot_id?: string; files?: SharedFile[]; ts?: string; thread_ts?: string; parent_user_id?: string };
    if (m.bot_id || !m.user || m.user === context.botUserId || !m.files?.length) return;
    const team = (body as { team_id?: string }).team_id ?? context.teamId;
    if (!team || !context.botToken) return;
    const inThread = m.thread_ts && m.thread_ts !== m.ts ? m.thread_ts : undefined;
    const share: Share = { team, channel: m.channel, user: m.user, isIm: m.channel_type === 'im', threadTs: inThread, parentUserId: m.parent_user_id };
    const bot: BotIdentity = { token: context.botToken, botUserId: context.botUserId, botId: context.botId };
    for (const file of m.files) await takeFile(rt, client, bot, share, file);
  });

  app.event('file_shared', async ({ event, body, client, context }) => {
    const e = event as unknown as { channel_id?: string; file_id?: string; file?: { id?: string }; user_id?: string; event_ts?: string };
    const fileId = e.file_id ?? e.file?.id;
    const team = (body as { team_id?: string }).team_id ?? context.teamId;
    if (!fileId || !e.channel_id || !e.user_id || !team || !context.botToken || e.user_id === context.botUserId) return;
    // Already taken through the message event (or an earlier delivery of this one): no files.info.
    if ((await rt.ctx.redis.exists(claimKey(team, fileId))) === 1) return;
    // Outside DMs only threads under the bot's messages count: a channel it never posted in has none.
    if (!e.channel_id.startsWith('D') && !(await hasBotPosted(rt, team, e.channel_id))) return;
    const info = await client.files.info({ file: fileId });
    const file = info.file as SharedFile | undefined;
    if (!file) return;
    const share: Share = { team, channel: e.channel_id, user: e.user_id, isIm: e.channel_id.startsWith('D') || !!file.ims?.includes(e.channel_id), threadTs: threadOf(file, e.channel_id, e.event_ts) };
    await takeFile(rt, client, { token: context.botToken, botUserId: context.botUserId, botId: context.botId }, share, file);
  });
}

/** The thread a file was shared in, from files.info's shares (the share at the event's ts, or the latest). */
function threadOf(file: SharedFile, channel: string, eventTs?: string): string | undefined {
  const list = file.shares?.public?.[channel] ?? file.shares?.private?.[channel] ?? [];
  const share = list.find((s) => s.ts === eventTs) ?? [...list].sort((a, b) => Number(b.ts ?? 0) - Number(a.ts ?? 0))[0];
  return share?.thread_ts && share.thread_ts !== share.ts ? share.thread_ts : undefined;
}

/** DMs always; elsewhere only a reply in a thread under the bot's own message. */
async function isForTheBot(rt: SlackRuntime, share: Share, bot: BotIdentity): Promise<boolean> {
  if (share.isIm) return true;
  if (!share.threadTs) return false;
  return isBotThread(rt, { team: share.team, channel: share.channel, threadTs: share.threadTs, parentUserId: share.parentUserId, botUserId: bot.botUserId });
}

async function takeFile(rt: SlackRuntime, client: WebClient, bot: BotIdentity, share: Share, announced: SharedFile): Promise<void> {
  // The bot's own uploads (the enriched CSV it sends back) are never read again.
  if (announced.user && announced.user === bot.botUserId) return;
  if (!(await isForTheBot(rt, share, bot))) return;
  // Slack retries events it thinks were missed, and file_shared may follow the message event.
  if ((await rt.ctx.redis.set(claimKey(share.team, announced.id), '1', 'EX', CLAIM_SECONDS, 'NX')) !== 'OK') return;
  const to: SlackAddress = { team: share.team, channel: share.channel, user: share.user, threadTs: share.threadTs };
  try {
    const file = announced.url_private_download || announced.url_private ? announced : (((await client.files.info({ file: announced.id })).file as SharedFile | undefined) ?? announced);
    if (file.user && file.user === bot.botUserId) return;
    await enrichSharedCsv(rt, client, to, file, bot.token);
  } catch (err) {
    rt.ctx.logger.error({ err, file: announced.id }, 'CSV from Slack failed');
    await say(rt, client, to, `I could not enrich ${escapeMrkdwn(announced.name ?? 'that file')}: ${escapeMrkdwn(err instanceof Error ? err.message : String(err))}`);
  }
}

const say = (rt: SlackRuntime, client: WebClient, to: SlackAddress, text: string) => postMessage(rt, client, to.team, { channel: to.channel, text, ...(to.threadTs ? { thread_ts: to.threadTs } : {}) });

async function enrichSharedCsv(rt: SlackRuntime, client: WebClient, to: SlackAddress, file: SharedFile, token: string): Promise<void> {
  const name = file.name ?? 'upload.csv';
  if (!isCsv(file)) {
    await say(rt, client, to, `${escapeMrkdwn(name)} is not a CSV file. Send me a .csv with a header row (email, domain, LinkedIn URL, or first name, last name and company).`);
    return;
  }
  if ((file.size ?? 0) > rt.config.maxCsvBytes) {
    await say(rt, client, to, `${escapeMrkdwn(name)} is ${file.size} bytes; I take CSV files up to ${rt.config.maxCsvBytes} bytes. Split it and send the parts.`);
    return;
  }
  const url = file.url_private_download ?? file.url_private;
  if (!url) throw new Error('Slack sent no download link for the file');
  let bytes: Buffer;
  try {
    bytes = await downloadSlackFile(url, { token, apiUrl: rt.config.apiUrl, maxBytes: rt.config.maxCsvBytes });
  } catch (err) {
    if (err instanceof SlackFileError) {
      await say(rt, client, to, `I did not read ${escapeMrkdwn(name)}: ${escapeMrkdwn(err.message)}.`);
      return;
    }
    throw err;
  }
  let read: Awaited<ReturnType<SlackRuntime['ctx']['csv']['read']>>;
  try {
    read = await rt.ctx.csv.read(bytes, { maxRows: rt.config.maxCsvRows, maxBytes: rt.config.maxCsvBytes });
  } catch (err) {
    await say(rt, client, to, `I could not use ${escapeMrkdwn(name)}: ${escapeMrkdwn(err instanceof Error ? err.message : String(err))}`);
    return;
  }
  const recognised = (Object.entries(read.columns) as [keyof CsvColumnMap, string][]).map(([k, header]) => `${COLUMN_LABELS[k]} from \`${escapeMrkdwn(header)}\``);
  await say(rt, client, to, `Got *${escapeMrkdwn(name)}*. Columns I use: ${recognised.join(', ') || 'none'}. The other columns are kept as they are in the file I send back.`);
  // All rows in hand (at most maxCsvRows): the estimate needs them, and so may a later Run.
  const items: BatchItem[] = [];
  for await (const row of read.rows) {
    items.push({ input: row.input ?? '', columns: row.columns, problem: row.input ? row.problem : (row.problem ?? 'no email, domain, LinkedIn URL or name and company in this row') });
  }
  const estimate = await rt.ctx.service.estimate(items, { workspace: workspaceOf(to.team) });
  const batch: CsvBatch = { to, name, headers: read.headers, items, estimate };
  const threshold = rt.ctx.service.batchConfirmAboveUsd();
  if (estimate.worstUsd > threshold) {
    await askBeforeRunning(rt, client, batch, threshold);
    return;
  }
  await runCsvBatch(rt, client, batch);
}
