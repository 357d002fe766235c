// HubSpot v3 webhook signatures against HubSpot's own published vector.
import { readFileSync } from 'node:fs';
import { signV3, verifyV3 } from '../signature.js';

const vector = JSON.parse(readFileSync('/work/shared/vectors/signatures.json', 'utf8')).hubspot_v3 as {
  client_secret: string;
  method: string;
  uri: string;
  body: string;
  timestamp_ms: string;
  expected_signature: string;
};
const check = (nowMs: number, signature = vector.expected_signature) =>
  verifyV3({ secret: vector.client_secret, method: vector.method, uri: vector.uri, body: vector.body, timestamp: vector.timestamp_ms, signature, nowMs });

test("HubSpot's published v3 vector verifies with a clock set to its timestamp", () => {
  expect(signV3(vector.client_secret, vector.method, vector.uri, vector.body, vector.timestamp_ms)).toBe(vector.expected_signature);
  expect(check(Number(vector.timestamp_ms) + 60_000)).toEqual({ ok: true });
});

test('the same vector is refused as stale by the real clock (a replay)', () => {
  expect(check(Date.now())).toEqual({ ok: false, reason: expect.stringContaining('stale') });
});

test('a signature made with another secret or a changed body is refused', () => {
  const other = signV3('another-secret', vector.method, vector.uri, vector.body, vector.timestamp_ms);
  expect(check(Number(vector.timestamp_ms), other).ok).toBe(false);
  expect(verifyV3({ secret: vector.client_secret, method: 'POST', uri: vector.uri, body: `${vector.body} `, timestamp: vector.timestamp_ms, signature: vector.expected_signature, nowMs: Number(vector.timestamp_ms) }).ok).toBe(false);
  expect(check(Number(vector.timestamp_ms), '').ok).toBe(false);
});

test('HubSpot signs the URI with some characters decoded: %3A and %2F in the query are signed as : and /', () => {
  const sig = signV3('s', 'POST', 'https://bot.example.com/webhooks/hubspot?next=https://x.com/a', '[]', '1');
  expect(signV3('s', 'POST', 'https://bot.example.com/webhooks/hubspot?next=https%3A%2F%2Fx.com%2Fa', '[]', '1')).toBe(sig);
});
