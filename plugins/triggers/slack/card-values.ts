// How stored values read on a card: text for any field shape, and the age of a value.
import type { RecordView } from '../../../src/sdk/index.js';

type StoredField = RecordView['fields'][string];
import { escapeMrkdwn } from './mrkdwn.js';

export function showValue(value: unknown): string {
  if (Array.isArray(value)) {
    return value
      .map((v) => (v && typeof v === 'object' ? ((v as { domain?: string; title?: string; url?: string }).domain ?? (v as { title?: string }).title ?? (v as { url?: string }).url ?? JSON.stringify(v)) : String(v)))
      .join(', ');
  }
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${String(v)}`).join(', ');
  return String(value);
}

export function age(fetchedAt: string | undefined, now: Date): string {
  if (!fetchedAt) return '';
  const ms = now.getTime() - new Date(fetchedAt).getTime();
  if (!Number.isFinite(ms)) return '';
  const days = Math.floor(ms / 86_400_000);
  if (days < 1) return 'today';
  if (days < 60) return `${days}d ago`;
  return `${Math.floor(days / 30)}mo ago`;
}

/** "*Title*\nvalue\n_apollo · 3d ago_": every part escaped. */
export function fieldText(label: string, f: StoredField, now: Date, extra = ''): string {
  const source = f.provider === 'input' ? 'you gave it' : f.provider === 'manual' ? `corrected${f.by ? ` by ${escapeMrkdwn(f.by)}` : ''}` : escapeMrkdwn(f.provider);
  const when = age(f.fetchedAt, now);
  return `*${label}*\n${escapeMrkdwn(showValue(f.value))}${extra}\n_${source}${when ? ` · ${when}` : ''}_`;
}

const LABELS: Record<string, string> = {
  fullName: 'Name',
  workEmail: 'Work email',
  personalEmail: 'Personal email',
  linkedinUrl: 'LinkedIn',
  companyName: 'Company',
  companyDomain: 'Company domain',
  employeeCount: 'Employees',
  employeeRange: 'Size',
  revenueRange: 'Revenue',
  foundedYear: 'Founded',
  secCik: 'SEC CIK',
  acceptsMail: 'Accepts mail',
};
export function labelOf(key: string): string {
  return LABELS[key] ?? key.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
}
