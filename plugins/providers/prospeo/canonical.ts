// Turns Prospeo's raw values into the canonical field formats, or undefined when a value
// would not survive the engine's field schemas (better no value than a dropped one).
import { normalizeDomain, normalizeLinkedinUrl } from '../../../src/engine/identity.js';
import { PERSON_FIELDS } from '../../../src/engine/fields.js';

export function text(value: string | null | undefined, max = 2000): string | undefined {
  const t = value?.trim();
  return t ? t.slice(0, max) : undefined;
}

/** Docs examples mask addresses ("eoghan.*****@intercom.com"); such values fail this check. */
export function email(value: string | null | undefined): string | undefined {
  const t = value?.trim().toLowerCase();
  return t && PERSON_FIELDS['person.workEmail'].safeParse(t).success ? t : undefined;
}

export function domain(value: string | null | undefined): string | undefined {
  if (!value?.trim()) return undefined;
  try {
    return normalizeDomain(value);
  } catch {
    return undefined;
  }
}

export function linkedin(value: string | null | undefined, kind: 'person' | 'company'): string | undefined {
  if (!value?.trim()) return undefined;
  try {
    const parsed = normalizeLinkedinUrl(value);
    return parsed.kind === kind ? parsed.url : undefined;
  } catch {
    return undefined;
  }
}

export function httpUrl(value: string | null | undefined): string | undefined {
  const t = value?.trim();
  if (!t || t.length > 500) return undefined;
  try {
    const u = new URL(t);
    return u.protocol === 'https:' || u.protocol === 'http:' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** 100000000 -> "$100M", 2500000000 -> "$2.5B". */
export function usd(amount: number): string {
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (amount >= size) return `$${Number((amount / size).toFixed(1))}${suffix}`;
  }
  return `$${amount}`;
}

/** Drops undefined entries so `fields` only lists what was found. */
export function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
