import { Writable } from 'node:stream';
import { redactedLogger } from '../../src/logger.js';

test('secrets are redacted by key name wherever they sit in a log line', () => {
  const lines: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (lines.push(c.toString()), cb()) });
  const log = redactedLogger(stream);
  log.info(
    { apiKey: 'sk-live-1', provider: { settings: { apiKey: 'sk-live-2' } }, headers: { authorization: 'Bearer sk-live-3', 'X-KEY': 'sk-live-4' }, signingSecret: 'shh', domain: 'acme.com' },
    'calling provider',
  );
  const text = lines.join('');
  for (const secret of ['sk-live-1', 'sk-live-2', 'sk-live-3', 'sk-live-4', 'shh']) expect(text).not.toContain(secret);
  expect(text).toContain('[redacted]');
  expect(text).toContain('acme.com');
});
