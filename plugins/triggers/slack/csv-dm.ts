// A CSV shared with the bot in a direct message is enriched as one batch: downloaded from
// Slack (slack-files.ts), read by the platform's CSV reader (header detection, row limit), then
// the bot says which columns it uses, posts one progress message and submits the batch, which
// comes back through batchProgress (that message, updated) and deliverBatch (the enriched file).
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { BatchItem, CsvColumnMap } from '../../../src/plugin/service.js';
import { workspaceOf } from './config.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { batchProgressText } from './cards.js';
import { section } from './block-limits.js';
import type { SlackRuntime } from './runtime.js';
import { downloadSlackFile, SlackFileError } from './slack-files.js';

interface SharedFile {
  id: string;
  name?: string;
  filetype?: string;
  mimetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
}

const isCsv = (f: SharedFile) => f.filetype === 'csv' || /\.csv$/i.test(f.name ?? '') || f.mimetype === 'text/csv';

const COLUMN_LABELS: Record<keyof CsvColumnMap, string> = {
  email: 'email',
  domain: 'domain',
  linkedinUrl: 'LinkedIn URL',
  firstName: 'first name',
  lastName: 'last name',
  fullName: 'full name',
  companyName: 'company name',
};

export function registerCsvInDm(app: App, rt: SlackRuntime): void {
  app.event('message', async ({ event, body, client, context }) => {
    const m = event as unknown as { channel: string; channel_type?: string; user?: string; bot_id?: string; files?: SharedFile[]; subtype?: string };
    if (m.channel_type !== 'im' || m.bot_id || !m.user || !m.files?.length) return;
    const team = (body as { team_id?: string }).team_id ?? context.teamId;
    if (!team) return;
    for (const file of m.files) {
      // Slack retries events it thinks were missed: one file is read once.
      const first = await rt.ctx.redis.set(`csvfile:${team}:${file.id}`, '1', 'EX', 86_400, 'NX');
      if (first !== 'OK') continue;
      await enrichSharedCsv(rt, client, { team, channel: m.channel, user: m.user, file, token: context.botToken! }).catch(async (err) => {
        rt.ctx.logger.error({ err, file: file.id }, 'CSV from Slack failed');
        await say(rt, client, m.channel, `I could not enrich ${escapeMrkdwn(file.name ?? 'that file')}: ${escapeMrkdwn(err instanceof Error ? err.message : String(err))}`);
      });
    }
  });
}

const say = (rt: SlackRuntime, client: WebClient, channel: string, text: string) => rt.pacer.run(channel, () => client.chat.postMessage({ channel, text }));

async function enrichSharedCsv(rt: SlackRuntime, client: WebClient, opts: { team: string; channel: string; user: string; file: SharedFile; token: string }): Promise<void> {
  const { file, channel } = opts;
  const name = file.name ?? 'upload.csv';
  if (!isCsv(file)) {
    await say(rt, client, channel, `${escapeMrkdwn(name)} is not a CSV file. Send me a .csv with a header row (email, domain, LinkedIn URL, or first name, last name and company).`);
    return;
  }
  if ((file.size ?? 0) > rt.config.maxCsvBytes) {
    await say(rt, client, channel, `${escapeMrkdwn(name)} is ${file.size} bytes; I take CSV files up to ${rt.config.maxCsvBytes} bytes. Split it and send the parts.`);
    return;
  }
  const url = file.url_private_download ?? file.url_private;
  if (!url) throw new Error('Slack sent no download link for the file');
  let bytes: Buffer;
  try {
    bytes = await downloadSlackFile(url, { token: opts.token, apiUrl: rt.config.apiUrl, maxBytes: rt.config.maxCsvBytes });
  } catch (err) {
    if (err instanceof SlackFileError) {
      await say(rt, client, channel, `I did not read ${escapeMrkdwn(name)}: ${escapeMrkdwn(err.message)}.`);
      return;
    }
    throw err;
  }
  let read: Awaited<ReturnType<SlackRuntime['ctx']['csv']['read']>>;
  try {
    read = await rt.ctx.csv.read(bytes, { maxRows: rt.config.maxCsvRows, maxBytes: rt.config.maxCsvBytes });
  } catch (err) {
    await say(rt, client, channel, `I could not use ${escapeMrkdwn(name)}: ${escapeMrkdwn(err instanceof Error ? err.message : String(err))}`);
    return;
  }
  const recognised = (Object.entries(read.columns) as [keyof CsvColumnMap, string][]).map(([k, header]) => `${COLUMN_LABELS[k]} from \`${escapeMrkdwn(header)}\``);
  await say(rt, client, channel, `Got *${escapeMrkdwn(name)}*. Columns I use: ${recognised.join(', ') || 'none'}. The other columns are kept as they are in the file I send back.`);
  const progress = await rt.pacer.run(channel, () => client.chat.postMessage({ channel, text: `Queuing the rows of ${escapeMrkdwn(name)}…` }));
  const address = { team: opts.team, channel: (progress.channel as string | undefined) ?? channel, user: opts.user, ts: progress.ts as string };
  async function* items(): AsyncGenerator<BatchItem> {
    for await (const row of read.rows) {
      yield { input: row.input ?? '', columns: row.columns, problem: row.input ? row.problem : (row.problem ?? 'no email, domain, LinkedIn URL or name and company in this row') };
    }
  }
  const workspace = workspaceOf(opts.team);
  const submitted = await rt.ctx.service.submitBatch(items(), { trigger: 'slack', address }, { workspace, actor: opts.user, label: name, columns: read.headers });
  const status = await rt.ctx.service.status(submitted.batchId, workspace);
  if (status.kind === 'batch' && status.state !== 'done') {
    const text = `${batchProgressText(status)}\n${submitted.total.toLocaleString('en-US')} rows read${submitted.rejected.length ? `, ${submitted.rejected.length} refused (reasons in the file I send back)` : ''}.`;
    await client.chat.update({ channel: address.channel, ts: address.ts, text, blocks: [section(text)] as never });
  }
}
