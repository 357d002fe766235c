import { readFileSync } from 'node:fs';
import fc from 'fast-check';
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

describe('hostile pages', () => {
  // The budget is 250 ms per page up to the body cap; asserted at 10x that so a loaded
  // two-core machine cannot flake it, while the old quadratic parser needed seconds to minutes.
  const BUDGET_MS = 2500;
  const CAP = 1_000_000;
  const timed = (page: string) => {
    const t0 = performance.now();
    const facts = extractHomepage(page, 'acme.com');
    return { ms: performance.now() - t0, facts };
  };
  const fill = (unit: string, size = CAP) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

  test.each([
    ['a megabyte of letters with no @', fill('a')],
    ['letters, then one @ at the end', `${fill('a', CAP - 9)}@acme.com`],
    ['unclosed <a tags', fill('<a href="x ')],
    ['unclosed <meta tags', fill('<meta name="description" content="')],
    ['unclosed <title tags', fill('<title>')],
    ['unclosed <script tags', fill('<script>')],
    ['repeated href= without quotes closing', `<a ${fill('href="')}>`],
    ['a run of <', fill('<')],
    ['entities without semicolons', fill('&#x1')],
    ['subdomain labels without end', `a@${fill('a.')}`],
  ])('%s parses within the budget', (_name, page) => {
    expect(timed(page).ms).toBeLessThan(BUDGET_MS);
  });

  test('generated pages up to the body cap all parse within the budget', () => {
    const fragment = fc.constantFrom(
      'a', 'Z9', '@', '.', '-', ' ', '\n', '<', '>', '"', "'", '=', '&', ';', '#x', '&#', '&#x110000;', '&#xD800;', '&amp;',
      '<a ', '<a href="', 'href=', 'mailto:', 'mailto:a%ZZ@acme.com', '<meta ', 'content="', '<title>', '</title>',
      '<script>', '</script>', '<style>', 'acme.com', 'sales@acme.com', 'https://www.linkedin.com/company/', '%', '%E0%A4%A',
    );
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1000, max: CAP }), (parts, size) => {
        const page = fill(parts.join(''), size);
        const { ms, facts } = timed(page);
        expect(facts.contactEmails.length).toBeLessThanOrEqual(20);
        return ms < BUDGET_MS;
      }),
      { numRuns: 40, seed: 2026 },
    );
  }, 120_000);

  test('decoding errors are skipped, not fatal', () => {
    const page = '<title>Acme &#x110000; &#xD800; &#99999999; &amp; Co</title><a href="mailto:a%ZZ@acme.com">x</a><a href="mailto:ok%40@acme.com">y</a><a href="mailto:hi@acme.com">z</a>';
    const facts = extractHomepage(page, 'acme.com');
    expect(facts.name).toBe('Acme &#x110000; &#xD800; &#99999999; & Co');
    expect(facts.contactEmails).toEqual(['hi@acme.com']);
  });
});
