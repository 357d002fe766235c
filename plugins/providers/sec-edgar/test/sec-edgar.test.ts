// SEC EDGAR against a local fake serving the tickers file and data.sec.gov submissions in the
// documented formats. Each test has its own server, so its own tickers-cache key.
import { readFileSync } from 'node:fs';
import plugin from '../index.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { lookup } from '../../../../test/support/provider-harness.js';
import { ProviderError } from '../../../../src/engine/provider-error.js';
import { pino } from 'pino';
import { Registry } from '../../../../src/plugin/registry.js';
import { loadConfig } from '../../../../src/config/load.js';
import type { LookupInput } from '../../../../src/plugin/contract.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const UA = 'enrichbot tests ops@example.com';
const TICKERS = '/files/company_tickers.json';
const APPLE = '/submissions/CIK0000320193.json';

let fake: FakeServer;
beforeEach(async () => {
  fake = await startFakeServer({ [`GET ${TICKERS}`]: () => ({ json: fixture('company_tickers.json') }) });
});
afterEach(async () => {
  await fake.close();
});

const config = (extra: Record<string, unknown> = {}) => ({ userAgent: UA, tickersUrl: `${fake.url}${TICKERS}`, ...extra });
const run = (input: LookupInput, extra: Record<string, unknown> = {}) => lookup(plugin, 'company', input, { baseUrl: fake.url, config: config(extra) });
const hits = (path: string) => fake.requests.filter((r) => r.path === path).length;

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** The Apple fixture with filing dates moved relative to today, so the 90-day count is stable. */
function appleSubmissions(): Record<string, unknown> {
  const body = fixture('submissions-CIK0000320193.json') as { filings: { recent: { filingDate: string[] } } };
  body.filings.recent.filingDate = [2, 1, 30, 60, 89, 100, 120, 200].map(daysAgo);
  return body as unknown as Record<string, unknown>;
}

const ARCHIVES = 'https://www.sec.gov/Archives/edgar/data/320193';

describe('sec-edgar company', () => {
  test('by ticker: maps the submissions answer to canonical fields', async () => {
    const body = appleSubmissions();
    fake.on(`GET ${APPLE}`, () => ({ json: body }));
    const result = await run({ ticker: 'aapl' });
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.95, httpStatus: 200 });
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields).toEqual({
      'company.secCik': '0000320193',
      'company.name': 'Apple Inc.',
      'company.ticker': 'AAPL',
      'company.industry': 'Electronic Computers',
      'company.sicCode': '3571',
      'company.address': 'ONE APPLE PARK WAY, CUPERTINO, CA 95014',
      'company.recentFilings': [
        { form: '10-Q', filedAt: daysAgo(2), accession: '0000320193-25-000071', url: `${ARCHIVES}/000032019325000071/aapl-20250628.htm` },
        { form: '10-Q', filedAt: daysAgo(60), accession: '0000320193-25-000068', url: `${ARCHIVES}/000032019325000068/aapl-20250329.htm` },
        { form: '10-Q', filedAt: daysAgo(100), accession: '0000320193-25-000057', url: `${ARCHIVES}/000032019325000057/aapl-20241228.htm` },
        { form: '10-K', filedAt: daysAgo(200), accession: '0000320193-24-000123', url: `${ARCHIVES}/000032019324000123/aapl-20240928.htm` },
      ],
      'company.insiderFilingCount90d': 3,
    });
    expect(result.raw).toEqual({ matchedBy: 'ticker', submissions: body });
  });

  test('sends the configured User-Agent to both hosts and asks for the zero-padded CIK', async () => {
    fake.on(`GET ${APPLE}`, () => ({ json: appleSubmissions() }));
    await run({ ticker: 'AAPL' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${TICKERS}`, `GET ${APPLE}`]);
    for (const r of fake.requests) expect(r.headers['user-agent']).toBe(UA);
  });

  test('by company name, written differently from the SEC title', async () => {
    fake.on(`GET ${APPLE}`, () => ({ json: appleSubmissions() }));
    const result = await run({ companyName: 'APPLE, INC' });
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.85, raw: { matchedBy: 'name' } });
    if (result.outcome === 'matched') expect(result.fields['company.ticker']).toBe('AAPL');
  });

  test("by the domain's label as a weak fallback", async () => {
    fake.on(`GET ${APPLE}`, () => ({ json: appleSubmissions() }));
    const result = await run({ domain: 'apple.com' });
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.4, raw: { matchedBy: 'domain' } });
  });

  test('by CIK: no tickers file needed, ticker from the submissions', async () => {
    fake.on(`GET ${APPLE}`, () => ({ json: appleSubmissions() }));
    const result = await run({ secCik: '320193' });
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.99 });
    if (result.outcome === 'matched') expect(result.fields['company.ticker']).toBe('AAPL');
    expect(hits(TICKERS)).toBe(0);
  });

  test('a class-share ticker written with a dot finds the SEC dash form', async () => {
    fake.on('GET /submissions/CIK0001067983.json', () => ({ json: { ...appleSubmissions(), cik: '1067983', name: 'BERKSHIRE HATHAWAY INC', tickers: ['BRK-B', 'BRK-A'] } }));
    const result = await run({ ticker: 'BRK.B' });
    expect(result.outcome).toBe('matched');
    if (result.outcome === 'matched') expect(result.fields).toMatchObject({ 'company.secCik': '0001067983', 'company.ticker': 'BRK-B' });
  });

  test('the tickers file is downloaded once and then served from memory', async () => {
    fake.on(`GET ${APPLE}`, () => ({ json: appleSubmissions() }));
    await Promise.all([run({ ticker: 'AAPL' }), run({ ticker: 'AAPL' })]);
    await run({ companyName: 'Apple' });
    expect(hits(TICKERS)).toBe(1);
    expect(hits(APPLE)).toBe(3);
  });

  test('the tickers file is downloaded again after the refresh age', async () => {
    fake.on(`GET ${APPLE}`, () => ({ json: appleSubmissions() }));
    await run({ ticker: 'AAPL' }, { tickersRefreshMinutes: 0 });
    await run({ ticker: 'AAPL' }, { tickersRefreshMinutes: 0 });
    expect(hits(TICKERS)).toBe(2);
  });

  test('an unknown company is a no_match without a submissions call', async () => {
    const result = await run({ ticker: 'ZZZZ', companyName: 'No Such Company' });
    expect(result).toMatchObject({ outcome: 'no_match', reason: 'no SEC registrant has the ticker ZZZZ; no SEC registrant is named "No Such Company"' });
    expect(fake.requests.map((r) => r.path)).toEqual([TICKERS]);
  });

  test('a name that fits two registrants matches neither', async () => {
    fake.on(`GET ${TICKERS}`, () => ({
      json: { '0': { cik_str: 1, ticker: 'ACMA', title: 'Acme Corp' }, '1': { cik_str: 2, ticker: 'ACMB', title: 'ACME INC /DE/' } },
    }));
    const result = await run({ companyName: 'Acme' });
    expect(result).toMatchObject({ outcome: 'no_match', reason: '"Acme" fits several SEC registrants' });
  });

  test('EDGAR answering 404 for the CIK is a no_match', async () => {
    // data.sec.gov answers an unknown CIK with 404 and an XML (S3-style) body.
    fake.on('GET /submissions/CIK0000000042.json', () => ({
      status: 404,
      headers: { 'content-type': 'application/xml' },
      body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
    }));
    const result = await run({ secCik: '42' });
    expect(result).toMatchObject({ outcome: 'no_match', httpStatus: 404, reason: 'EDGAR has no submissions for CIK 0000000042' });
  });

  test('401 is an auth error', async () => {
    fake.on(`GET ${APPLE}`, () => ({ status: 401, body: 'Unauthorized' }));
    expect((await failure(run({ secCik: '320193' }))).kind).toBe('auth');
  });

  test('403 (undeclared User-Agent or too fast) is an auth error that says so', async () => {
    fake.on(`GET ${TICKERS}`, () => ({ status: 403, body: '<html><h1>Your Request Originates from an Undeclared Automated Tool</h1></html>' }));
    const err = await failure(run({ ticker: 'AAPL' }));
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/User-Agent/);
    expect(err.message).not.toMatch(/API_KEY/);
  });

  test('429 with Retry-After is rate_limited with the delay', async () => {
    fake.on(`GET ${APPLE}`, () => ({ status: 429, headers: { 'retry-after': '600' }, body: 'Request Rate Threshold Exceeded' }));
    const err = await failure(run({ secCik: '320193' }));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(600_000);
  });

  test('500 is a server error', async () => {
    fake.on(`GET ${APPLE}`, () => ({ status: 500, body: 'Internal Server Error' }));
    expect((await failure(run({ secCik: '320193' }))).kind).toBe('server');
  });

  test('a malformed submissions body is invalid_response with the raw body kept', async () => {
    fake.on(`GET ${APPLE}`, () => ({ json: { cik: '320193', name: 'Apple Inc.' } }));
    const err = await failure(run({ secCik: '320193' }));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ cik: '320193', name: 'Apple Inc.' });
  });

  test('a tickers file that is not the documented format is invalid_response, and is not cached', async () => {
    fake.on(`GET ${TICKERS}`, () => ({ json: [{ ticker: 'AAPL' }] }));
    expect((await failure(run({ ticker: 'AAPL' }))).kind).toBe('invalid_response');
    fake.on(`GET ${TICKERS}`, () => ({ json: fixture('company_tickers.json') }));
    fake.on(`GET ${APPLE}`, () => ({ json: appleSubmissions() }));
    expect((await run({ ticker: 'AAPL' })).outcome).toBe('matched');
  });
});

describe('sec-edgar config', () => {
  test('refuses to parse without a userAgent, and says why', () => {
    const parsed = plugin.configSchema.safeParse({});
    expect(parsed.success).toBe(false);
    if (!parsed.success) {
      expect(parsed.error.issues[0].path).toEqual(['userAgent']);
      expect(parsed.error.issues[0].message).toMatch(/User-Agent naming you with a contact email/);
    }
  });

  test('refuses a userAgent without a contact email', () => {
    const parsed = plugin.configSchema.safeParse({ userAgent: 'enrichbot' });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues[0].message).toMatch(/must contain a contact email/);
  });

  test('fills in the defaults', () => {
    expect(plugin.configSchema.parse({ userAgent: UA })).toEqual({
      userAgent: UA,
      tickersUrl: 'https://www.sec.gov/files/company_tickers.json',
      tickersRefreshMinutes: 1440,
      archivesUrl: 'https://www.sec.gov/Archives/edgar/data',
      recentFilingsLimit: 10,
      recentFilingsSkipForms: ['3', '4', '5', '3/A', '4/A', '5/A'],
      confidence: { cik: 0.99, ticker: 0.95, name: 0.85, domain: 0.4 },
    });
  });
});

describe('sec-edgar in the registry', () => {
  const load = (providerConfig: Record<string, unknown>) => {
    const config = loadConfig({
      env: {},
      useDefaultFile: false,
      overrides: { plugins: { providers: ['sec-edgar'] }, providers: { 'sec-edgar': providerConfig }, waterfalls: { publicCompany: ['sec-edgar'] } },
    });
    return new Registry({ config, logger: pino({ level: 'silent' }), plugins: { 'sec-edgar': plugin } }).load();
  };

  test('loads without an API key when a userAgent is set, and joins the publicCompany waterfall', async () => {
    await expect(load({ userAgent: UA })).resolves.toBeUndefined();
  });

  test('explicitly enabled without a userAgent, start-up fails naming the key and what to put there', async () => {
    const err = (await load({ enabled: true }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { problems?: string[]; message: string };
    expect(err).toBeDefined();
    expect([err.message, ...(err.problems ?? [])].join('\n')).toMatch(/providers\.sec-edgar\.userAgent: got nothing; required: the SEC requires a User-Agent/);
  });

  test('left on auto without a userAgent, it is skipped with the setting to add', async () => {
    const config = loadConfig({ env: {}, useDefaultFile: false, overrides: { plugins: { providers: ['sec-edgar'] } } });
    const registry = new Registry({ config, logger: pino({ level: 'silent' }), plugins: { 'sec-edgar': plugin } });
    await registry.load();
    expect(registry.providers.get('sec-edgar')).toMatchObject({ enabled: false, disabledReason: 'not configured: set providers.sec-edgar.userAgent' });
    const withEnv = loadConfig({ env: { SEC_EDGAR_USER_AGENT: UA }, useDefaultFile: false, overrides: { plugins: { providers: ['sec-edgar'] } } });
    const r2 = new Registry({ config: withEnv, logger: pino({ level: 'silent' }), plugins: { 'sec-edgar': plugin } });
    await r2.load();
    expect(r2.providers.get('sec-edgar')?.enabled).toBe(true);
  });
});
