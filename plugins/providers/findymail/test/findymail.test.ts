// Findymail against a local fake speaking its wire format: the documented {"contact": ...}
// answer mapped to a verified work email; misses, credit/subscription refusals and HTTP failures.
import { readFileSync } from 'node:fs';
import plugin from '../index.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { lookup, providerFailure } from '../../../../test/support/provider-harness.js';
import { FIELD_SCHEMAS } from '../../../../src/engine/fields.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const failure = providerFailure;

let fake: FakeServer;
beforeEach(async () => {
  fake = await startFakeServer();
});
afterEach(async () => {
  await fake.close();
});

const opts = () => ({ baseUrl: fake.url, apiKey: 'test-key' });
const profileInput = { linkedinUrl: 'https://www.linkedin.com/in/johndoe' };
const nameInput = { fullName: 'John Doe', domain: 'website.com' };

describe('findymail search-business-profile', () => {
  test('maps the documented example to a verified work email', async () => {
    fake.on('POST /api/search/business-profile', () => ({ json: fixture('search-business-profile.json') }));
    const result = await lookup(plugin, 'search-business-profile', profileInput, opts());
    expect(result).toEqual({
      outcome: 'matched',
      fields: { 'person.workEmail': 'john@website.com', 'person.workEmailStatus': 'valid' },
      confidence: 0.9,
      raw: fixture('search-business-profile.json'),
      httpStatus: 200,
    });
    for (const [field, value] of Object.entries(result.outcome === 'matched' ? result.fields : {})) expect(FIELD_SCHEMAS[field].safeParse(value).success).toBe(true);
  });

  test('sends POST /api/search/business-profile with a Bearer token and linkedin_url', async () => {
    fake.on('POST /api/search/business-profile', () => ({ json: fixture('search-business-profile.json') }));
    await lookup(plugin, 'search-business-profile', profileInput, opts());
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/api/search/business-profile');
    expect(req.headers.authorization).toBe('Bearer test-key');
    expect(req.headers.accept).toBe('application/json');
    expect(req.json).toEqual({ linkedin_url: 'https://www.linkedin.com/in/johndoe' });
  });

  test('no contact (the miss body is undocumented: contact null, absent, or without email) -> no_match', async () => {
    for (const body of [fixture('no-contact.json'), {}, { contact: { name: 'John Doe', domain: 'website.com', email: null } }]) {
      fake.on('POST /api/search/business-profile', () => ({ json: body }));
      const result = await lookup(plugin, 'search-business-profile', profileInput, opts());
      expect(result).toEqual({ outcome: 'no_match', reason: 'Findymail found no verified email', raw: body, httpStatus: 200 });
    }
  });

  test('a 200 with none of the documented fields is an error with the raw body, never a miss', async () => {
    const odd = { unexpected: ['shape'], version: 99 };
    fake.on('POST /api/search/business-profile', () => ({ json: odd }));
    const err = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual(odd);
  });

  test('404 -> no_match', async () => {
    fake.on('POST /api/search/business-profile', () => ({ status: 404, json: { message: 'Not found.' } }));
    const result = await lookup(plugin, 'search-business-profile', profileInput, opts());
    expect(result.outcome).toBe('no_match');
    expect(result.httpStatus).toBe(404);
  });

  test('401 -> auth error naming FINDYMAIL_API_KEY', async () => {
    fake.on('POST /api/search/business-profile', () => ({ status: 401, json: fixture('unauthenticated-401.json') }));
    const err = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('FINDYMAIL_API_KEY');
  });

  test('429 with Retry-After -> rate_limited with retryAfterMs', async () => {
    fake.on('POST /api/search/business-profile', () => ({ status: 429, headers: { 'retry-after': '30' }, json: { message: 'Too Many Attempts.' } }));
    const err = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(30000);
  });

  test('500 -> server error', async () => {
    fake.on('POST /api/search/business-profile', () => ({ status: 500, json: { message: 'Server Error' } }));
    const err = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect(err.kind).toBe('server');
  });

  test('documented 402 "Not enough credits" and 423 "Subscription is paused" -> permanent client errors', async () => {
    fake.on('POST /api/search/business-profile', () => ({ status: 402, json: fixture('not-enough-credits-402.json') }));
    const credits = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect([credits.kind, credits.httpStatus]).toEqual(['client', 402]);
    fake.on('POST /api/search/business-profile', () => ({ status: 423, json: fixture('subscription-paused-423.json') }));
    const paused = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect([paused.kind, paused.httpStatus]).toEqual(['client', 423]);
    expect(paused.raw).toEqual({ error: 'Subscription is paused' });
  });

  test('an error body with HTTP 200 is a refusal, not a miss', async () => {
    fake.on('POST /api/search/business-profile', () => ({ json: fixture('not-enough-credits-402.json') }));
    const err = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect(err.kind).toBe('client');
    expect(err.message).toContain('Not enough credits');
  });

  test('a 200 body of the wrong shape -> invalid_response with the raw body kept', async () => {
    fake.on('POST /api/search/business-profile', () => ({ json: { contact: 'john@website.com' } }));
    const err = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ contact: 'john@website.com' });
    fake.on('POST /api/search/business-profile', () => ({ json: [fixture('search-business-profile.json')] }));
    const array = await failure(lookup(plugin, 'search-business-profile', profileInput, opts()));
    expect(array.kind).toBe('invalid_response');
  });
});

describe('findymail search-name', () => {
  test('maps the documented example and sends name + domain', async () => {
    fake.on('POST /api/search/name', () => ({ json: fixture('search-name.json') }));
    const result = await lookup(plugin, 'search-name', nameInput, opts());
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields).toEqual({ 'person.workEmail': 'john@website.com', 'person.workEmailStatus': 'valid' });
    expect(result.confidence).toBe(0.9);
    expect(fake.requests[0].path).toBe('/api/search/name');
    expect(fake.requests[0].headers.authorization).toBe('Bearer test-key');
    expect(fake.requests[0].json).toEqual({ name: 'John Doe', domain: 'website.com' });
  });

  test('without a domain the company name is sent as domain, at the lower confidence', async () => {
    fake.on('POST /api/search/name', () => ({ json: fixture('search-name.json') }));
    const result = await lookup(plugin, 'search-name', { fullName: 'John Doe', companyName: 'Website Inc' }, opts());
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.confidence).toBe(0.75);
    expect(fake.requests[0].json).toEqual({ name: 'John Doe', domain: 'Website Inc' });
  });

  test('no contact -> no_match', async () => {
    fake.on('POST /api/search/name', () => ({ json: fixture('no-contact.json') }));
    const result = await lookup(plugin, 'search-name', nameInput, opts());
    expect(result.outcome).toBe('no_match');
  });
});
