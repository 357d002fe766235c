// Prospeo against a local fake speaking its wire format: documented examples in, canonical
// fields out; NO_MATCH and the HTTP failure statuses mapped the way the engine expects.
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

const failure = providerFailure;

let fake: FakeServer;
beforeEach(async () => {
  fake = await startFakeServer();
});
afterEach(async () => {
  await fake.close();
});

const opts = () => ({ baseUrl: fake.url, apiKey: 'test-key' });
const linkedinInput = { linkedinUrl: 'https://www.linkedin.com/in/eoghanmccabe' };

describe('prospeo enrich-person', () => {
  test('maps the documented example to canonical person fields; the masked docs email is not taken', async () => {
    fake.on('POST /enrich-person', () => ({ json: fixture('enrich-person.json') }));
    const result = await lookup(plugin, 'enrich-person', linkedinInput, opts());
    expect(result.outcome).toBe('matched');
    if (result.outcome !== 'matched') return;
    expect(result.fields).toEqual({
      'person.firstName': 'Eoghan',
      'person.lastName': 'Mccabe',
      'person.fullName': 'Eoghan Mccabe',
      'person.title': 'CEO, chairman, and co-founder',
      'person.seniority': 'C-Suite',
      'person.department': 'Founder',
      'person.linkedinUrl': 'https://www.linkedin.com/in/eoghanmccabe',
      'person.city': 'San Francisco',
      'person.region': 'California',
      'person.country': 'United States',
      'person.companyName': 'Intercom',
      'person.companyDomain': 'intercom.io',
    });
    expect(result.confidence).toBe(0.9);
    expect(result.fieldConfidence).toBeUndefined();
    expect(result.httpStatus).toBe(200);
    expect(result.costUsd).toBeUndefined();
    expect(result.usage).toEqual({ credits: 1 });
    expect(result.raw).toEqual(fixture('enrich-person.json'));
  });

  test('a revealed VERIFIED email becomes workEmail + valid; a free re-enrichment costs nothing', async () => {
    // The documented example masks the address; an unmasked synthetic one exercises the mapping.
    const body = fixture('enrich-person.json');
    body.free_enrichment = true;
    body.person.email.email = 'E.Mccabe@Intercom.com';
    fake.on('POST /enrich-person', () => ({ json: body }));
    const result = await lookup(plugin, 'enrich-person', linkedinInput, opts());
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields['person.workEmail']).toBe('e.mccabe@intercom.com');
    expect(result.fields['person.workEmailStatus']).toBe('valid');
    expect(result.fieldConfidence).toEqual({ 'person.workEmail': 0.95, 'person.workEmailStatus': 0.95 });
    expect(result.costUsd).toBe(0);
    expect(result.usage).toEqual({ credits: 0 });
  });

  test('an email Prospeo does not mark VERIFIED is left out', async () => {
    const body = fixture('enrich-person.json');
    body.person.email = { status: 'UNAVAILABLE', revealed: false, email: null };
    fake.on('POST /enrich-person', () => ({ json: body }));
    const result = await lookup(plugin, 'enrich-person', linkedinInput, opts());
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields['person.workEmail']).toBeUndefined();
    expect(result.fields['person.workEmailStatus']).toBeUndefined();
  });

  test('sends POST /enrich-person with X-KEY and the datapoints wrapped in data', async () => {
    fake.on('POST /enrich-person', () => ({ json: fixture('enrich-person.json') }));
    await lookup(plugin, 'enrich-person', linkedinInput, opts());
    await lookup(plugin, 'enrich-person', { firstName: 'Eoghan', lastName: 'Mccabe', domain: 'intercom.com', companyName: 'Intercom' }, { ...opts(), config: { onlyVerifiedEmail: true } });
    expect(fake.requests).toHaveLength(2);
    const [byLinkedin, byName] = fake.requests;
    expect(byLinkedin.method).toBe('POST');
    expect(byLinkedin.path).toBe('/enrich-person');
    expect(byLinkedin.headers['x-key']).toBe('test-key');
    expect(byLinkedin.headers['content-type']).toBe('application/json');
    expect(byLinkedin.json).toEqual({ only_verified_email: false, data: { linkedin_url: 'https://www.linkedin.com/in/eoghanmccabe' } });
    expect(byName.json).toEqual({
      only_verified_email: true,
      data: { first_name: 'Eoghan', last_name: 'Mccabe', company_website: 'intercom.com', company_name: 'Intercom' },
    });
  });

  test('a match by name + company name only gets the lower documented confidence', async () => {
    fake.on('POST /enrich-person', () => ({ json: fixture('enrich-person.json') }));
    const result = await lookup(plugin, 'enrich-person', { firstName: 'Eoghan', lastName: 'Mccabe', companyName: 'Intercom' }, opts());
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.confidence).toBe(0.75);
  });

  test('documented HTTP 400 NO_MATCH -> no_match, not an error', async () => {
    fake.on('POST /enrich-person', () => ({ status: 400, json: fixture('no-match.json') }));
    const result = await lookup(plugin, 'enrich-person', linkedinInput, opts());
    expect(result).toEqual({ outcome: 'no_match', reason: 'Prospeo has no person matching these datapoints', raw: { error: true, error_code: 'NO_MATCH' }, httpStatus: 400 });
  });

  test('401 INVALID_API_KEY -> auth error naming PROSPEO_API_KEY', async () => {
    fake.on('POST /enrich-person', () => ({ status: 401, json: { error: true, error_code: 'INVALID_API_KEY' } }));
    const err = await failure(lookup(plugin, 'enrich-person', linkedinInput, opts()));
    expect(err.kind).toBe('auth');
    expect(err.httpStatus).toBe(401);
    expect(err.message).toContain('PROSPEO_API_KEY');
  });

  test('429 with Retry-After -> rate_limited with retryAfterMs', async () => {
    fake.on('POST /enrich-person', () => ({ status: 429, headers: { 'retry-after': '7' }, json: { error: true, error_code: 'RATE_LIMITED' } }));
    const err = await failure(lookup(plugin, 'enrich-person', linkedinInput, opts()));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(7000);
  });

  test('500 -> server error', async () => {
    fake.on('POST /enrich-person', () => ({ status: 500, body: 'upstream down' }));
    const err = await failure(lookup(plugin, 'enrich-person', linkedinInput, opts()));
    expect(err.kind).toBe('server');
    expect(err.httpStatus).toBe(500);
  });

  test('documented HTTP 400 INTERNAL_ERROR is retried like a server error; INSUFFICIENT_CREDITS is permanent', async () => {
    fake.on('POST /enrich-person', () => ({ status: 400, json: { error: true, error_code: 'INTERNAL_ERROR' } }));
    const internal = await failure(lookup(plugin, 'enrich-person', linkedinInput, opts()));
    expect(internal.kind).toBe('server');
    expect(internal.transient).toBe(true);
    fake.on('POST /enrich-person', () => ({ status: 400, json: { error: true, error_code: 'INSUFFICIENT_CREDITS' } }));
    const credits = await failure(lookup(plugin, 'enrich-person', linkedinInput, opts()));
    expect(credits.kind).toBe('client');
    expect(credits.message).toContain('INSUFFICIENT_CREDITS');
  });

  test('a 200 body of the wrong shape -> invalid_response with the raw body kept', async () => {
    const malformed = { error: false, person: 'Eoghan Mccabe' };
    fake.on('POST /enrich-person', () => ({ json: malformed }));
    const err = await failure(lookup(plugin, 'enrich-person', linkedinInput, opts()));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual(malformed);
  });
});

test('every field mapped from the documented examples fits its canonical schema', async () => {
  const body = fixture('enrich-person.json');
  body.person.email.email = 'e.mccabe@intercom.com';
  fake.on('POST /enrich-person', () => ({ json: body }));
  fake.on('POST /enrich-company', () => ({ json: fixture('enrich-company.json') }));
  const person = await lookup(plugin, 'enrich-person', linkedinInput, opts());
  const company = await lookup(plugin, 'enrich-company', { domain: 'intercom.com' }, opts());
  for (const result of [person, company]) {
    if (result.outcome !== 'matched') throw new Error('expected a match');
    for (const [field, value] of Object.entries(result.fields)) expect([field, FIELD_SCHEMAS[field].safeParse(canonical(field, value, result.fields)).success, canonical(field, value, result.fields)]).toEqual([field, true, expect.anything()]);
  }
  const declared = new Set(plugin.operations.flatMap((op) => op.returns));
  for (const field of [...Object.keys(person.outcome === 'matched' ? person.fields : {}), ...Object.keys(company.outcome === 'matched' ? company.fields : {})]) expect(declared.has(field as never)).toBe(true);
});

describe('prospeo enrich-company', () => {
  test('maps the documented example to canonical company fields', async () => {
    fake.on('POST /enrich-company', () => ({ json: fixture('enrich-company.json') }));
    const result = await lookup(plugin, 'enrich-company', { domain: 'intercom.com' }, opts());
    if (result.outcome !== 'matched') throw new Error('expected a match');
    expect(result.fields).toEqual({
      'company.name': 'Intercom',
      'company.domain': 'intercom.io',
      'company.description':
        'Intercom is the only complete AI-first customer service platform, enhancing the customer experience, improving operational efficiency, and scaling with your business every step of the way.',
      'company.industry': 'Software Development',
      'company.employeeCount': 1822,
      'company.employeeRange': '1001-2000',
      'company.revenueRange': '$100M-$250M',
      'company.foundedYear': 2011,
      'company.city': 'San Francisco',
      'company.region': 'California',
      'company.country': 'United States',
      'company.address': '55 2nd Street, 4th Floor, San Francisco, California 94105, US',
      'company.linkedinUrl': 'https://www.linkedin.com/company/intercom',
      'company.socialProfiles': {
        linkedin: 'https://www.linkedin.com/company/intercom',
        twitter: 'https://x.com/intercom',
        facebook: 'https://www.facebook.com/intercominc',
        crunchbase: 'https://www.crunchbase.com/organization/intercom',
        instagram: 'https://www.instagram.com/intercom',
        youtube: 'https://www.youtube.com/c/@intercominc',
      },
      'company.phone': '+14156733820',
      'company.technologies': ['6sense', 'theTradeDesk', 'Amazon SES', 'Contentful', 'Node.js', 'Tailwind CSS'],
      'company.sicCode': '737',
    });
    expect(result.confidence).toBe(0.9);
  });

  test('sends the domain as company_website and the LinkedIn page as company_linkedin_url', async () => {
    fake.on('POST /enrich-company', () => ({ json: fixture('enrich-company.json') }));
    await lookup(plugin, 'enrich-company', { domain: 'intercom.com', companyLinkedinUrl: 'https://www.linkedin.com/company/intercom' }, opts());
    expect(fake.requests[0].path).toBe('/enrich-company');
    expect(fake.requests[0].headers['x-key']).toBe('test-key');
    expect(fake.requests[0].json).toEqual({ data: { company_website: 'intercom.com', company_linkedin_url: 'https://www.linkedin.com/company/intercom' } });
  });

  test('documented HTTP 400 NO_MATCH -> no_match', async () => {
    fake.on('POST /enrich-company', () => ({ status: 400, json: fixture('no-match.json') }));
    const result = await lookup(plugin, 'enrich-company', { domain: 'nobody-here.example' }, opts());
    expect(result.outcome).toBe('no_match');
  });

  test('a company missing from the body -> invalid_response', async () => {
    fake.on('POST /enrich-company', () => ({ json: { error: false, free_enrichment: false } }));
    const err = await failure(lookup(plugin, 'enrich-company', { domain: 'intercom.com' }, opts()));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ error: false, free_enrichment: false });
  });
});
