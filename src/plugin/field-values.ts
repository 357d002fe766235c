// Value cleaners for provider plugins: a bad value from a provider is dropped, not stored, and
// LinkedIn URLs and domains are rewritten to the canonical forms the engine uses.
import { normalizeDomain, normalizeLinkedinUrl } from '../engine/identity.js';
import { PERSON_FIELDS, type FieldPath } from '../engine/fields.js';

export type Fields = Partial<Record<FieldPath, unknown>>;

export const clean = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export function linkedinUrl(raw: unknown, kind: 'person' | 'company'): string | undefined {
  const s = clean(raw);
  if (!s) return undefined;
  try {
    const n = normalizeLinkedinUrl(s);
    return n.kind === kind ? n.url : undefined;
  } catch {
    return undefined;
  }
}

export function domainOf(raw: unknown): string | undefined {
  const s = clean(raw);
  if (!s) return undefined;
  try {
    return normalizeDomain(s);
  } catch {
    return undefined;
  }
}

/** A work address as the canonical schema accepts it, lower-cased; masked or malformed ones are dropped. */
export function workEmail(raw: unknown): string | undefined {
  const t = clean(raw)?.toLowerCase();
  return t && PERSON_FIELDS['person.workEmail'].safeParse(t).success ? t : undefined;
}

export function httpUrl(raw: unknown): string | undefined {
  const s = clean(raw);
  if (!s) return undefined;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? s : undefined;
  } catch {
    return undefined;
  }
}

export function dropEmpty(fields: Fields): Fields {
  for (const k of Object.keys(fields) as FieldPath[]) {
    const v = fields[k];
    if (v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.keys(v).length)) delete fields[k];
  }
  return fields;
}

/** Drops undefined entries so `fields` only lists what was found. */
export function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
