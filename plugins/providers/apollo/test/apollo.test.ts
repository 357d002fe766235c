// Apollo against a local fake that speaks its wire format, using the docs' own sample responses.
import { readFileSync } from 'node:fs';
import plugin from '../index.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { lookup, providerFailure } from '../../../../test/support/provider-harness.js';
import { FIELD_SCHEMAS } from '../../../../src/engine/fields.js';
import { normalizeField } from '../../../../src/engine/normalize/index.js';

// Provider words are made canonical centrally (src/engine/normalize) before the schema check.
const canonical = (field: string, value: unknown, fields: Record<string, unknown> = {}) => {
  // A national phone number is read in the record's country, as merge.ts does.
  const country = [fields['person.country'], fields['company.country']].map((c) => (typeof c === 'string' ? normalizeField('country', c) : undefined)).find((c) => c?.ok);
  const r = normalizeField(field, value, { country: country?.ok ? (country.value as string) : undefined });
  return r.ok ? r.value : r.problem;
};

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const PEOPLE = 'POST /api/v1/people/match';
const ORG = 'GET /api/v1/organizations/enrich';
const BY_NAME = { firstName: 'Tim', lastName: 'Zheng', domain: 'apollo.io' };

const failure = providerFailure;

// The docs' samples mask phone digits ("202374XXXX"): the engine drops such a number with the
// reason (see the phone assertion below), so phones are left out of this check.
const allCanonical = (fields: Record<string, unknown>) => {
  for (const [field, value] of Object.entries(fields).filter(([f]) => !f.endsWith('.phone'))) expect([field, FIELD_SCHEMAS[field].safeParse(canonical(field, value, fields)).success, canonical(field, value, fields)]).toEqual([field, true, expect.anything()]);
};

describe('apollo', () => {
  let fake: FakeServer;
  const run = (operation: string, input: Parameters<typeof lookup>[2], config?: Record<string, unknown>) =>
    lookup(plugin, operation, input, { baseUrl: fake.url, apiKey: 'test-key', config });

  beforeEach(async () => {
    fake = await startFakeServer();
  });
  afterEach(async () => {
    await fake.close();
  });

  describe('people-match', () => {
    test('maps the documented sample response to canonical person fields', async () => {
      fake.on(PEOPLE, () => ({ json: fixture('people-match.json') }));
      const result = await run('people-match', BY_NAME);
      expect(result.outcome).toBe('matched');
      if (result.outcome !== 'matched') return;
      // The sample's email echoes the input with email_status null, and its only phone is the
      // company's switchboard (work_hq): neither is taken as the person's.
      expect(result.fields).toEqual({
        'person.firstName': 'Tim',
        'person.lastName': 'Zheng',
        'person.fullName': 'Tim Zheng',
        'person.title': 'Founder & CEO',
        'person.seniority': 'founder',
        'person.department': 'c_suite',
        'person.linkedinUrl': 'https://www.linkedin.com/in/tim-zheng-677ba010',
        'person.city': 'San Francisco',
        'person.region': 'California',
        'person.country': 'United States',
        'person.companyName': 'Apollo.io',
        'person.companyDomain': 'apollo.io',
      });
      allCanonical(result.fields);
      expect(result.confidence).toBe(0.75);
      expect(result.httpStatus).toBe(200);
      expect(result.raw).toEqual(fixture('people-match.json'));
    });

    test('a verified email becomes the work email; a locked placeholder never does', async () => {
      const body = fixture('people-match.json');
      body.person.email = 'tim@apollo.io';
      body.person.email_status = 'verified';
      fake.on(PEOPLE, () => ({ json: body }));
      const result = await run('people-match', { linkedinUrl: 'https://www.linkedin.com/in/tim-zheng-677ba010' });
      expect(result.outcome === 'matched' && [result.fields['person.workEmail'], result.fields['person.workEmailStatus'], result.confidence]).toEqual([
        'tim@apollo.io',
        'valid',
        0.85,
      ]);

      body.person.email = 'email_not_unlocked@domain.com';
      const locked = await run('people-match', { linkedinUrl: 'https://www.linkedin.com/in/tim-zheng-677ba010' });
      expect(locked.outcome === 'matched' && locked.fields['person.workEmail']).toBeUndefined();
    });

    test('unverified emails are kept only when configured, with status unknown', async () => {
      const body = fixture('people-match.json');
      body.person.email = 'tim@apollo.io';
      body.person.email_status = 'unverified';
      body.person.personal_emails = ['tim.zheng@gmail.com'];
      fake.on(PEOPLE, () => ({ json: body }));
      const strict = await run('people-match', BY_NAME);
      expect(strict.outcome === 'matched' && strict.fields['person.workEmail']).toBeUndefined();
      const lenient = await run('people-match', BY_NAME, { acceptEmailStatuses: ['verified', 'unverified'] });
      expect(lenient.outcome === 'matched' && [lenient.fields['person.workEmail'], lenient.fields['person.workEmailStatus'], lenient.fields['person.personalEmail']]).toEqual([
        'tim@apollo.io',
        'unknown',
        'tim.zheng@gmail.com',
      ]);
    });

    test('sends POST /api/v1/people/match with x-api-key and the identifiers as query parameters, as the docs show', async () => {
      fake.on(PEOPLE, () => ({ json: fixture('people-match.json') }));
      await run('people-match', { ...BY_NAME, workEmail: 'tim@apollo.io', companyName: 'Apollo' }, { revealPersonalEmails: true });
      expect(fake.requests).toHaveLength(1);
      const req = fake.requests[0];
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/api/v1/people/match');
      expect(req.headers['x-api-key']).toBe('test-key');
      expect(Object.fromEntries(req.query)).toEqual({
        email: 'tim@apollo.io',
        first_name: 'Tim',
        last_name: 'Zheng',
        domain: 'apollo.io',
        organization_name: 'Apollo',
        reveal_personal_emails: 'true',
        reveal_phone_number: 'false',
      });
      expect(req.body).toBe('');
    });

    test('a 200 with none of the documented fields is an error with the raw body, never a miss', async () => {
      const odd = { unexpected: ['shape'], version: 99 };
      fake.on(PEOPLE, () => ({ json: odd }));
      const err = await failure(run('people-match', BY_NAME));
      expect(err.kind).toBe('invalid_response');
      expect(err.raw).toEqual(odd);
    });

    test('the documented miss (200 with person: null) is no_match', async () => {
      fake.on(PEOPLE, () => ({ json: fixture('people-match-miss.json') }));
      const result = await run('people-match', BY_NAME);
      expect(result).toMatchObject({ outcome: 'no_match', httpStatus: 200, raw: { person: null } });
    });

    test('401 is an auth error naming APOLLO_API_KEY', async () => {
      fake.on(PEOPLE, () => ({ status: 401, json: { error: 'Invalid access credentials.' } }));
      const err = await failure(run('people-match', BY_NAME));
      expect(err.kind).toBe('auth');
      expect(err.message).toContain('APOLLO_API_KEY');
    });

    test('429 is rate_limited with the Retry-After delay', async () => {
      fake.on(PEOPLE, () => ({ status: 429, headers: { 'retry-after': '12' }, json: { error: 'rate limit' } }));
      const err = await failure(run('people-match', BY_NAME));
      expect(err.kind).toBe('rate_limited');
      expect(err.retryAfterMs).toBe(12000);
    });

    test('500 is a server error', async () => {
      fake.on(PEOPLE, () => ({ status: 500, body: 'Internal Server Error' }));
      expect((await failure(run('people-match', BY_NAME))).kind).toBe('server');
    });

    test('a malformed body is invalid_response and keeps the raw body', async () => {
      fake.on(PEOPLE, () => ({ json: { person: { name: 42 } } }));
      const err = await failure(run('people-match', BY_NAME));
      expect(err.kind).toBe('invalid_response');
      expect(err.raw).toEqual({ person: { name: 42 } });
    });
  });

  describe('organization-enrich', () => {
    test('maps the documented sample response to canonical company fields', async () => {
      fake.on(ORG, () => ({ json: fixture('organization-enrich.json') }));
      const result = await run('organization-enrich', { domain: 'apollo.io' });
      expect(result.outcome).toBe('matched');
      if (result.outcome !== 'matched') return;
      const sample = fixture('organization-enrich.json').organization;
      expect(result.fields).toEqual({
        'company.name': 'Apollo.io',
        'company.domain': 'apollo.io',
        'company.description': sample.short_description.trim(),
        'company.industry': 'computer software',
        'company.employeeCount': 170,
        'company.revenueRange': '$10M',
        'company.foundedYear': 2015,
        'company.city': 'San Francisco',
        'company.region': 'California',
        'company.country': 'United States',
        'company.address': '535 Mission St, Suite 1100, San Francisco, California 94105, US',
        'company.linkedinUrl': 'https://www.linkedin.com/company/apolloio',
        'company.socialProfiles': {
          linkedin: 'https://www.linkedin.com/company/apolloio',
          twitter: 'https://twitter.com/MeetApollo/',
          facebook: 'https://www.facebook.com/MeetApollo/',
        },
        'company.technologies': sample.technology_names,
      });
      allCanonical(result.fields);
      expect(canonical('company.phone', result.fields['company.phone'], result.fields)).toMatch(/not a valid number/);
      expect(result.confidence).toBe(0.85);
    });

    test('sends GET /api/v1/organizations/enrich?domain= with x-api-key', async () => {
      fake.on(ORG, () => ({ json: fixture('organization-enrich.json') }));
      await run('organization-enrich', { domain: 'apollo.io' });
      const req = fake.requests[0];
      expect(req.method).toBe('GET');
      expect(req.path).toBe('/api/v1/organizations/enrich');
      expect(req.query.get('domain')).toBe('apollo.io');
      expect(req.headers['x-api-key']).toBe('test-key');
      expect(req.body).toBe('');
    });

    test('an organization under another primary domain keeps its facts but not its domain', async () => {
      fake.on(ORG, () => ({ json: fixture('organization-enrich.json') }));
      const result = await run('organization-enrich', { domain: 'apollo-subsidiary.com' });
      expect(result.outcome === 'matched' && result.fields['company.domain']).toBeUndefined();
      expect(result.outcome === 'matched' && result.fields['company.name']).toBe('Apollo.io');
    });

    test('an answer without an organization is no_match', async () => {
      fake.on(ORG, () => ({ json: fixture('organization-enrich-miss.json') }));
      expect(await run('organization-enrich', { domain: 'nothing-here.com' })).toMatchObject({ outcome: 'no_match', httpStatus: 200 });
      fake.on(ORG, () => ({ json: { organization: null } }));
      expect((await run('organization-enrich', { domain: 'nothing-here.com' })).outcome).toBe('no_match');
    });

    test('a 200 that is neither an organization nor the documented empty miss is an error', async () => {
      const odd = { unexpected: ['shape'], version: 99 };
      fake.on(ORG, () => ({ json: odd }));
      const err = await failure(run('organization-enrich', { domain: 'apollo.io' }));
      expect(err.kind).toBe('invalid_response');
      expect(err.raw).toEqual(odd);
    });

    test('a masked phone number (202374XXXX) is no value', async () => {
      fake.on(ORG, () => ({ json: fixture('organization-enrich.json') }));
      const result = await run('organization-enrich', { domain: 'apollo.io' });
      expect(result.outcome === 'matched' && result.fields).not.toHaveProperty('company.phone');
      const body = fixture('organization-enrich.json');
      body.organization.sanitized_phone = '+12023749000';
      fake.on(ORG, () => ({ json: body }));
      const clear = await run('organization-enrich', { domain: 'apollo.io' });
      expect(clear.outcome === 'matched' && clear.fields['company.phone']).toBe('+12023749000');
    });

    test('403 is an auth error', async () => {
      fake.on(ORG, () => ({ status: 403, json: { error: 'api/v1/organizations/enrich is not accessible with this api_key' } }));
      expect((await failure(run('organization-enrich', { domain: 'apollo.io' }))).kind).toBe('auth');
    });

    test('a malformed body is invalid_response', async () => {
      fake.on(ORG, () => ({ json: { organization: { estimated_num_employees: 'many' } } }));
      const err = await failure(run('organization-enrich', { domain: 'apollo.io' }));
      expect(err.kind).toBe('invalid_response');
      expect(err.raw).toEqual({ organization: { estimated_num_employees: 'many' } });
    });
  });
});
