// A readable card of a JobResult for the terminal.
import type { JobResult, RecordView, StoredField } from '../engine/types.js';
import { personForCard } from '../plugin/email-deliverability.js';
import { evidenceLine } from '../plugin/evidence-line.js';
import { describeJobChange } from '../plugin/job-change-text.js';

const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n - 1) + '…' : s.padEnd(n));

function show(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => v && typeof v === 'object' && 'verified' in v)) {
    return (value as { domain: string; verified: boolean }[]).map((v) => `${v.domain}${v.verified ? '' : ' (unverified)'}`).join(', ');
  }
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? (v as { domain?: string; title?: string; url?: string }).domain ?? (v as { title?: string }).title ?? JSON.stringify(v) : String(v))).join(', ');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${v}`).join(', ');
  return String(value);
}

/** "2 sources agree" or "apollo says 240, aiark says 310": what the other providers said (issue 11). */
export function agreement(f: StoredField): string {
  const others = f.alternatives ?? [];
  if (!others.length) return '';
  const same = (v: unknown) => JSON.stringify(v) === JSON.stringify(f.value);
  if (others.every((a) => same(a.value))) return `${others.length + 1} sources agree`;
  return [{ provider: f.provider, value: f.value }, ...others].map((a) => `${a.provider} says ${show(a.value)}`).join(', ');
}

function section(title: string, rec: RecordView | undefined, lines: string[]) {
  if (!rec || !Object.keys(rec.fields).length) return;
  lines.push(title);
  for (const [k, f] of Object.entries(rec.fields).sort(([a], [b]) => a.localeCompare(b))) {
    // The provider's own text beside a canonical value: "vp (Vice President)".
    const shown = f.raw !== undefined && typeof f.raw !== 'object' ? `${show(f.value)} (${show(f.raw)})` : show(f.value);
    const sources = agreement(f);
    lines.push(`  ${pad(k, 22)} ${pad(shown, 60)} ${f.provider}${f.provider === 'input' ? '' : ` · ${Math.round(f.confidence * 100)}%`}${sources ? ` · ${sources}` : ''}`);
  }
}

export function renderCard(r: JobResult): string {
  const lines: string[] = [];
  lines.push(`${r.display}  [${r.status} · $${r.costUsd.toFixed(4)} · ${r.jobId}]`);
  if (r.fromRecord) lines.push('  (already enriched recently: shown from the record, no provider was asked; use --refresh to ask again)');
  if (r.error) lines.push(`  ${r.error}`);
  section('Person', personForCard(r), lines);
  const evidence = evidenceLine(r);
  if (evidence) lines.push(`  ${evidence}`);
  if (r.jobChange) lines.push(`  Job change: ${describeJobChange(r.display, r.jobChange)}`);
  section('Company', r.company, lines);
  if (r.outcomes.length) {
    lines.push('Providers');
    for (const o of r.outcomes) {
      lines.push(`  ${pad(o.group, 16)} ${pad(o.provider, 12)} ${pad(o.outcome, 13)} ${o.costUsd ? `$${o.costUsd.toFixed(4)} ` : ''}${o.reason ?? (o.fields?.length ? o.fields.join(', ') : '')}`);
    }
  }
  const missing = !Object.keys(r.person?.fields ?? {}).some((k) => r.person!.fields[k].provider !== 'input') && !Object.keys(r.company?.fields ?? {}).some((k) => r.company!.fields[k].provider !== 'input');
  if (missing && !r.fromRecord && r.status === 'done') lines.push('Nothing was found beyond what you gave.');
  return lines.join('\n');
}
