// How a job change reads in a message (Slack card, logs): one plain sentence, the caller escapes it.
import type { JobChange } from '../engine/types.js';

const company = (v: { companyName?: string; companyDomain?: string }) =>
  v.companyName && v.companyDomain ? `${v.companyName} (${v.companyDomain})` : (v.companyName ?? v.companyDomain);

export function describeJobChange(display: string, c: JobChange): string {
  const parts: string[] = [];
  const from = company(c.old);
  const to = company(c.new);
  if (to) parts.push(`moved from ${from ?? 'an unknown company'} to ${to}`);
  if (c.new.title) parts.push(`title ${c.old.title ?? 'unknown'} → ${c.new.title}`);
  return `${display}: ${parts.join('; ')} (sources: ${c.sources.join(', ')}; found ${c.at.slice(0, 10)})`;
}
