// The SSRF guard itself: which addresses count as public (IPv6 included), which URLs are never
// fetched, how many redirects and how much time a fetch may take, and that the connection goes
// to the address that was checked (one lookup per hop, no second resolution to rebind).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { createSafeFetch, isPublicAddress, type SafeFetchConfig } from '../../src/net/safe-fetch.js';
import { ErrorCodes } from '../../src/errors.js';

let site: FakeServer;
let dns: DnsServer;

beforeAll(async () => {
  site = await startFakeServer({ 'GET /': () => ({ headers: { 'content-type': 'text/html' }, body: '<title>ok</title>' }) });
  dns = await startDnsServer({ a: { 'pinned.example': ['127.0.0.1'], 'private.example': ['10.9.8.7'] } });
});
afterAll(async () => {
  await site.close();
  await dns.close();
});
beforeEach(() => {
  site.requests.length = 0;
  site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: '<title>ok</title>' }));
});

const config = (extra: Partial<SafeFetchConfig> = {}): SafeFetchConfig => ({
  allowPrivateHosts: ['127.0.0.1'],
  maxBodyBytes: 100_000,
  fetchTimeoutMs: 5000,
  maxRedirects: 3,
  userAgent: 'enrichbot-test',
  dnsServers: [dns.address],
  ...extra,
});
const refused = { code: ErrorCodes.URL_REFUSED };

describe('isPublicAddress', () => {
  test.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e'])('%s is public', (a) => {
    expect(isPublicAddress(a)).toBe(true);
  });
  test.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['169.254.169.254', 'link-local metadata'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['::a9fe:a9fe', 'IPv4-compatible 169.254.169.254'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped 169.254.169.254'],
    ['::ffff:7f00:1', 'IPv4-mapped 127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 169.254.169.254'],
    ['2002:a9fe:a9fe::1', '6to4 of 169.254.169.254'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['fe80::1', 'IPv6 link-local'],
    ['fc00::1', 'unique local'],
    ['ff02::1', 'multicast'],
    ['0x7f000001', 'not a canonical literal'],
  ])('%s is not public (%s)', (a) => {
    expect(isPublicAddress(a)).toBe(false);
  });
});

describe('URLs that are never fetched', () => {
  test.each(['http://[::a9fe:a9fe]/latest/meta-data', 'http://[::ffff:169.254.169.254]/', 'http://[::1]/', 'http://0x7f000001/', 'http://[fe80::1]/'])('%s is refused before connecting', async (url) => {
    await expect(createSafeFetch(config({ allowPrivateHosts: [] }))(url)).rejects.toMatchObject(refused);
  });

  test('a redirect to the IPv4-compatible form of the metadata address is refused', async () => {
    site.on('GET /', () => ({ status: 307, headers: { location: 'http://[::a9fe:a9fe]/latest/meta-data' } }));
    await expect(createSafeFetch(config())(`${site.url}/`)).rejects.toMatchObject({ ...refused, message: expect.stringContaining('::a9fe:a9fe') });
  });

  test.each(['file:///etc/passwd', 'ftp://127.0.0.1/', 'javascript:alert(1)', 'gopher://127.0.0.1:70/'])('scheme of %s is refused', async (url) => {
    await expect(createSafeFetch(config())(url)).rejects.toMatchObject(refused);
  });

  test('a redirect to file:// is refused', async () => {
    site.on('GET /', () => ({ status: 302, headers: { location: 'file:///etc/passwd' } }));
    await expect(createSafeFetch(config())(`${site.url}/`)).rejects.toMatchObject(refused);
  });

  test('URLs with credentials are refused and nothing is sent', async () => {
    await expect(createSafeFetch(config())(`http://admin:secret@127.0.0.1:${site.port}/`)).rejects.toMatchObject(refused);
    expect(site.requests).toHaveLength(0);
  });

  test('a name resolving to a private address is refused; loopback needs the allowlist', async () => {
    await expect(createSafeFetch(config())(`http://private.example:${site.port}/`)).rejects.toMatchObject({ ...refused, message: expect.stringContaining('10.9.8.7') });
    await expect(createSafeFetch(config({ allowPrivateHosts: [] }))(`${site.url}/`)).rejects.toMatchObject(refused);
  });

  test('the allowlist takes IP addresses only, not host names', () => {
    expect(() => createSafeFetch(config({ allowPrivateHosts: ['localhost'] }))).toThrow(/IP addresses only/);
    expect(() => createSafeFetch(config({ allowPrivateHosts: ['metadata.internal'] }))).toThrow(/IP addresses only/);
  });
});

describe('limits', () => {
  test('redirects beyond maxRedirects fail, after exactly maxRedirects + 1 requests', async () => {
    site.on('GET /', () => ({ status: 302, headers: { location: '/' } }));
    await expect(createSafeFetch(config({ maxRedirects: 3 }))(`${site.url}/`)).rejects.toMatchObject({ code: ErrorCodes.FETCH_FAILED, message: expect.stringContaining('more than 3') });
    expect(site.requests).toHaveLength(4);
  });

  test('a server that never answers is given up after the time limit', async () => {
    const hung = http.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const port = (hung.address() as AddressInfo).port;
    try {
      await expect(createSafeFetch(config({ fetchTimeoutMs: 300 }))(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: ErrorCodes.FETCH_FAILED, message: expect.stringContaining('300 ms') });
    } finally {
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
  });

  test('a body beyond maxBytes is cut at maxBytes and marked truncated', async () => {
    site.on('GET /', () => ({ headers: { 'content-type': 'text/html' }, body: 'x'.repeat(50_000) }));
    const res = await createSafeFetch(config({ maxBodyBytes: 1000 }))(`${site.url}/`);
    expect(res.body.length).toBe(1000);
    expect(res.truncated).toBe(true);
  });
});

test('a POST sends its body and headers and takes a 3xx as the answer: the redirect is not followed', async () => {
  site.on('POST /hook', () => ({ status: 302, headers: { location: `${site.url}/elsewhere` } }));
  const res = await createSafeFetch(config())(`${site.url}/hook?x=1`, { method: 'POST', body: '{"ok":true}', headers: { 'content-type': 'application/json' } });
  expect(res).toMatchObject({ status: 302, redirects: [], url: `${site.url}/hook?x=1` });
  expect(res.headers.location).toBe(`${site.url}/elsewhere`);
  expect(site.requests.map((r) => [r.method, r.path, r.query.get('x'), r.json, r.headers['content-type'], r.headers['user-agent']])).toEqual([['POST', '/hook', '1', { ok: true }, 'application/json', 'enrichbot-test']]);
});

test('the connection goes to the address that was checked: one lookup per hop, Host kept', async () => {
  dns.queries.length = 0;
  const res = await createSafeFetch(config())(`http://pinned.example:${site.port}/`);
  expect(res.status).toBe(200);
  expect(dns.queries.filter((q) => q === 'A pinned.example')).toHaveLength(1);
  expect(site.requests).toHaveLength(1);
  expect(site.requests[0].headers.host).toBe(`pinned.example:${site.port}`);
});
