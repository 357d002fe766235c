// The digest's content: one UTC day's report and the queue's health, as Slack blocks, a mrkdwn
// fallback text, and plain text for `enrichbot digest --dry-run`. Every string that came from a
// provider or a user (error samples, workspace ids, subjects) is escaped for mrkdwn.
import type { DailyReport, EnrichService, NotifyMessage, NotifyResult, QueueHealth, SpendSeries } from '../../../src/sdk/index.js';
import { escapeMrkdwn, oneLine } from './mrkdwn.js';
import { spendChartPng } from './chart.js';

export const CHART_DAYS = 7;
export const CHART_FILENAME = 'spend-7d.png';

export interface Digest {
  day: string;
  quiet: boolean;
  /** Plain text (terminal). */
  plain: string;
  /** mrkdwn text (Slack's fallback and notifications). */
  text: string;
  blocks: unknown[];
}

interface Section {
  title: string;
  lines: string[];
}

const usd = (n: number) => `$${n.toFixed(n !== 0 && Math.abs(n) < 1 ? 4 : 2)}`;
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const usd2 = (n: number) => `$${n.toFixed(2)}`;
const calls = (n: number) => `${n} paid call${n === 1 ? '' : 's'}`;
const ofCap = (spent: number, cap: number | null) => (cap === null ? '' : ` of $${cap.toFixed(2)} cap (${cap > 0 ? pct(spent / cap) : 'cap 0'})`);

/** Nothing spent, called, failed or paused, and the queue is empty of trouble. */
export function isQuiet(r: DailyReport, q: QueueHealth): boolean {
  return r.providers.length === 0 && r.pausedJobs.count === 0 && r.pushFailures.every((f) => f.count === 0) && q.failed === 0 && q.waiting === 0 && q.delayed === 0;
}

/** Figures the digest gathers beside the daily report (from other triggers). */
export interface DigestExtras {
  /** Open HubSpot conflicts in every workspace, when the hubspot trigger runs here. */
  openConflicts?: number;
}

function sections(r: DailyReport, q: QueueHealth, esc: (s: string) => string, extras: DigestExtras = {}): Section[] {
  return [...spendSections(r, esc), ...foresightSections(r, esc), ...troubleSections(r, esc, extras), ...pushFailureSections(r, esc), { title: 'Queue now', lines: [`${q.waiting} waiting · ${q.active} active · ${q.delayed} delayed · ${q.failed} failed`] }];
}

/** Spend by provider and by workspace, and the month so far. */
function spendSections(r: DailyReport, esc: (s: string) => string): Section[] {
  const out: Section[] = [];
  out.push({
    title: 'Spend by provider',
    lines: r.providers.map(
      (p) => `${esc(p.provider)}: ${usd(p.costUsd)} · ${p.calls} calls · ${p.hits} hits${p.hitRate === null ? '' : ` (${pct(p.hitRate)})`}${p.cached ? ` · ${p.cached} cached` : ''}`,
    ),
  });
  if (r.workspaces.length) out.push({ title: 'Spend by workspace', lines: r.workspaces.map((w) => `${esc(w.workspace)}: ${usd(w.costUsd)}${ofCap(w.costUsd, w.capUsd)}`) });
  const m = r.monthToDate;
  if (m.totalUsd > 0) {
    const monthEnd = `${m.from.slice(0, 8)}${String(m.daysInMonth).padStart(2, '0')}`;
    const line = (name: string, spent: number, forecast: number) => `${name}: ${usd2(spent)}, forecast ${usd2(forecast)} by ${monthEnd}`;
    out.push({ title: `Month to date (${m.from} to ${m.through})`, lines: [line('all workspaces', m.totalUsd, m.forecastUsd), ...m.workspaces.map((w) => line(esc(w.workspace), w.costUsd, w.forecastUsd))] });
  }
  return out;
}

/** Balances with days left, batch estimates against what they cost, cost per deliverable email. */
function foresightSections(r: DailyReport, esc: (s: string) => string): Section[] {
  const out: Section[] = [];
  if (r.balances.length) {
    out.push({
      title: 'Provider balances',
      lines: r.balances.map(
        (b) =>
          `${esc(b.provider)}: ${b.credits.toLocaleString('en-US')} credits${b.usd === null ? '' : ` (${usd2(b.usd)})`} · ${b.daysLeft === null ? (b.usd === null ? 'days left unknown (no price per credit)' : 'no spend in the last 7 days') : `about ${b.daysLeft} days left at ${usd(b.perDayUsd)}/day (last 7 days)`}${b.low ? ' · LOW: under its floor' : ''}`,
      ),
    });
  }
  if (r.batchEstimates.count) {
    out.push({
      title: 'Batch estimates vs actual',
      lines: [
        ...r.batchEstimates.batches.map((b) => `${esc(b.workspace)} · ${esc(oneLine(b.label ?? b.batchId, 80))}: expected ${usd(b.expectedUsd)}, at most ${usd(b.worstUsd)} · actual ${usd(b.actualUsd)}${b.actualUsd > b.worstUsd + 1e-9 ? ' (over the worst case)' : ''}`),
        ...(r.batchEstimates.count > r.batchEstimates.batches.length ? [`and ${r.batchEstimates.count - r.batchEstimates.batches.length} more`] : []),
      ],
    });
  }
  if (r.deliverableEmails.length) {
    out.push({
      title: 'Cost per deliverable email (valid, not catch-all)',
      lines: r.deliverableEmails.map((d) => `${esc(d.provider)}: ${d.costPerDeliverableUsd === null ? `none deliverable (${usd(d.costUsd)} on ${calls(d.paidCalls)})` : `${usd(d.costPerDeliverableUsd)} (${usd(d.costUsd)} on ${calls(d.paidCalls)}, ${d.deliverable} deliverable)`}`),
    });
  }
  return out;
}

/** Conflicts, job changes, cost per email, errors, breakers and paused jobs. */
function troubleSections(r: DailyReport, esc: (s: string) => string, extras: DigestExtras): Section[] {
  const out: Section[] = [];
  if (extras.openConflicts) {
    out.push({ title: 'CRM conflicts', lines: [`${extras.openConflicts} open: a provider disagrees with a filled HubSpot value (Accept or Keep them in the Slack App Home)`] });
  }
  if (r.jobChanges > 0) {
    out.push({ title: 'Job changes', lines: [`${r.jobChanges} ${r.jobChanges === 1 ? 'person' : 'people'} changed company or title (see their records, or the cards posted where they were last asked about)`] });
  }
  out.push({ title: 'Cost per found email', lines: [r.costPerEmailUsd === null ? `no email found (${usd(r.totalUsd)} spent)` : `${usd(r.costPerEmailUsd)} (${r.emailsFound} emails found)`] });
  out.push({
    title: 'Errors',
    lines: r.errors.length ? r.errors.map((e) => `${esc(e.provider)} · ${esc(e.kind)} × ${e.count}${e.sample ? ` — "${esc(oneLine(e.sample))}"` : ''}`) : ['none'],
  });
  out.push({ title: 'Circuit breakers opened', lines: r.breakers.length ? r.breakers.map((b) => `${esc(b.provider)}: open, ${b.refused} calls refused`) : ['none'] });
  out.push({
    title: 'Jobs paused by a spend cap',
    lines: r.pausedJobs.count
      ? [`${r.pausedJobs.count} job${r.pausedJobs.count === 1 ? '' : 's'}`, ...r.pausedJobs.jobs.slice(0, 5).map((j) => `${esc(j.workspace)} · ${esc(j.jobId)}${j.reason ? `: ${esc(oneLine(j.reason, 120))}` : ''}`)]
      : ['none'],
  });
  return out;
}

/** Records each destination (a CRM) could not write: one section per destination, "none" on a good day. */
function pushFailureSections(r: DailyReport, esc: (s: string) => string): Section[] {
  return r.pushFailures.map((f) => ({
    title: `${esc(f.label)} records that failed to write`,
    lines: f.count
      ? [
          `${f.count} record${f.count === 1 ? '' : 's'}`,
          ...f.records.slice(0, 10).map((x) => `${esc(x.workspace)} · ${esc(oneLine(x.subject, 100))}${x.objectId ? ` (object ${esc(x.objectId)})` : ''}: ${esc(oneLine(x.error || 'no reason given'))}`),
        ]
      : ['none'],
  }));
}

function headline(r: DailyReport): string {
  return `Spend ${usd(r.totalUsd)}${ofCap(r.totalUsd, r.caps.dailyUsd).replace(' cap', ' daily cap')}${weekOnWeek(r)}`;
}

/** The change against the same weekday a week before (" · -96.0% vs Fri 2026-02-20 ($5.00)"). */
function weekOnWeek(r: DailyReport): string {
  const { day, totalUsd: before } = r.sameDayLastWeek;
  if (before === 0 && r.totalUsd === 0) return '';
  const weekday = new Date(`${day}T00:00:00Z`).toLocaleDateString('en-US', { weekday: 'short', timeZone: 'UTC' });
  const change = before === 0 ? 'new spend' : `${r.totalUsd >= before ? '+' : ''}${pct((r.totalUsd - before) / before)}`;
  return ` · ${change} vs ${weekday} ${day} (${usd2(before)})`;
}

export function buildDigest(r: DailyReport, q: QueueHealth, extras: DigestExtras = {}): Digest {
  const title = `Enrichbot digest for ${r.day} (UTC)`;
  if (isQuiet(r, q)) {
    const line = `${title}: a quiet day, no provider calls, no errors, nothing paused.`;
    return { day: r.day, quiet: true, plain: line, text: line, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: line } }] };
  }
  const rich = sections(r, q, escapeMrkdwn, extras);
  const bare = sections(r, q, (s) => s, extras);
  const text = [`*${title}*`, headline(r), ...rich.map((s) => `*${s.title}*\n${s.lines.map((l) => `• ${l}`).join('\n')}`)].join('\n');
  const plain = [title, headline(r), ...bare.map((s) => `${s.title}\n${s.lines.map((l) => `  - ${l}`).join('\n')}`)].join('\n');
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: title } },
    { type: 'section', text: { type: 'mrkdwn', text: headline(r) } },
    ...rich.map((s) => ({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${s.title}*\n${s.lines.map((l) => `• ${l}`).join('\n')}`) } })),
  ];
  return { day: r.day, quiet: false, plain, text: clip(text, 39000), blocks };
}

/** Slack refuses a section text over 3000 characters. */
function clip(s: string, max = 3000): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The UTC day before an instant (the digest at 09:00 reports yesterday). */
export function dayBefore(at: Date): string {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()) - 86400_000).toISOString().slice(0, 10);
}

export interface DigestTarget {
  channel: string;
  workspace?: string;
}

export interface DigestRun {
  digest: Digest;
  chart?: { png: Buffer; series: SpendSeries };
  posted?: NotifyResult;
}

/** Open HubSpot conflicts, when the hubspot trigger runs in this deployment (else none to count). */
async function openCrmConflicts(service: EnrichService): Promise<number | undefined> {
  try {
    return (await service.conflicts('hubspot', { op: 'count' })).total;
  } catch {
    return undefined;
  }
}

/** Builds the digest for `day`; posts it (with the chart) unless `dryRun`. */
export async function runDigest(service: EnrichService, target: DigestTarget, day: string, opts: { dryRun?: boolean } = {}): Promise<DigestRun> {
  const [report, queue, openConflicts] = await Promise.all([service.dailyReport(day), service.queueHealth(), openCrmConflicts(service)]);
  const digest = buildDigest(report, queue, { openConflicts });
  let chart: DigestRun['chart'];
  if (!digest.quiet) {
    const series = await service.spendSeries(day, CHART_DAYS);
    chart = { series, png: spendChartPng(series) };
  }
  if (opts.dryRun) return { digest, chart };
  const message: NotifyMessage = {
    ...(target.workspace ? { workspace: target.workspace } : {}),
    channel: target.channel,
    text: digest.text,
    blocks: digest.blocks,
    ...(chart ? { files: [{ filename: CHART_FILENAME, content: chart.png, title: `Spend, ${chart.series.days[0]} to ${day}` }] } : {}),
  };
  const posted = await service.notify('slack', message);
  return { digest, chart, posted };
}
