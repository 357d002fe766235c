// Config errors never echo secrets, and the SSRF allowlist is for local test sites only:
// IP addresses, never in production, announced by a warning when the fetcher is built.
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { createSafeFetch } from '../../src/net/safe-fetch.js';
import { createLogger } from '../../src/logger.js';
import { StartupError } from '../../src/errors.js';

function startupError(fn: () => unknown): StartupError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StartupError) return err;
    throw err;
  }
  throw new Error('expected a StartupError');
}

describe('config errors', () => {
  test('a URL-valued error shows the URL without credentials or query string', () => {
    const err = startupError(() => loadConfig({ env: { MONGODB_URL: 'mongo://admin:PASS-1@db.internal:27017/x?authSource=admin&token=PASS-2' }, useDefaultFile: false }));
    expect(err.message).toContain('mongodbUrl');
    expect(err.message).not.toMatch(/PASS-1|PASS-2/);
    expect(err.message).toContain('mongo://[redacted]@db.internal:27017/x?[redacted]');
  });

  test('a bad value under a secret key is not shown at all', () => {
    const err = startupError(() => loadConfig({ env: {}, useDefaultFile: false, overrides: { plugins: { providers: ['paidco'] }, providers: { paidco: { apiKey: 12345678, baseUrl: 'not a url with sk-live-9' } } } }));
    expect(err.message).not.toContain('12345678');
    expect(err.message).toContain('[redacted]');
  });
});

describe('ENRICHBOT_ALLOW_PRIVATE_HOSTS', () => {
  test('accepts IP addresses', () => {
    expect(loadConfig({ env: { ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1, ::1' }, useDefaultFile: false }).net.allowPrivateHosts).toEqual(['127.0.0.1', '::1']);
  });

  test('refuses host names, naming each', () => {
    const err = startupError(() => loadConfig({ env: { ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1,localhost,metadata.google.internal' }, useDefaultFile: false }));
    expect(err.issues.map((i) => i.message)).toEqual([expect.stringContaining('"localhost"'), expect.stringContaining('"metadata.google.internal"')]);
    expect(err.message).toContain('IP addresses only');
  });

  test('is refused when NODE_ENV=production, and so is net.allowPrivateHosts', () => {
    expect(startupError(() => loadConfig({ env: { NODE_ENV: 'production', ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1' }, useDefaultFile: false })).message).toContain('NODE_ENV=production');
    expect(startupError(() => loadConfig({ env: { NODE_ENV: 'production' }, useDefaultFile: false, overrides: { net: { allowPrivateHosts: ['10.0.0.5'] } } })).message).toContain('NODE_ENV=production');
  });

  test('building the fetcher with an allowlist logs a warning naming the addresses', () => {
    const lines: string[] = [];
    const logger = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(c.toString()), cb()) }) });
    createSafeFetch({ allowPrivateHosts: ['127.0.0.1'], maxBodyBytes: 1000, fetchTimeoutMs: 1000, maxRedirects: 1, userAgent: 't', logger });
    createSafeFetch({ allowPrivateHosts: [], maxBodyBytes: 1000, fetchTimeoutMs: 1000, maxRedirects: 1, userAgent: 't', logger });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 40, allowPrivateHosts: ['127.0.0.1'], msg: expect.stringContaining('private addresses') });
  });
});
