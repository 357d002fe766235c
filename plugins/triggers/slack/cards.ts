// Block Kit messages: one card per prospect, the lookalikes card, the batch progress text.
// Every string from a provider or a user goes through escapeMrkdwn before it reaches mrkdwn.
// Nothing long is cut: a field too long for a field goes to sections of its own, long text is
// split across sections, and a card over 50 blocks is posted as several messages.
import { evidenceLine, personForCard, type BatchStatus, type JobResult, type RecordView } from '../../../src/sdk/index.js';
import { context, fieldSections, section, textSections, MAX_BUTTON_VALUE, MAX_FIELD_TEXT, type Block } from './block-limits.js';
import { fieldText, labelOf } from './card-values.js';
import { clip, escapeMrkdwn } from './mrkdwn.js';

/** What a card's buttons carry back: the subject and the job (workspace comes from the click). */
export interface CardRef {
  s: string;
  j: string;
}

/** Fields shown elsewhere on the card, or not as a line. */
const OWN_PLACE = new Set(['summary', 'lookalikes', 'workEmailStatus', 'webMentions']);

export const slackDate = (iso: string) => `<!date^${Math.floor(new Date(iso).getTime() / 1000)}^{date_short_pretty} at {time}|${new Date(iso).toUTCString()}>`;

/** A record's fields: short ones side by side (fields), long ones (a technology list) as their own sections. */
function recordBlocks(title: string, rec: RecordView | undefined, now: Date): Block[] {
  const texts = recordFields(rec, now);
  if (!texts.length) return [];
  const short = texts.filter((t) => t.length <= MAX_FIELD_TEXT);
  const long = texts.filter((t) => t.length > MAX_FIELD_TEXT);
  return [section(`*${title}*`), ...fieldSections(short), ...long.flatMap((t) => textSections(t))];
}

function recordFields(rec: RecordView | undefined, now: Date): string[] {
  if (!rec) return [];
  return Object.entries(rec.fields)
    .filter(([k]) => !OWN_PLACE.has(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, f]) => {
      // The email's verification status sits beside the address.
      const status = k === 'workEmail' ? rec.fields.workEmailStatus : undefined;
      return fieldText(labelOf(k), f, now, status ? ` (${escapeMrkdwn(String(status.value))})` : '');
    });
}

export function pausedText(resumeAt: string | undefined): string {
  return `:double_vertical_bar: Paused: a daily spend cap was reached.${resumeAt ? ` Resumes ${slackDate(resumeAt)}.` : ' It resumes when the cap resets.'}`;
}

export function resultCard(r: JobResult, now: Date): Block[] {
  const blocks: Block[] = [];
  const status = r.status === 'done' ? '' : ` · ${r.status}`;
  blocks.push(section(`*${escapeMrkdwn(r.display)}*${status} · cost $${r.costUsd.toFixed(4)}`));
  if (r.status === 'paused') blocks.push(section(pausedText(r.resumeAt)));
  if (r.error) blocks.push(section(`:warning: ${escapeMrkdwn(r.error)}`));
  if (r.fromRecord) blocks.push(context('Already enriched recently: shown from the record, no provider was asked. Press Refresh to ask again.'));
  const person = recordBlocks('Person', personForCard(r), now);
  const company = recordBlocks('Company', r.company, now);
  blocks.push(...person, ...company);
  const evidence = evidenceLine(r);
  if (evidence) blocks.push(context(escapeMrkdwn(evidence)));
  for (const [who, rec] of [['Person', r.person], ['Company', r.company]] as const) {
    const summary = rec?.fields.summary;
    if (summary) blocks.push(...textSections(`*${who} summary* _(${escapeMrkdwn(summary.provider)})_\n${escapeMrkdwn(summary.value)}`));
  }
  if (!person.length && !company.length && r.status === 'done') blocks.push(section('Nothing was found beyond what you gave.'));
  const lookalikes = r.company?.fields.lookalikes;
  if (lookalikes && Array.isArray(lookalikes.value)) blocks.push(...lookalikeBlocks(lookalikes.value as Lookalike[]));
  blocks.push(actions({ s: r.display, j: r.jobId }));
  return blocks;
}

interface Lookalike {
  domain: string;
  name?: string;
  reason: string;
  verified: boolean;
}

export function lookalikeBlocks(list: Lookalike[]): Block[] {
  if (!list.length) return [section('*Lookalikes*\nNo similar company was found.')];
  const lines = list.map((l) => `• *${escapeMrkdwn(l.name ?? l.domain)}* (${escapeMrkdwn(l.domain)}) ${l.verified ? ':white_check_mark: verified' : ':grey_question: unverified'}\n   ${escapeMrkdwn(l.reason)}`);
  // Several sections rather than one clipped one: each stays under 3,000 characters.
  return [section('*Lookalikes*'), ...textSections(lines.join('\n'))];
}

export function actions(ref: CardRef): Block {
  const value = clip(JSON.stringify(ref), MAX_BUTTON_VALUE);
  const button = (action_id: string, text: string, style?: string) => ({ type: 'button', action_id, text: { type: 'plain_text', text }, value, ...(style ? { style } : {}) });
  return {
    type: 'actions',
    block_id: 'enrich_actions',
    elements: [button('enrich_push', 'Push to HubSpot', 'primary'), button('enrich_lookalikes', 'Find lookalikes'), button('enrich_refresh', 'Refresh'), button('enrich_csv', 'Download CSV'), button('enrich_edit', 'Edit')],
  };
}

/** A 20-character text bar: "▓▓▓▓▓░░░░░...". */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `${'▓'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export function batchProgressText(s: BatchStatus): string {
  const finished = s.counts.done + s.counts.failed + s.counts.rejected + s.counts.cancelled;
  const pct = s.total ? Math.floor((finished / s.total) * 100) : 100;
  const lines = [
    `*${escapeMrkdwn(s.label ?? 'CSV')}*: ${s.state === 'done' ? 'finished' : s.state === 'cancelled' ? 'cancelled' : 'enriching'}`,
    `\`${progressBar(finished, s.total)}\` ${pct}% · ${finished.toLocaleString('en-US')} / ${s.total.toLocaleString('en-US')} rows · cost so far $${s.costUsd.toFixed(4)}`,
  ];
  const notes = [s.counts.failed && `${s.counts.failed} failed`, s.counts.rejected && `${s.counts.rejected} refused`, s.counts.cancelled && `${s.counts.cancelled} cancelled`].filter(Boolean);
  if (notes.length) lines.push(notes.join(' · '));
  if (s.counts.paused > 0 || s.state === 'paused') lines.push(pausedText(s.resumeAt));
  return lines.join('\n');
}
