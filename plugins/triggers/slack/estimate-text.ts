// A batch's estimate as Slack mrkdwn (the Run / Cancel question), and the estimate-vs-actual line
// of the finished batch. The estimate is kept in the plugin's Redis by batch id, because the
// batch status the service hands to deliverBatch does not carry it.
import type { BatchEstimate } from '../../../src/sdk/index.js';
import { escapeMrkdwn } from './mrkdwn.js';
import type { SlackRuntime } from './runtime.js';

const usd = (n: number) => `$${n.toFixed(2)}`;
const count = (n: number) => n.toLocaleString('en-US');
/** As long as a finished batch is shown (service.batch.retentionDays is 14 by default). */
const KEEP_SECONDS = 30 * 86_400;
const keyOf = (batchId: string) => `batch-estimate:${batchId}`;

export interface KeptEstimate {
  expectedUsd: number;
  worstUsd: number;
}

/** The question before a batch above the threshold: worst case, expected, what is free, per field group. */
export function estimateText(label: string, est: BatchEstimate, thresholdUsd: number, uploader?: string): string {
  const cached = est.groups.reduce((s, g) => s + g.cachedAnswers, 0);
  const lines = [
    `*${escapeMrkdwn(label)}* may cost up to *${usd(est.worstUsd)}* (expected ${usd(est.expectedUsd)}), above the ${usd(thresholdUsd)} I ask about before running. No provider was asked yet.`,
    `${count(est.rows)} rows: ${count(est.duplicates)} duplicates and ${count(est.fresh)} fresh records at $0${est.rejected ? `, ${count(est.rejected)} refused` : ''}, ${count(est.toRun)} to enrich; ${count(cached)} provider answers already cached.`,
    ...est.groups.map((g) => `• ${escapeMrkdwn(g.group)}: ${count(g.rows)} rows, expected ${usd(g.expectedUsd)}, at most ${usd(g.worstUsd)}`),
  ];
  if (est.workspaceCap.capUsd !== null && est.workspaceCap.worstShare !== null) {
    lines.push(`At most ${Math.round(Math.min(est.workspaceCap.worstShare, 99.99) * 100)} % of this workspace's daily cap of ${usd(est.workspaceCap.capUsd)}.`);
  }
  if (uploader) lines.push(`Only <@${escapeMrkdwn(uploader)}> can run it.`);
  return lines.join('\n');
}

/** "Estimate: expected $4.10, at most $9.80 · actual $5.02" for a finished batch. */
export function estimateVsActual(est: KeptEstimate, actualUsd: number): string {
  return `Estimate: expected ${usd(est.expectedUsd)}, at most ${usd(est.worstUsd)} · actual ${usd(actualUsd)}`;
}

export async function rememberEstimate(rt: SlackRuntime, batchId: string, est: BatchEstimate): Promise<void> {
  const kept: KeptEstimate = { expectedUsd: est.expectedUsd, worstUsd: est.worstUsd };
  await rt.ctx.redis.set(keyOf(batchId), JSON.stringify(kept), 'EX', KEEP_SECONDS);
}

export async function keptEstimate(rt: SlackRuntime, batchId: string): Promise<KeptEstimate | undefined> {
  const raw = await rt.ctx.redis.get(keyOf(batchId));
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as KeptEstimate;
    return typeof v.expectedUsd === 'number' && typeof v.worstUsd === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
