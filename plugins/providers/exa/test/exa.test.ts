// Exa against a local fake of POST /search and POST /findSimilar in the documented wire format.
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

let fake: FakeServer;
beforeEach(async () => {
  fake = await startFakeServer();
});
afterEach(async () => {
  await fake.close();
});

const run = (operation: string, input: LookupInput, config: Record<string, unknown> = {}) =>
  lookup(plugin, operation, input, { baseUrl: fake.url, apiKey: 'test-key', config });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

const SEARCH_MENTIONS = [
  { title: 'A Comprehensive Overview of Large Language Models', url: 'https://arxiv.org/pdf/2307.06435.pdf', publishedDate: '2023-11-16' },
  { title: 'www.example-news.com', url: 'https://www.example-news.com/2024/05/llm-survey-interview' },
];

describe('exa person-mentions', () => {
  test('maps the documented search answer to person.webMentions, costDollars as costUsd', async () => {
    fake.on('POST /search', () => ({ json: fixture('search-example.json') }));
    const result = await run('person-mentions', { fullName: 'Humza Naveed', companyName: 'UET Lahore' });
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.7, costUsd: 0.007, httpStatus: 200 });
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields).toEqual({ 'person.webMentions': SEARCH_MENTIONS });
    expect(result.raw).toEqual(fixture('search-example.json'));
  });

  test('sends the query with x-api-key, the search type and the name as includeText', async () => {
    fake.on('POST /search', () => ({ json: fixture('search-example.json') }));
    await run('person-mentions', { fullName: 'Jane Doe', companyName: 'Acme Robotics' });
    const req = fake.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/search');
    expect(req.headers['x-api-key']).toBe('test-key');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.json).toEqual({ query: '"Jane Doe" "Acme Robotics"', type: 'auto', numResults: 10, includeText: ['Jane Doe'], contents: { text: { maxCharacters: 1500 } } });
  });

  test('with only a domain, and with the lite type (which rejects includeText)', async () => {
    fake.on('POST /search', () => ({ json: fixture('search-example.json') }));
    await run('person-mentions', { fullName: 'Jane Doe', domain: 'acme.com' }, { searchType: 'lite', numResults: 5, pageTextChars: 0 });
    expect(fake.requests[0].json).toEqual({ query: '"Jane Doe" acme.com', type: 'lite', numResults: 5 });
  });

  test('an empty answer is a no_match that still carries its cost', async () => {
    fake.on('POST /search', () => ({ json: fixture('search-empty.json') }));
    const result = await run('person-mentions', { fullName: 'Nobody Atall', domain: 'acme.com' });
    expect(result).toEqual({ outcome: 'no_match', reason: 'no pages mention Nobody Atall', raw: fixture('search-empty.json'), httpStatus: 200, costUsd: 0.007 });
  });

  test('401 is an auth error', async () => {
    fake.on('POST /search', () => ({ status: 401, json: fixture('error-401.json') }));
    const err = await failure(run('person-mentions', { fullName: 'Jane Doe', domain: 'acme.com' }));
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/EXA_API_KEY/);
  });

  test('429 with Retry-After is rate_limited with the delay', async () => {
    fake.on('POST /search', () => ({ status: 429, headers: { 'retry-after': '2' }, json: fixture('error-429.json') }));
    const err = await failure(run('person-mentions', { fullName: 'Jane Doe', domain: 'acme.com' }));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(2000);
  });

  test('500 is a server error', async () => {
    fake.on('POST /search', () => ({ status: 500, json: fixture('error-500.json') }));
    const err = await failure(run('person-mentions', { fullName: 'Jane Doe', domain: 'acme.com' }));
    expect(err.kind).toBe('server');
  });

  test('a body without results is invalid_response with the raw body kept', async () => {
    fake.on('POST /search', () => ({ json: { requestId: 'x', costDollars: { total: 0.007 } } }));
    const err = await failure(run('person-mentions', { fullName: 'Jane Doe', domain: 'acme.com' }));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ requestId: 'x', costDollars: { total: 0.007 } });
  });
});

describe('exa company-mentions', () => {
  test('maps results to company.webMentions and leaves the company site out of the search', async () => {
    fake.on('POST /search', () => ({ json: fixture('search-example.json') }));
    const result = await run('company-mentions', { companyName: 'Acme Robotics', domain: 'acme.com' });
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.7, costUsd: 0.007 });
    if (result.outcome === 'matched') expect(result.fields).toEqual({ 'company.webMentions': SEARCH_MENTIONS });
    expect(fake.requests[0].json).toEqual({
      query: '"Acme Robotics"',
      type: 'auto',
      numResults: 10,
      includeText: ['Acme Robotics'],
      excludeDomains: ['acme.com'],
    });
  });

  test('with only a domain, searches for the domain', async () => {
    fake.on('POST /search', () => ({ json: fixture('search-empty.json') }));
    const result = await run('company-mentions', { domain: 'acme.com' });
    expect(result).toMatchObject({ outcome: 'no_match', costUsd: 0.007 });
    expect(fake.requests[0].json).toEqual({ query: 'acme.com', type: 'auto', numResults: 10, excludeDomains: ['acme.com'] });
  });
});

describe('exa find-similar', () => {
  test('maps similar pages to unverified lookalikes, one per registrable domain, not the source', async () => {
    fake.on('POST /findSimilar', () => ({ json: fixture('find-similar-example.json') }));
    const result = await run('find-similar', { domain: 'stripe.com' });
    expect(result).toMatchObject({ outcome: 'matched', confidence: 0.6, costUsd: 0.005, httpStatus: 200 });
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields).toEqual({
      'company.lookalikes': [
        { domain: 'adyen.com', name: 'Adyen', reason: 'Exa rates https://www.adyen.com/ similar to the homepage of stripe.com (similarity 0.81)', verified: false, sources: ['exa'] },
        {
          domain: 'checkout.com',
          name: 'Checkout.com',
          reason: 'Exa rates https://www.checkout.com/ similar to the homepage of stripe.com (similarity 0.79)',
          verified: false,
          sources: ['exa'],
        },
      ],
    });
  });

  test('sends the homepage URL with x-api-key, excludeSourceDomain and the company category', async () => {
    fake.on('POST /findSimilar', () => ({ json: fixture('find-similar-example.json') }));
    await run('find-similar', { domain: 'stripe.com' });
    const req = fake.requests[0];
    expect(req.path).toBe('/findSimilar');
    expect(req.headers['x-api-key']).toBe('test-key');
    expect(req.json).toEqual({ url: 'https://stripe.com', numResults: 10, excludeSourceDomain: true, category: 'company' });
  });

  test('no similar pages is a no_match that still carries its cost', async () => {
    fake.on('POST /findSimilar', () => ({ json: fixture('search-empty.json') }));
    const result = await run('find-similar', { domain: 'acme.com' }, { similarCategory: null });
    expect(result).toMatchObject({ outcome: 'no_match', costUsd: 0.007 });
    expect(fake.requests[0].json).toEqual({ url: 'https://acme.com', numResults: 10, excludeSourceDomain: true });
  });

  test('a 404 answer is a no_match', async () => {
    fake.on('POST /findSimilar', () => ({ status: 404, json: { error: 'Not found' } }));
    const result = await run('find-similar', { domain: 'acme.com' });
    expect(result).toMatchObject({ outcome: 'no_match', httpStatus: 404 });
  });

  test('401 is an auth error', async () => {
    fake.on('POST /findSimilar', () => ({ status: 401, json: fixture('error-401.json') }));
    expect((await failure(run('find-similar', { domain: 'acme.com' }))).kind).toBe('auth');
  });

  test('429 with Retry-After is rate_limited with the delay', async () => {
    fake.on('POST /findSimilar', () => ({ status: 429, headers: { 'retry-after': '1' }, json: fixture('error-429.json') }));
    const err = await failure(run('find-similar', { domain: 'acme.com' }));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(1000);
  });

  test('500 is a server error', async () => {
    fake.on('POST /findSimilar', () => ({ status: 500, json: fixture('error-500.json') }));
    expect((await failure(run('find-similar', { domain: 'acme.com' }))).kind).toBe('server');
  });

  test('a malformed body is invalid_response with the raw body kept', async () => {
    fake.on('POST /findSimilar', () => ({ json: { results: 'none' } }));
    const err = await failure(run('find-similar', { domain: 'acme.com' }));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ results: 'none' });
  });
});

describe('exa in the registry', () => {
  test('loads with EXA_API_KEY and joins the mentions and lookalikes waterfalls', async () => {
    const config = loadConfig({
      env: { EXA_API_KEY: 'exa-test' },
      useDefaultFile: false,
      overrides: { plugins: { providers: ['exa'] }, waterfalls: { personMentions: ['exa'], companyMentions: ['exa'], lookalikes: ['exa'] } },
    });
    const registry = new Registry({ config, logger: pino({ level: 'silent' }), plugins: { exa: plugin } });
    await registry.load();
    expect(registry.providers.get('exa')).toMatchObject({ enabled: true, settings: { apiKey: 'exa-test' } });
  });
});

describe('exa fidelity to the current docs', () => {
  test('the keyword search type, no longer listed by Exa, is refused at config time', () => {
    expect(plugin.configSchema.safeParse({ searchType: 'keyword' }).success).toBe(false);
    expect(plugin.configSchema.safeParse({ searchType: 'fast' }).success).toBe(true);
  });

  test('a 200 with none of the documented fields is an error with the raw body, never a miss', async () => {
    const odd = { unexpected: ['shape'], version: 99 };
    fake.on('POST /search', () => ({ json: odd }));
    const err = await failure(run('person-mentions', { fullName: 'Jane Doe', domain: 'acme.com' }));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual(odd);
  });
});
