// LeadMagic against a local fake speaking its wire format: documented examples in, canonical
// fields and actual credit costs out; misses (200 + email null, or 404) and failures mapped.
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
const profileInput = { linkedinUrl: 'https://www.linkedin.com/in/alex-rivera' };
const nameInput = { firstName: 'Jesse', lastName: 'Ouellette', fullName: 'Jesse Ouellette', domain: 'leadmagic.io' };

describe('leadmagic b2b-profile-email', () => {
  test('maps the documented example to workEmail; cost is credits_consumed x price per credit', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ json: fixture('b2b-profile-email.json') }));
    const result = await lookup(plugin, 'b2b-profile-email', profileInput, opts());
    expect(result).toEqual({
      outcome: 'matched',
      fields: { 'person.workEmail': 'alex.rivera@example.com', 'person.workEmailStatus': 'valid' },
      confidence: 0.85,
      raw: fixture('b2b-profile-email.json'),
      httpStatus: 200,
      costUsd: 0.12,
      usage: { credits: 5 },
    });
    for (const [field, value] of Object.entries(result.outcome === 'matched' ? result.fields : {})) expect(FIELD_SCHEMAS[field].safeParse(value).success).toBe(true);
  });

  test('sends POST /v1/people/b2b-profile-email with X-API-Key and profile_url', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ json: fixture('b2b-profile-email.json') }));
    await lookup(plugin, 'b2b-profile-email', profileInput, { ...opts(), config: { usdPerCredit: 0.008 } });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/people/b2b-profile-email');
    expect(req.headers['x-api-key']).toBe('test-key');
    expect(req.json).toEqual({ profile_url: 'https://www.linkedin.com/in/alex-rivera' });
  });

  test('documented miss (200, email null, 0 credits) -> no_match costing nothing', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ json: fixture('b2b-profile-email-not-found.json') }));
    const result = await lookup(plugin, 'b2b-profile-email', profileInput, opts());
    expect(result).toEqual({
      outcome: 'no_match',
      reason: 'No email found for this profile.',
      raw: fixture('b2b-profile-email-not-found.json'),
      httpStatus: 200,
      costUsd: 0,
      usage: { credits: 0 },
    });
  });

  test('documented 404 profile_not_found -> no_match', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ status: 404, json: fixture('profile-not-found-404.json') }));
    const result = await lookup(plugin, 'b2b-profile-email', profileInput, opts());
    expect(result.outcome).toBe('no_match');
    expect(result.httpStatus).toBe(404);
  });

  test('401 -> auth error naming LEADMAGIC_API_KEY', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ status: 401, json: fixture('invalid-api-key-401.json') }));
    const err = await failure(lookup(plugin, 'b2b-profile-email', profileInput, opts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('LEADMAGIC_API_KEY');
  });

  test('429 with Retry-After -> rate_limited with retryAfterMs', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ status: 429, headers: { 'retry-after': '42' }, json: fixture('rate-limited-429.json') }));
    const err = await failure(lookup(plugin, 'b2b-profile-email', profileInput, opts()));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(42000);
  });

  test('500 -> server error', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ status: 500, json: { success: false } }));
    const err = await failure(lookup(plugin, 'b2b-profile-email', profileInput, opts()));
    expect(err.kind).toBe('server');
  });

  test('402 insufficient credits -> permanent client error', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ status: 402, json: { success: false, errors: [{ code: 'insufficient_credits', status: 402 }] } }));
    const err = await failure(lookup(plugin, 'b2b-profile-email', profileInput, opts()));
    expect(err.kind).toBe('client');
    expect(err.httpStatus).toBe(402);
  });

  test('a 200 body that is not a LeadMagic answer -> invalid_response with the raw body kept', async () => {
    fake.on('POST /v1/people/b2b-profile-email', () => ({ json: { result: 'alex.rivera@example.com' } }));
    const err = await failure(lookup(plugin, 'b2b-profile-email', profileInput, opts()));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ result: 'alex.rivera@example.com' });
    fake.on('POST /v1/people/b2b-profile-email', () => ({ body: '<html>gateway</html>', headers: { 'content-type': 'text/html' } }));
    const html = await failure(lookup(plugin, 'b2b-profile-email', profileInput, opts()));
    expect(html.kind).toBe('invalid_response');
    expect(html.raw).toBe('<html>gateway</html>');
  });
});

describe('leadmagic email-finder', () => {
  test('maps the documented example (status valid) to workEmail + valid', async () => {
    fake.on('POST /v1/people/email-finder', () => ({ json: fixture('email-finder.json') }));
    const result = await lookup(plugin, 'email-finder', nameInput, opts());
    expect(result).toEqual({
      outcome: 'matched',
      fields: { 'person.workEmail': 'jesse@leadmagic.io', 'person.workEmailStatus': 'valid' },
      confidence: 0.95,
      raw: fixture('email-finder.json'),
      httpStatus: 200,
      costUsd: 0.024,
      usage: { credits: 1 },
    });
  });

  test('sends first_name, last_name, full_name and domain with X-API-Key', async () => {
    fake.on('POST /v1/people/email-finder', () => ({ json: fixture('email-finder.json') }));
    await lookup(plugin, 'email-finder', nameInput, opts());
    expect(fake.requests[0].path).toBe('/v1/people/email-finder');
    expect(fake.requests[0].headers['x-api-key']).toBe('test-key');
    expect(fake.requests[0].json).toEqual({ first_name: 'Jesse', last_name: 'Ouellette', full_name: 'Jesse Ouellette', domain: 'leadmagic.io' });
  });

  test('catch_all stays below the default 0.7 threshold; valid_catch_all (engagement-backed) is above it', async () => {
    fake.on('POST /v1/people/email-finder', () => ({ json: { ...fixture('email-finder.json'), status: 'catch_all' } }));
    const catchAll = await lookup(plugin, 'email-finder', nameInput, opts());
    if (catchAll.outcome !== 'matched') throw new Error('expected a match');
    expect(catchAll.fields['person.workEmailStatus']).toBe('catch_all');
    expect(catchAll.confidence).toBe(0.5);
    fake.on('POST /v1/people/email-finder', () => ({ json: { ...fixture('email-finder.json'), status: 'valid_catch_all' } }));
    const engaged = await lookup(plugin, 'email-finder', nameInput, opts());
    if (engaged.outcome !== 'matched') throw new Error('expected a match');
    expect(engaged.fields['person.workEmailStatus']).toBe('catch_all');
    expect(engaged.confidence).toBe(0.8);
  });

  test('documented miss (not_found, email null) -> no_match costing nothing', async () => {
    fake.on('POST /v1/people/email-finder', () => ({ json: fixture('email-finder-not-found.json') }));
    const result = await lookup(plugin, 'email-finder', nameInput, opts());
    expect(result).toEqual({
      outcome: 'no_match',
      reason: 'No email found for this person at this company.',
      raw: fixture('email-finder-not-found.json'),
      httpStatus: 200,
      costUsd: 0,
      usage: { credits: 0 },
    });
  });
});

describe('leadmagic email-validation', () => {
  test('maps the documented example to workEmailStatus valid at its reported cost', async () => {
    fake.on('POST /v1/people/email-validation', () => ({ json: fixture('email-validation.json') }));
    const result = await lookup(plugin, 'email-validation', { workEmail: 'jesse@leadmagic.io' }, opts());
    expect(result).toEqual({
      outcome: 'matched',
      fields: { 'person.workEmailStatus': 'valid' },
      confidence: 0.95,
      raw: fixture('email-validation.json'),
      httpStatus: 200,
      costUsd: 0.0012,
      usage: { credits: 0.05 },
    });
    expect(fake.requests[0].json).toEqual({ email: 'jesse@leadmagic.io' });
    expect(fake.requests[0].headers['x-api-key']).toBe('test-key');
  });

  test('invalid is a verdict; unknown is no verdict (no_match, free)', async () => {
    fake.on('POST /v1/people/email-validation', () => ({ json: { ...fixture('email-validation.json'), email_status: 'invalid', message: 'Email is invalid.' } }));
    const invalid = await lookup(plugin, 'email-validation', { workEmail: 'jesse@leadmagic.io' }, opts());
    if (invalid.outcome !== 'matched') throw new Error('expected a verdict');
    expect(invalid.fields).toEqual({ 'person.workEmailStatus': 'invalid' });
    fake.on('POST /v1/people/email-validation', () => ({ json: fixture('email-validation-unknown.json') }));
    const unknown = await lookup(plugin, 'email-validation', { workEmail: 'jesse@leadmagic.io' }, opts());
    expect(unknown.outcome).toBe('no_match');
    expect(unknown.costUsd).toBe(0);
  });

  test('is_domain_catch_all is reported as company.emailCatchAll, also beside an unknown verdict', async () => {
    const catchAll = { email: 'a@wide.com', email_status: 'catch_all', credits_consumed: 0.05, message: 'Domain accepts all emails (catch-all).', is_domain_catch_all: true };
    fake.on('POST /v1/people/email-validation', () => ({ json: catchAll }));
    const verdict = await lookup(plugin, 'email-validation', { workEmail: 'a@wide.com' }, opts());
    if (verdict.outcome !== 'matched') throw new Error('expected a verdict');
    expect(verdict.fields).toEqual({ 'person.workEmailStatus': 'catch_all', 'company.emailCatchAll': true });
    fake.on('POST /v1/people/email-validation', () => ({ json: { ...catchAll, email_status: 'unknown', credits_consumed: 0 } }));
    const unknown = await lookup(plugin, 'email-validation', { workEmail: 'a@wide.com' }, opts());
    if (unknown.outcome !== 'matched') throw new Error('expected the domain fact');
    expect(unknown.fields).toEqual({ 'company.emailCatchAll': true });
  });

  test('an answer without email_status -> invalid_response', async () => {
    fake.on('POST /v1/people/email-validation', () => ({ json: { email: 'jesse@leadmagic.io' } }));
    const err = await failure(lookup(plugin, 'email-validation', { workEmail: 'jesse@leadmagic.io' }, opts()));
    expect(err.kind).toBe('invalid_response');
  });
});
