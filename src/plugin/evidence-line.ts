// The one short line a card (CLI and Slack) shows about identity evidence (issue 21): how many
// web mentions of the person were kept and on what evidence, how many were rejected and why.
import type { JobResult } from '../engine/types.js';

const MAX_CHARS = 300;

export function evidenceLine(r: Pick<JobResult, 'person' | 'outcomes'>): string | undefined {
  const mentions = r.person?.fields.webMentions?.value;
  const kept = Array.isArray(mentions) ? mentions.filter((m) => m && typeof m === 'object') : [];
  const evidence = [...new Set(kept.map((m) => (m as { evidence?: unknown }).evidence).filter((e): e is string => typeof e === 'string'))];
  const rejected = r.outcomes.reduce((n, o) => n + (o.rejected ?? 0), 0);
  const reasons = [...new Set(r.outcomes.flatMap((o) => o.rejectedReasons ?? []))];
  if (!kept.length && !rejected) return undefined;
  const parts = [`${kept.length} web mention${kept.length === 1 ? '' : 's'} kept${evidence.length ? ` (${evidence.join(', ')})` : kept.length ? ' (no evidence recorded)' : ''}`];
  if (rejected) parts.push(`${rejected} rejected${reasons.length ? ` (${reasons.join('; ')})` : ''}`);
  const line = `Evidence: ${parts.join('; ')}`;
  return line.length > MAX_CHARS ? `${line.slice(0, MAX_CHARS - 1)}…` : line;
}
