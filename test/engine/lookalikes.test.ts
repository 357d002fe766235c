// Lookalikes: candidates from two sources are joined, each is checked by the real dns and
// website providers (local DNS server, fixture site), and only confirmed ones are "verified".
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';

let api: FakeServer;
let site: FakeServer;
let dns: DnsServer;
let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  api = await startFakeServer();
  site = await startFakeServer({ 'GET /': (req) => (req.headers.host?.startsWith('beta.com') ? { headers: { 'content-type': 'text/html' }, body: '<title>Beta Widgets</title><meta name="description" content="Widgets.">' } : { status: 404, body: '' }) });
  dns = await startDnsServer({ a: { 'beta.com': ['127.0.0.1'] }, mx: { 'alpha.com': [{ exchange: 'aspmx.l.google.com', priority: 1 }] } });
  app = await startTestApp({
    file: 'lookalikes',
    dnsServers: [dns.address],
    plugins: {
      similar: httpProvider({ id: 'similar', returns: ['company.lookalikes'], needs: [['domain']], usd: 0.007, missCharged: true }),
      llm: httpProvider({ id: 'llm', returns: ['company.lookalikes'], needs: [['domain']], usd: 0.002 }),
    },
    overrides: {
      plugins: { providers: ['similar', 'llm', 'dns', 'website'] },
      providers: { similar: { baseUrl: api.url }, llm: { baseUrl: api.url }, dns: { servers: [dns.address] }, website: { httpsPort: 9, httpPort: site.port } },
      net: { allowPrivateHosts: ['127.0.0.1'] },
      waterfalls: { mailServer: ['dns'], lookalikes: ['similar', 'llm'] },
    },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await Promise.all([api.close(), site.close(), dns.close()]);
});

test('lookalikes run only on request, ask every source, and mark each candidate verified or not', async () => {
  api.on('POST /similar', () => ({ json: { found: true, confidence: 0.6, fields: { 'company.lookalikes': [
    { domain: 'https://www.alpha.com/', name: 'Alpha', reason: 'same market', verified: false, sources: ['similar'] },
    { domain: 'ghost-company.com', reason: 'similar pages', verified: false, sources: ['similar'] },
    { domain: 'acme.com', reason: 'itself', verified: false, sources: ['similar'] },
  ] } } }));
  api.on('POST /llm', () => ({ json: { found: true, confidence: 0.5, fields: { 'company.lookalikes': [
    { domain: 'beta.com', name: 'Beta', reason: 'also sells widgets', verified: false, sources: ['llm'] },
    { domain: 'alpha.com', name: 'Alpha Inc', reason: 'competitor', verified: false, sources: ['llm'] },
  ] } } }));

  const plain = await app.enrichAndWait({ workspace: 'L', input: 'acme.com' });
  expect(plain.outcomes.some((o) => o.group === 'lookalikes')).toBe(false);

  const r = await app.enrichAndWait({ workspace: 'L', input: 'acme.com', groups: ['lookalikes'] });
  expect(r.status).toBe('done');
  const list = r.company?.fields.lookalikes.value as { domain: string; verified: boolean; sources: string[]; name?: string }[];
  expect(list.map((c) => c.domain)).toEqual(['alpha.com', 'ghost-company.com', 'beta.com']); // joined, own domain dropped, agreed-on first
  const by = Object.fromEntries(list.map((c) => [c.domain, c]));
  expect(by['alpha.com']).toMatchObject({ verified: true, sources: ['similar', 'llm', 'verified:dns'] });
  expect(by['beta.com']).toMatchObject({ verified: true, name: 'Beta', sources: ['llm', 'verified:website'] });
  expect(by['ghost-company.com']).toMatchObject({ verified: false, sources: ['similar'] });
  expect(r.outcomes.filter((o) => o.group === 'lookalikes' && o.provider !== 'similar' && o.provider !== 'llm').length).toBeGreaterThanOrEqual(3);
  expect(r.costUsd).toBeCloseTo(0.009, 6);
});
