// AI Ark against a local fake that speaks its wire format (Spring pages, X-Credit header).
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
const COMPANIES = 'POST /api/developer-portal/v1/companies';
const PEOPLE = 'POST /api/developer-portal/v1/people';
const ADA = 'https://www.linkedin.com/in/ada-lovelace-1815';

const failure = providerFailure;

const allCanonical = (fields: Record<string, unknown>) => {
  for (const [field, value] of Object.entries(fields)) expect([field, FIELD_SCHEMAS[field].safeParse(canonical(field, value, fields)).success, canonical(field, value, fields)]).toEqual([field, true, expect.anything()]);
};

describe('aiark', () => {
  let fake: FakeServer;
  const run = (operation: string, input: Parameters<typeof lookup>[2], config?: Record<string, unknown>) =>
    lookup(plugin, operation, input, { baseUrl: fake.url, apiKey: 'test-key', config });

  beforeEach(async () => {
    fake = await startFakeServer();
  });
  afterEach(async () => {
    await fake.close();
  });

  describe('company-search', () => {
    test('maps a company page to canonical company fields and records X-Credit', async () => {
      fake.on(COMPANIES, () => ({ json: fixture('company-search.json'), headers: { 'X-Credit': '-0.1' } }));
      const result = await run('company-search', { domain: 'examplerobotics.com' });
      expect(result.outcome).toBe('matched');
      if (result.outcome !== 'matched') return;
      expect(result.fields).toEqual({
        'company.name': 'Example Robotics',
        'company.domain': 'examplerobotics.com',
        'company.description': 'Example Robotics builds warehouse picking robots.',
        'company.industry': 'automation machinery manufacturing',
        'company.employeeCount': 1537,
        'company.employeeRange': '1001-5000',
        'company.foundedYear': 2016,
        'company.city': 'Pittsburgh',
        'company.region': 'Pennsylvania',
        'company.country': 'United States',
        'company.address': '100 Example Way, Pittsburgh, Pennsylvania 15201, US',
        'company.linkedinUrl': 'https://www.linkedin.com/company/example-robotics',
        'company.socialProfiles': {
          linkedin: 'https://www.linkedin.com/company/example-robotics',
          twitter: 'https://twitter.com/examplerobotics',
          crunchbase: 'https://www.crunchbase.com/organization/example-robotics',
        },
        'company.technologies': ['Salesforce', 'Google Workspace'],
      });
      allCanonical(result.fields);
      expect(result.confidence).toBe(0.8);
      expect(result.usage).toEqual({ credits: 0.1 });
      expect(result.costUsd).toBeUndefined();
      expect(result.raw).toEqual(fixture('company-search.json'));
    });

    test('with usdPerCredit set, the X-Credit header becomes the call cost', async () => {
      fake.on(COMPANIES, () => ({ json: fixture('company-search.json'), headers: { 'X-Credit': '-0.1' } }));
      const result = await run('company-search', { domain: 'examplerobotics.com' }, { usdPerCredit: 0.04 });
      expect(result.costUsd).toBe(0.004);
    });

    test('sends POST /api/developer-portal/v1/companies with X-TOKEN and a domain filter', async () => {
      fake.on(COMPANIES, () => ({ json: fixture('company-search.json') }));
      await run('company-search', { domain: 'examplerobotics.com' });
      expect(fake.requests).toHaveLength(1);
      const req = fake.requests[0];
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/api/developer-portal/v1/companies');
      expect(req.headers['x-token']).toBe('test-key');
      expect(req.json).toEqual({ page: 0, size: 1, account: { domain: { any: { include: ['examplerobotics.com'] } } } });
    });

    test('an empty page is no_match', async () => {
      fake.on(COMPANIES, () => ({ json: fixture('empty-page.json'), headers: { 'X-Credit': '0' } }));
      const result = await run('company-search', { domain: 'nothing-here.com' });
      expect(result).toMatchObject({ outcome: 'no_match', httpStatus: 200, usage: { credits: 0 }, raw: fixture('empty-page.json') });
    });

    test('a company under another domain is no_match, not a wrong profile', async () => {
      fake.on(COMPANIES, () => ({ json: fixture('company-search.json') }));
      const result = await run('company-search', { domain: 'acme.com' });
      expect(result.outcome).toBe('no_match');
      expect(result.outcome === 'no_match' && result.reason).toContain('examplerobotics.com');
    });

    test('401 is an auth error naming AIARK_API_KEY', async () => {
      fake.on(COMPANIES, () => ({ status: 401, json: { message: 'Invalid token' } }));
      const err = await failure(run('company-search', { domain: 'examplerobotics.com' }));
      expect(err.kind).toBe('auth');
      expect(err.message).toContain('AIARK_API_KEY');
    });

    test('429 is rate_limited with the Retry-After delay', async () => {
      fake.on(COMPANIES, () => ({ status: 429, headers: { 'retry-after': '1' }, json: { message: 'Too Many Requests' } }));
      const err = await failure(run('company-search', { domain: 'examplerobotics.com' }));
      expect(err.kind).toBe('rate_limited');
      expect(err.retryAfterMs).toBe(1000);
    });

    test('500 is a server error', async () => {
      fake.on(COMPANIES, () => ({ status: 500, body: 'upstream failure' }));
      expect((await failure(run('company-search', { domain: 'examplerobotics.com' }))).kind).toBe('server');
    });

    test('a malformed body is invalid_response and keeps the raw body', async () => {
      fake.on(COMPANIES, () => ({ json: { content: 'nope' } }));
      const err = await failure(run('company-search', { domain: 'examplerobotics.com' }));
      expect(err.kind).toBe('invalid_response');
      expect(err.raw).toEqual({ content: 'nope' });
    });
  });

  describe('people-search', () => {
    test('maps a person found by LinkedIn URL to canonical person fields', async () => {
      fake.on(PEOPLE, () => ({ json: fixture('people-search.json'), headers: { 'X-Credit': '-0.5' } }));
      const result = await run('people-search', { linkedinUrl: ADA });
      expect(result.outcome).toBe('matched');
      if (result.outcome !== 'matched') return;
      expect(result.fields).toEqual({
        'person.firstName': 'Ada',
        'person.lastName': 'Lovelace',
        'person.fullName': 'Ada Lovelace',
        'person.title': 'Analyst',
        'person.seniority': 'senior',
        'person.department': 'engineering_technical',
        'person.linkedinUrl': ADA,
        'person.city': 'London',
        'person.region': 'England',
        'person.country': 'United Kingdom',
        'person.companyName': 'Analytical Engines',
        'person.companyDomain': 'analyticalengines.com',
      });
      allCanonical(result.fields);
      expect(result.confidence).toBe(0.85);
      expect(result.usage).toEqual({ credits: 0.5 });
      expect(fake.requests[0].json).toEqual({ page: 0, size: 1, contact: { linkedin: { any: { include: [ADA] } } } });
      expect(fake.requests[0].headers['x-token']).toBe('test-key');
    });

    test('by name at a domain: sends a fullName + domain filter and takes a single agreeing match', async () => {
      fake.on(PEOPLE, () => ({ json: fixture('people-search.json') }));
      const result = await run('people-search', { firstName: 'Ada', lastName: 'Lovelace', domain: 'analyticalengines.com' });
      expect(fake.requests[0].path).toBe('/api/developer-portal/v1/people');
      expect(fake.requests[0].json).toEqual({
        page: 0,
        size: 1,
        account: { domain: { any: { include: ['analyticalengines.com'] } } },
        contact: { fullName: { any: { include: { mode: 'WORD', content: ['Ada Lovelace'] } } } },
      });
      expect(result.outcome === 'matched' && result.confidence).toBe(0.75);
    });

    test('several people of that name is no_match (ambiguous), as is another name', async () => {
      const several = { ...fixture('people-search.json'), totalElements: 3 };
      fake.on(PEOPLE, () => ({ json: several }));
      const ambiguous = await run('people-search', { fullName: 'Ada Lovelace', domain: 'analyticalengines.com' });
      expect(ambiguous.outcome === 'no_match' && ambiguous.reason).toContain('ambiguous: 3 people');

      fake.on(PEOPLE, () => ({ json: fixture('people-search.json') }));
      const other = await run('people-search', { fullName: 'Charles Babbage', domain: 'analyticalengines.com' });
      expect(other.outcome).toBe('no_match');
    });

    test('an answer for another LinkedIn profile is no_match', async () => {
      fake.on(PEOPLE, () => ({ json: fixture('people-search.json') }));
      const result = await run('people-search', { linkedinUrl: 'https://www.linkedin.com/in/someone-else' });
      expect(result.outcome).toBe('no_match');
    });

    test('an empty page is no_match', async () => {
      fake.on(PEOPLE, () => ({ json: fixture('empty-page.json') }));
      expect(await run('people-search', { linkedinUrl: ADA })).toMatchObject({ outcome: 'no_match', httpStatus: 200 });
    });

    test('a malformed body is invalid_response', async () => {
      fake.on(PEOPLE, () => ({ json: { content: [{ profile: { full_name: 7 } }] } }));
      const err = await failure(run('people-search', { linkedinUrl: ADA }));
      expect(err.kind).toBe('invalid_response');
      expect(err.raw).toEqual({ content: [{ profile: { full_name: 7 } }] });
    });

    test('403 is an auth error', async () => {
      fake.on(PEOPLE, () => ({ status: 403, json: { message: 'Forbidden' } }));
      expect((await failure(run('people-search', { linkedinUrl: ADA }))).kind).toBe('auth');
    });
  });
});
