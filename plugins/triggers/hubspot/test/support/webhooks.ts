// Signed HubSpot webhook deliveries to a started App, and events in HubSpot's v3 format.
import { signV3 } from '../../signature.js';

export const SECRET = 'test-client-secret';
export const PUBLIC = 'https://bot.example.com';
let eventSeq = 1;

export const event = (subscriptionType: string, objectId: string, extra: Record<string, unknown> = {}) => ({
  eventId: eventSeq++,
  subscriptionId: 7,
  portalId: 62515,
  appId: 1160452,
  occurredAt: Date.now(),
  subscriptionType,
  attemptNumber: 0,
  objectId: Number(objectId),
  changeFlag: 'NEW',
  ...extra,
});

export async function send(port: number, events: unknown[]): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = JSON.stringify(events);
  const ts = String(Date.now());
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/hubspot`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': ts, 'x-hubspot-signature-v3': signV3(SECRET, 'POST', `${PUBLIC}/webhooks/hubspot`, body, ts) },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v && !(Array.isArray(v) && v.length === 0)) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
