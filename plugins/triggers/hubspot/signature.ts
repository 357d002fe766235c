// HubSpot webhook signatures, v3 (developers.hubspot.com "Validating requests"):
// base64(HMAC-SHA256(clientSecret, method + uri + rawBody + timestamp)), sent as
// X-HubSpot-Signature-v3 with X-HubSpot-Request-Timestamp in milliseconds. HubSpot signs the URI
// with a few characters URL-decoded (its docs list them); requests older than 5 minutes are refused.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_AGE_MS = 5 * 60 * 1000;

// The characters HubSpot decodes in the URI before signing.
const DECODE: Record<string, string> = { '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';' };

export function signedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODE[m.toUpperCase()] ?? m);
}

export function signV3(secret: string, method: string, uri: string, body: string | Buffer, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${signedUri(uri)}`)
    .update(body)
    .update(timestamp)
    .digest('base64');
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function verifyV3(opts: { secret: string; method: string; uri: string; body: string | Buffer; timestamp?: string; signature?: string; nowMs: number }): SignatureCheck {
  if (!opts.signature || !opts.timestamp) return { ok: false, reason: 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp' };
  const ts = Number(opts.timestamp);
  if (!Number.isFinite(ts)) return { ok: false, reason: 'X-HubSpot-Request-Timestamp is not a number of milliseconds' };
  if (Math.abs(opts.nowMs - ts) > MAX_AGE_MS) return { ok: false, reason: 'stale timestamp: older than 5 minutes (a replay, or a wrong clock)' };
  const expected = Buffer.from(signV3(opts.secret, opts.method, opts.uri, opts.body, opts.timestamp));
  const given = Buffer.from(opts.signature);
  // Constant-time: compare equal lengths only, so length itself is the only early exit.
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'signature does not match' };
  return { ok: true };
}
