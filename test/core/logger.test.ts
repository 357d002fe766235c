// Redaction through createLogger, the logger the app uses: key names in any case at any depth,
// URL credentials and query strings in values, messages, errors and child bindings.
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (lines.push(c.toString()), cb()) });
  return { log: createLogger({ stream, level: 'debug' }), text: () => lines.join('') };
}

test('secrets are redacted by key name wherever they sit in a log line', () => {
  const { log, text } = capture();
  log.info(
    { apiKey: 'sk-live-1', provider: { settings: { apiKey: 'sk-live-2' } }, headers: { authorization: 'Bearer sk-live-3', 'X-KEY': 'sk-live-4' }, signingSecret: 'shh', domain: 'acme.com' },
    'calling provider',
  );
  for (const secret of ['sk-live-1', 'sk-live-2', 'sk-live-3', 'sk-live-4', 'shh']) expect(text()).not.toContain(secret);
  expect(text()).toContain('[redacted]');
  expect(text()).toContain('acme.com');
});

test('key names match in any case and at any depth', () => {
  const { log, text } = capture();
  log.warn({
    headers: { 'X-Api-Key': 'leak-1', 'x-token': 'leak-2', 'X-API-KEY': 'leak-3', Cookie: 'leak-4', 'Proxy-Authorization': 'leak-5' },
    a: { b: { c: { d: { e: { apiKey: 'leak-6', client_secret: 'leak-7', HUBSPOT_ACCESS_TOKEN: 'leak-8' } } } } },
    list: [{ password: 'leak-9' }],
    company: 'Acme',
  });
  for (let i = 1; i <= 9; i++) expect(text()).not.toContain(`leak-${i}`);
  expect(text()).toContain('Acme');
});

test('URLs lose their credentials and query strings, in values, messages, errors and bindings', () => {
  const { log, text } = capture();
  const child = log.child({ target: 'https://api.hubapi.com/crm/v3/objects?hapikey=leak-1' });
  child.info({ url: 'mongodb://admin:leak-2@db.internal:27017/enrichbot', nested: { next: new URL('https://u:leak-3@example.com/a?token=leak-4#frag') } }, 'fetching https://svc.example/x?api_key=leak-5 now');
  child.error({ err: new Error('cannot reach redis://:leak-6@cache:6379/0') }, 'failed');
  const out = text();
  for (let i = 1; i <= 6; i++) expect(out).not.toContain(`leak-${i}`);
  expect(out).toContain('https://api.hubapi.com/crm/v3/objects?[redacted]');
  expect(out).toContain('mongodb://[redacted]@db.internal:27017/enrichbot');
  expect(out).toContain('fetching https://svc.example/x?[redacted] now');
  expect(out).toContain('redis://[redacted]@cache:6379/0');
});

test('a caller\'s object is not changed by redaction', () => {
  const { log } = capture();
  const obj = { apiKey: 'kept', nested: { token: 'kept' } };
  log.info(obj);
  expect(obj).toEqual({ apiKey: 'kept', nested: { token: 'kept' } });
});
