// ContactOut against a local fake that speaks its wire format, using the docs' own example bodies.
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
const ROUTE = 'POST /v1/people/enrich';
const LINKEDIN = { linkedinUrl: 'https://www.linkedin.com/in/example-person' };

const failure = providerFailure;

describe('contactout', () => {
  let fake: FakeServer;
  const run = (input: Parameters<typeof lookup>[2], config?: Record<string, unknown>) =>
    lookup(plugin, 'enrich-person', input, { baseUrl: fake.url, apiKey: 'test-key', config });

  beforeEach(async () => {
    fake = await startFakeServer();
  });
  afterEach(async () => {
    await fake.close();
  });

  test('maps the documented People Enrich example to canonical fields', async () => {
    fake.on(ROUTE, () => ({ json: fixture('people-enrich.json') }));
    const result = await run(LINKEDIN);
    expect(result.outcome).toBe('matched');
    if (result.outcome !== 'matched') return;
    expect(result.fields).toEqual({
      'person.fullName': 'Example Person',
      'person.firstName': 'Example',
      'person.lastName': 'Person',
      'person.seniority': 'Manager',
      'person.department': 'Design',
      'person.linkedinUrl': 'https://www.linkedin.com/in/example-person',
      'person.country': 'United States',
      'person.companyName': 'Legros, Smitham and Kessler',
      'person.companyDomain': 'legros.com',
      'person.personalEmail': 'email2@gmail.com',
      'person.workEmail': 'email1@example.com',
      'person.phone': '+1234567891',
    });
    // The only experience entry is not current, and the headline names a different company: no title.
    expect(result.fields['person.title']).toBeUndefined();
    // The docs' sample phone is a placeholder (+1234567891, not a real US number): the engine drops it with the reason.
    expect(canonical('person.phone', result.fields['person.phone'], result.fields)).toMatch(/not a valid number/);
    for (const [field, value] of Object.entries(result.fields).filter(([f]) => f !== 'person.phone')) expect([field, FIELD_SCHEMAS[field].safeParse(canonical(field, value, result.fields)).success, canonical(field, value, result.fields)]).toEqual([field, true, expect.anything()]);
    expect(result.confidence).toBe(0.8);
    expect(result.httpStatus).toBe(200);
    // 1 search + 1 per email returned (email1@example.com, email2@gmail.com) + 1 phone.
    expect(result.usage).toEqual({ credits: 4 });
    expect(result.raw).toEqual(fixture('people-enrich.json'));
  });

  test('each email returned bills its own credit; usdPerCredit turns credits into the cost', async () => {
    const body = fixture('people-enrich.json');
    body.profile.work_email = ['a@legros.com', 'b@legros.com'];
    body.profile.email = ['a@legros.com', 'b@legros.com', 'email2@gmail.com'];
    delete body.profile.phone;
    fake.on(ROUTE, () => ({ json: body }));
    const result = await run(LINKEDIN, { usdPerCredit: 0.05 });
    expect(result.usage).toEqual({ credits: 4 });
    expect(result.costUsd).toBeCloseTo(0.2, 10);
  });

  test('a 200 with none of the documented fields is an error with the raw body, never a miss', async () => {
    const odd = { unexpected: ['shape'], version: 99 };
    fake.on(ROUTE, () => ({ json: odd }));
    const err = await failure(run(LINKEDIN));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual(odd);
  });

  test('sends POST /v1/people/enrich with the token header and every identifier it has', async () => {
    fake.on(ROUTE, () => ({ json: fixture('people-enrich.json') }));
    await run({ ...LINKEDIN, workEmail: 'jane@acme.com', firstName: 'Jane', lastName: 'Doe', domain: 'acme.com', companyName: 'Acme' });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/people/enrich');
    expect(req.headers.token).toBe('test-key');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.json).toEqual({
      linkedin_url: 'https://www.linkedin.com/in/example-person',
      email: 'jane@acme.com',
      first_name: 'Jane',
      last_name: 'Doe',
      company: ['Acme'],
      company_domain: ['acme.com'],
      include: ['work_email', 'personal_email', 'phone'],
    });
  });

  test('the include list follows config, and name-only matches get the lower confidence', async () => {
    fake.on(ROUTE, () => ({ json: fixture('people-enrich.json') }));
    const result = await run({ fullName: 'Example Person', companyName: 'Legros' }, { include: ['work_email'] });
    expect(fake.requests[0].json).toEqual({ full_name: 'Example Person', company: ['Legros'], include: ['work_email'] });
    expect(result.outcome === 'matched' && result.confidence).toBe(0.7);
  });

  test('maps the camelCase field variant and ContactOut email statuses', async () => {
    const body = fixture('email-enrich-camelcase.json');
    body.profile.workEmailStatus = 'Verified';
    fake.on(ROUTE, () => ({ json: body }));
    const result = await run({ personalEmail: '0getfisher@gmail.com' });
    expect(result.outcome === 'matched' && result.fields).toEqual({
      'person.fullName': 'Bobbi Singh',
      'person.firstName': 'Bobbi',
      'person.lastName': 'Singh',
      'person.title': 'Manager, Business Operations & Marketing',
      'person.seniority': 'Vice President',
      'person.department': 'Design',
      'person.linkedinUrl': 'https://www.linkedin.com/in/bobbisingh',
      'person.companyName': 'OBM International',
      'person.companyDomain': 'obm.international',
      'person.personalEmail': '0getfisher@gmail.com',
      'person.workEmail': 'work-email@obm-international.com',
      'person.workEmailStatus': 'valid',
      'person.phone': '+61.438347437',
    });
  });

  test('an "Unverified" work email is kept out unless configured', async () => {
    const body = fixture('email-enrich-camelcase.json');
    body.profile.workEmailStatus = 'Unverified';
    fake.on(ROUTE, () => ({ json: body }));
    const strict = await run({ personalEmail: '0getfisher@gmail.com' });
    expect(strict.outcome === 'matched' && strict.fields['person.workEmail']).toBeUndefined();
    const lenient = await run({ personalEmail: '0getfisher@gmail.com' }, { acceptUnverifiedWorkEmail: true });
    expect(lenient.outcome === 'matched' && [lenient.fields['person.workEmail'], lenient.fields['person.workEmailStatus']]).toEqual([
      'work-email@obm-international.com',
      'unknown',
    ]);
  });

  test('the documented not-found answer (HTTP 404) is no_match', async () => {
    fake.on(ROUTE, () => ({ status: 404, json: fixture('not-found.json') }));
    const result = await run(LINKEDIN);
    expect(result).toMatchObject({ outcome: 'no_match', httpStatus: 404, raw: fixture('not-found.json') });
  });

  test('the not-found body is no_match even when sent with HTTP 200, and so is an empty profile', async () => {
    fake.on(ROUTE, () => ({ json: fixture('not-found.json') }));
    expect((await run(LINKEDIN)).outcome).toBe('no_match');
    fake.on(ROUTE, () => ({ json: { status_code: 200, profile: [] } }));
    expect((await run(LINKEDIN)).outcome).toBe('no_match');
  });

  test('401 is an auth error', async () => {
    fake.on(ROUTE, () => ({ status: 401, json: { message: 'Bad credentials' } }));
    const err = await failure(run(LINKEDIN));
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('CONTACTOUT_API_KEY');
  });

  test('429 is rate_limited with the Retry-After delay', async () => {
    fake.on(ROUTE, () => ({ status: 429, headers: { 'retry-after': '30' }, json: { message: 'Rate limit reached' } }));
    const err = await failure(run(LINKEDIN));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(30000);
  });

  test('500 is a server error', async () => {
    fake.on(ROUTE, () => ({ status: 500, body: 'oops' }));
    expect((await failure(run(LINKEDIN))).kind).toBe('server');
  });

  test('a malformed body is invalid_response and keeps the raw body', async () => {
    fake.on(ROUTE, () => ({ json: { status_code: 200, profile: 'not an object' } }));
    const err = await failure(run(LINKEDIN));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual({ status_code: 200, profile: 'not an object' });
  });
});
