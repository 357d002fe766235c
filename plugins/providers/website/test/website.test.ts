import { readFileSync } from 'node:fs';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { startDnsServer, type DnsServer } from '../../../../test/support/dns-server.js';
import { lookup } from '../../../../test/support/provider-harness.js';
import { ProviderError } from '../../../../src/engine/provider-error.js';
import { extractHomepage } from '../extract.js';
import website from '../index.js';

const html = readFileSync(new URL('./fixtures/acme-home.html', import.meta.url), 'utf8');
let site: FakeServer;
let dns: DnsServer;

beforeAll(async () => {
  site = await startFakeServer({ 'GET /': () => ({ headers: { 'content-type': 'text/html' }, body: html }) });
  dns = await startDnsServer({
    a: { 'acme.com': ['127.0.0.1'], 'evil-dns.com': ['10.1.2.3'], 'metadata-rebind.com': ['169.254.169.254'], 'empty.com': ['127.0.0.1'] },
  });
});
afterAll(async () => {
  await site.close();
  await dns.close();
});

// Fixture sites listen on loopback, which only the test allowlist opens; the HTTPS port is closed
// (port 9 discards), so each lookup also exercises the fall back to HTTP.
const opts = (extra: Record<string, unknown> = {}) => ({
  baseUrl: 'unused:',
  dnsServers: [dns.address],
  allowPrivateHosts: ['127.0.0.1'],
  config: { httpsPort: 9, httpPort: site.port, ...extra },
});

test('extracts name, description, social profiles and contact emails from the homepage, falling back to HTTP', async () => {
  const r = await lookup(website, 'homepage', { domain: 'acme.com' }, opts());
  expect(r.outcome).toBe('matched');
  if (r.outcome !== 'matched') return;
  expect(r.fields).toEqual({
    'company.name': 'Acme',
    'company.description': 'Acme makes widgets & gadgets for revenue teams.',
    'company.socialProfiles': { linkedin: 'https://www.linkedin.com/company/acme-widgets', x: 'https://x.com/acmewidgets', github: 'https://github.com/acme' },
    'company.linkedinUrl': 'https://www.linkedin.com/company/acme-widgets',
    'company.contactEmails': ['sales@acme.com', 'hello@acme.com'],
  });
  expect(r.confidence).toBe(0.6);
  expect(site.requests.at(-1)?.headers.host).toBe(`acme.com:${site.port}`);
});

test('a redirect to a private address is refused before any connection is made', async () => {
  site.on('GET /', () => ({ status: 302, headers: { location: 'http://10.0.0.7/admin' } }));
  await expect(lookup(website, 'homepage', { domain: 'acme.com' }, opts())).rejects.toMatchObject({ kind: 'client', message: expect.stringContaining('10.0.0.7') });
  site.on('GET /', () => ({ status: 301, headers: { location: 'http://metadata-rebind.com/latest/meta-data' } }));
  await expect(lookup(website, 'homepage', { domain: 'acme.com' }, opts())).rejects.toMatchObject({ kind: 'client', message: expect.stringContaining('169.254.169.254') });
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: html }));
});

test('a domain whose DNS answer is private is refused; loopback is refused without the test allowlist', async () => {
  await expect(lookup(website, 'homepage', { domain: 'evil-dns.com' }, opts())).rejects.toBeInstanceOf(ProviderError);
  await expect(lookup(website, 'homepage', { domain: 'acme.com' }, { ...opts(), allowPrivateHosts: [] })).rejects.toMatchObject({ kind: 'client', message: expect.stringContaining('127.0.0.1') });
});

test('a domain that does not resolve, or a page without company facts, is no_match', async () => {
  const missing = await lookup(website, 'homepage', { domain: 'nowhere.com' }, opts());
  expect(missing.outcome).toBe('no_match');
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: '<html><body>under construction</body></html>' }));
  const empty = await lookup(website, 'homepage', { domain: 'empty.com' }, opts());
  expect(empty.outcome).toBe('no_match');
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: html }));
});

test('the body is capped: a huge page is cut at maxBytes and still parsed', async () => {
  const big = html.replace('</body>', `${'<p>filler</p>'.repeat(20000)}</body>`);
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: big }));
  const r = await lookup(website, 'homepage', { domain: 'acme.com' }, opts({ maxBytes: 4096 }));
  expect(r.outcome).toBe('matched');
  expect((r.raw as { truncated: boolean }).truncated).toBe(true);
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: html }));
});

test('a 5xx homepage is a server error for the retry policy; a 404 is no_match', async () => {
  site.on('GET /', () => ({ status: 503, body: 'down' }));
  await expect(lookup(website, 'homepage', { domain: 'acme.com' }, opts())).rejects.toMatchObject({ kind: 'server' });
  site.on('GET /', () => ({ status: 404, body: 'nope' }));
  expect((await lookup(website, 'homepage', { domain: 'acme.com' }, opts())).outcome).toBe('no_match');
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: html }));
});

test('emails are only taken at the company domain, never from scripts', () => {
  const facts = extractHomepage(html, 'acme.com');
  expect(facts.contactEmails).not.toContain('help@vendor.io');
  expect(facts.contactEmails.some((e) => e.includes('example'))).toBe(false);
});
