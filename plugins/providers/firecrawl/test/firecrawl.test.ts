// Firecrawl against a local fake of POST /v2/scrape speaking the documented wire format.
import { readFileSync } from 'node:fs';
import plugin from '../index.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { lookup } from '../../../../test/support/provider-harness.js';
import { startDnsServer, type DnsServer } from '../../../../test/support/dns-server.js';
import { ProviderError } from '../../../../src/engine/provider-error.js';
import { pino } from 'pino';
import { Registry } from '../../../../src/plugin/registry.js';
import { loadConfig } from '../../../../src/config/load.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

let fake: FakeServer;
let dns: DnsServer;
const PUBLIC = ['93.184.216.34'];
beforeAll(async () => {
  dns = await startDnsServer({
    a: {
      'acme.com': PUBLIC, 'gone.example': PUBLIC, 'firecrawl.dev': PUBLIC, 'no-such-company-zz.com': PUBLIC,
      'intranet.example': ['10.0.0.5'], 'metadata.example': ['169.254.169.254'],
    },
  });
});
afterAll(async () => {
  await dns.close();
});
beforeEach(async () => {
  fake = await startFakeServer();
});
afterEach(async () => {
  await fake.close();
});

const run = (domain = 'acme.com', config: Record<string, unknown> = {}) =>
  lookup(plugin, 'scrape-company', { domain }, { baseUrl: fake.url, apiKey: 'test-key', config, dnsServers: [dns.address] });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('firecrawl scrape-company', () => {
  test('maps the extracted JSON to canonical company fields, with credits turned into dollars', async () => {
    fake.on('POST /v2/scrape', () => ({ json: fixture('scrape-json-company.json') }));
    const result = await run();
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.7, httpStatus: 200 });
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields).toEqual({
      'company.name': 'Acme Robotics',
      'company.description': 'Acme Robotics builds warehouse picking robots for mid-size retailers.',
      'company.industry': 'Industrial automation',
      'company.employeeCount': 240,
      'company.employeeRange': '201-500',
      'company.foundedYear': 2015,
      'company.city': 'Austin',
      'company.region': 'Texas',
      'company.country': 'United States',
      'company.linkedinUrl': 'https://www.linkedin.com/company/acme-robotics',
    });
    expect(result.usage).toEqual({ credits: 5 });
    expect(result.costUsd).toBeCloseTo(0.0125, 10);
    expect(result.raw).toEqual(fixture('scrape-json-company.json'));
  });

  test('sends a v2 scrape of https://<domain> with a JSON-schema format and Bearer auth', async () => {
    fake.on('POST /v2/scrape', () => ({ json: fixture('scrape-json-company.json') }));
    await run('acme.com', { proxy: 'basic' });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req.path).toBe('/v2/scrape');
    expect(req.headers.authorization).toBe('Bearer test-key');
    expect(req.headers['content-type']).toBe('application/json');
    const body = req.json as Record<string, unknown>;
    expect(body.url).toBe('https://acme.com');
    expect(body.onlyMainContent).toBe(false);
    expect(body.maxAge).toBe(172_800_000);
    expect(body.timeout).toBe(30_000);
    expect(body.proxy).toBe('basic');
    expect(body).not.toHaveProperty('checkPromptInjection');
    const formats = body.formats as { type: string; schema: { type: string; properties: Record<string, unknown> }; prompt: string }[];
    expect(formats).toHaveLength(1);
    expect(formats[0].type).toBe('json');
    expect(formats[0].schema.type).toBe('object');
    expect(Object.keys(formats[0].schema.properties).sort()).toEqual(
      ['city', 'country', 'description', 'employeeCount', 'employeeRange', 'foundedYear', 'industry', 'linkedinUrl', 'name', 'region'].sort(),
    );
    expect(formats[0].prompt).toMatch(/never guess/);
  });

  test('refuses anything but a bare domain name without calling Firecrawl', async () => {
    const err = await failure(run('acme.com/evil?x=1'));
    expect(err.kind).toBe('client');
    expect(fake.requests).toHaveLength(0);
  });

  test.each(['intranet.example', 'metadata.example'])('a domain resolving to a private address (%s) is refused before Firecrawl is called', async (domain) => {
    fake.on('POST /v2/scrape', () => ({ json: fixture('scrape-json-company.json') }));
    const err = await failure(run(domain));
    expect(err.kind).toBe('client');
    expect(err.message).toMatch(/private, loopback or link-local/);
    expect(fake.requests).toHaveLength(0);
  });

  test('a domain that does not resolve here is a free no_match: Firecrawl is not paid to say so', async () => {
    const result = await run('unregistered-zz.com');
    expect(result).toMatchObject({ outcome: 'no_match', reason: 'unregistered-zz.com does not resolve', costUsd: 0 });
    expect(fake.requests).toHaveLength(0);
  });

  test('an answer without creditsUsed is recorded at the worst case of 9 credits, never less', async () => {
    const body = fixture('scrape-json-company.json') as { data: { metadata: Record<string, unknown> } };
    delete body.data.metadata.creditsUsed;
    fake.on('POST /v2/scrape', () => ({ json: body }));
    const result = await run();
    expect(result.outcome).toBe('matched');
    expect(result.usage).toMatchObject({ credits: 9 });
    expect(result.costUsd).toBeCloseTo(9 * 0.0025, 10);
    expect(plugin.defaults.costs?.['scrape-company']?.usd).toBeCloseTo(9 * 0.0025, 10); // what the cap reserves
  });

  test('checkPromptInjection is never sent, even if configured', async () => {
    fake.on('POST /v2/scrape', () => ({ json: fixture('scrape-json-company.json') }));
    await run('acme.com', { checkPromptInjection: true });
    expect(fake.requests[0].json).not.toHaveProperty('checkPromptInjection');
  });

  test('a domain that does not resolve (200, success false) is a no_match billed one credit', async () => {
    fake.on('POST /v2/scrape', () => ({ json: fixture('dns-resolution-error.json') }));
    const result = await run('no-such-company-zz.com');
    expect(result).toMatchObject({ outcome: 'no_match', httpStatus: 200, usage: { credits: 1 } });
    expect(result.costUsd).toBeCloseTo(0.0025, 10);
    expect(result.raw).toEqual(fixture('dns-resolution-error.json'));
  });

  test('the target site answering 404 is a no_match, still billed', async () => {
    fake.on('POST /v2/scrape', () => ({ json: fixture('site-404.json') }));
    const result = await run('gone.example');
    expect(result).toMatchObject({ outcome: 'no_match', reason: 'https://gone.example answered HTTP 404', usage: { credits: 5 } });
  });

  test('extracted JSON with none of our keys (the documented example) is a no_match', async () => {
    fake.on('POST /v2/scrape', () => ({ json: fixture('scrape-json-docs-example.json') }));
    const result = await run('firecrawl.dev');
    expect(result).toMatchObject({ outcome: 'no_match', reason: 'no company facts found on https://firecrawl.dev' });
  });

  test('drops values of the wrong type or shape instead of failing', async () => {
    const body = fixture('scrape-json-company.json') as { data: { json: Record<string, unknown> } };
    body.data.json = { name: 'Acme', employeeCount: '240', foundedYear: 3050, linkedinUrl: 'https://twitter.com/acme' };
    fake.on('POST /v2/scrape', () => ({ json: body }));
    const result = await run();
    expect(result.outcome).toBe('matched');
    if (result.outcome === 'matched') expect(result.fields).toEqual({ 'company.name': 'Acme' });
  });

  test('401 is an auth error', async () => {
    fake.on('POST /v2/scrape', () => ({ status: 401, json: fixture('error-401.json') }));
    const err = await failure(run());
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/FIRECRAWL_API_KEY/);
  });

  test('429 with Retry-After is rate_limited with the delay', async () => {
    fake.on('POST /v2/scrape', () => ({ status: 429, headers: { 'retry-after': '12' }, json: fixture('error-429.json') }));
    const err = await failure(run());
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(12_000);
  });

  test('500 is a server error', async () => {
    fake.on('POST /v2/scrape', () => ({ status: 500, json: fixture('error-500.json') }));
    const err = await failure(run());
    expect(err.kind).toBe('server');
    expect(err.raw).toEqual(fixture('error-500.json'));
  });

  test('a malformed 200 body is invalid_response with the raw body kept', async () => {
    fake.on('POST /v2/scrape', () => ({ json: { success: true, data: 'not an object' } }));
    const err = await failure(run());
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ success: true, data: 'not an object' });
  });
});

describe('firecrawl in the registry', () => {
  test('loads with FIRECRAWL_API_KEY and joins the companyProfile waterfall', async () => {
    const config = loadConfig({
      env: { FIRECRAWL_API_KEY: 'fc-test' },
      useDefaultFile: false,
      overrides: { plugins: { providers: ['firecrawl'] }, waterfalls: { companyProfile: ['firecrawl'] } },
    });
    const registry = new Registry({ config, logger: pino({ level: 'silent' }), plugins: { firecrawl: plugin } });
    await registry.load();
    expect(registry.providers.get('firecrawl')).toMatchObject({ enabled: true, settings: { apiKey: 'fc-test' } });
  });
});
