// Today's spend by provider against the caps, for `/enrich usage` and the App Home tab.
import type { SpendReport } from '../../../src/sdk/index.js';
import { escapeMrkdwn } from './mrkdwn.js';

const usd = (n: number) => `$${n.toFixed(2)}`;

export function usageText(report: SpendReport): string {
  const cap = report.caps.workspaceDailyUsd;
  const lines = [`*Spend today (${report.day}, UTC)*: ${usd(report.totalUsd)}${cap === null ? ' (no daily cap for this workspace)' : ` of ${usd(cap)} daily cap`}`];
  if (cap !== null && cap > 0) {
    const filled = Math.min(20, Math.round((report.totalUsd / cap) * 20));
    lines.push(`\`${'▓'.repeat(filled)}${'░'.repeat(20 - filled)}\``);
  }
  if (report.caps.dailyUsd !== null) lines.push(`Global cap across all workspaces: ${usd(report.caps.dailyUsd)} a day.`);
  if (!report.byProvider.length) lines.push('No provider was called today.');
  for (const p of report.byProvider) lines.push(`• ${escapeMrkdwn(p.provider)}: ${usd(p.costUsd)} · ${p.calls} calls, ${p.matched} matched`);
  return lines.join('\n');
}
