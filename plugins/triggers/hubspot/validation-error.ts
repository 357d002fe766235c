// Which properties a HubSpot 400 refused, and why. HubSpot's documented format puts a JSON list in
// the message: `Property values were not valid: [{"isValid":false,"message":"US was not one of the
// allowed options: [...]","error":"INVALID_OPTION","name":"country"}]` (developers.hubspot.com
// changelog, 2023-07 and 2025-01); some answers also name them in errors[].context.propertyName.
// A batch answer does not say which record: the value quoted in the message tells them apart.
import { HubspotApiError } from './hubspot-api.js';

export interface RefusedProperty {
  name: string;
  /** HubSpot's reason, e.g. "INVALID_OPTION: US was not one of the allowed options". */
  reason: string;
  /** The refused value, when HubSpot quotes it (then only records with that value are affected). */
  value?: string;
}

const PREFIX = 'Property values were not valid:';
const MAX_MESSAGE = 200_000;
const QUOTED = / was not one of the allowed options/;

const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 297)}...` : s);

function valueFrom(message: string): string | undefined {
  const at = message.search(QUOTED);
  return at > 0 ? message.slice(0, at) : undefined;
}

/** The refused properties named by a failed HubSpot call; empty when it names none. */
export function refusedProperties(err: unknown): RefusedProperty[] {
  if (!(err instanceof HubspotApiError) || err.status !== 400) return [];
  const body = (err.cause as { body?: unknown } | undefined)?.body as { message?: unknown; errors?: { message?: string; code?: string; context?: Record<string, unknown> }[] } | undefined;
  if (!body || typeof body !== 'object') return [];
  const out = new Map<string, RefusedProperty>();
  const message = typeof body.message === 'string' ? body.message.slice(0, MAX_MESSAGE) : '';
  const start = message.indexOf(PREFIX);
  if (start >= 0) {
    try {
      const list = JSON.parse(message.slice(start + PREFIX.length).trim()) as unknown;
      if (Array.isArray(list)) {
        for (const r of list as { name?: unknown; message?: unknown; error?: unknown }[]) {
          if (typeof r?.name !== 'string') continue;
          const msg = typeof r.message === 'string' ? r.message : '';
          const value = valueFrom(msg);
          out.set(r.name, { name: r.name, reason: clip(`${typeof r.error === 'string' ? r.error : 'INVALID'}: ${msg.replace(/: \[.*$/s, '')}`), ...(value !== undefined ? { value } : {}) });
        }
      }
    } catch {
      // Not the JSON HubSpot documents: fall back to errors[].context below.
    }
  }
  for (const e of Array.isArray(body.errors) ? body.errors.slice(0, 1000) : []) {
    const names = e?.context?.propertyName;
    for (const name of Array.isArray(names) ? names : typeof names === 'string' ? [names] : []) {
      if (typeof name !== 'string' || out.has(name)) continue;
      const msg = typeof e.message === 'string' ? e.message : '';
      const value = valueFrom(msg);
      out.set(name, { name, reason: clip(`${e.code ?? 'INVALID'}: ${msg.replace(/: \[.*$/s, '')}`), ...(value !== undefined ? { value } : {}) });
    }
  }
  return [...out.values()];
}
