// Acceptance test for the whole provider set: the real `enrichbot enrich jane@acme.com --json`
// binary, the real default config (config/default.yaml: plugin list and waterfalls), real Redis
// and MongoDB, and one local fake per provider answering in that provider's wire format with the
// plugin's own test fixtures (identifiers rewritten to describe Jane Doe at acme.com).
//
// The story, with every key set: Acme Robotics is too small for the B2B company databases (AI Ark,
// Apollo and Prospeo know no company at acme.com), so Firecrawl reads its homepage; Apollo knows
// Jane; LeadMagic only finds a catch-all guess for her address, which does not stop the workEmail
// waterfall, and Findymail verifies it; ContactOut has her personal email and phone; DNS names the
// mail provider; SEC EDGAR knows the company by name; Exa finds web mentions; Claude writes both
// summaries (lookalikes only run on request, `enrich --lookalikes`, so not here). With no key at
// all, the free providers (website, dns, sec-edgar) still answer and every paid one is skipped,
// naming the env var that would turn it on.
import { readFileSync } from 'node:fs';
import mongoose from 'mongoose';
import { parse as parseYaml } from 'yaml';
import { startFakeServer, type FakeHandler, type FakeServer, type RecordedRequest } from '../support/fake-http.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { testNames } from '../support/env.js';
import { dropTestData } from '../support/test-app.js';
import { cliEnv, runCli, writeConfig } from '../support/cli-env.js';
import { envPrefix, PACKAGE_ROOT } from '../../src/config/load.js';
import { FIELD_GROUPS, type FieldGroup } from '../../src/engine/fields.js';
import type { JobResult, ProviderOutcome } from '../../src/engine/types.js';

const PAID = ['prospeo', 'leadmagic', 'findymail', 'contactout', 'apollo', 'aiark', 'firecrawl', 'exa', 'anthropic'] as const;
type Paid = (typeof PAID)[number];
const FREE = ['website', 'dns', 'sec-edgar'] as const;

/** A distinct key per provider, so a key sent to the wrong provider is caught too. */
const keyOf = (id: Paid) => `test-key-${id}`;
const SEC_UA = 'enrichbot-tests tests@example.com';
const JANE_LINKEDIN = 'https://www.linkedin.com/in/jane-doe-acme';

/** How each provider authenticates (its docs, as its plugin implements them). */
const AUTH: Record<Paid | 'sec-edgar', (r: RecordedRequest) => boolean> = {
  prospeo: (r) => r.headers['x-key'] === keyOf('prospeo'),
  leadmagic: (r) => r.headers['x-api-key'] === keyOf('leadmagic'),
  findymail: (r) => r.headers.authorization === `Bearer ${keyOf('findymail')}`,
  contactout: (r) => r.headers.token === keyOf('contactout'),
  apollo: (r) => r.headers['x-api-key'] === keyOf('apollo'),
  aiark: (r) => r.headers['x-token'] === keyOf('aiark'),
  firecrawl: (r) => r.headers.authorization === `Bearer ${keyOf('firecrawl')}`,
  exa: (r) => r.headers['x-api-key'] === keyOf('exa'),
  anthropic: (r) => r.headers.authorization === `Bearer ${keyOf('anthropic')}`, // @anthropic-ai/sdk 1.x (see its README)
  'sec-edgar': (r) => r.headers['user-agent'] === SEC_UA,
};

const fixture = (provider: string, name: string) =>
  JSON.parse(readFileSync(new URL(`../../plugins/providers/${provider}/test/fixtures/${name}`, import.meta.url), 'utf8'));

// ---------------------------------------------------------------------------------------------
// Provider answers: the plugins' fixtures, rewritten to describe Jane Doe at Acme Robotics.

function apolloPerson() {
  const body = fixture('apollo', 'people-match.json');
  Object.assign(body.person, {
    first_name: 'Jane',
    last_name: 'Doe',
    name: 'Jane Doe',
    linkedin_url: 'http://www.linkedin.com/in/jane-doe-acme',
    title: 'VP Marketing',
    headline: 'VP Marketing at Acme Robotics',
    email: 'jane@acme.com', // echoed with email_status null: not taken as a found work email
    city: 'Austin',
    state: 'Texas',
    country: 'United States',
    departments: ['master_marketing'],
    seniority: 'vp',
  });
  Object.assign(body.person.organization, { name: 'Acme Robotics', website_url: 'http://www.acme.com', primary_domain: 'acme.com', linkedin_url: 'http://www.linkedin.com/company/acme-robotics' });
  body.person.employment_history[0].organization_name = 'Acme Robotics';
  body.person.employment_history[0].title = 'VP Marketing';
  return body;
}

function leadmagicFinder() {
  // A catch-all domain: LeadMagic's guess (confidence 0.5) is kept but does not stop the waterfall.
  return { ...fixture('leadmagic', 'email-finder.json'), email: 'jane@acme.com', status: 'catch_all', first_name: 'Jane', last_name: 'Doe', domain: 'acme.com', company_name: 'Acme Robotics' };
}

function findymailProfile() {
  const body = fixture('findymail', 'search-business-profile.json');
  body.contact = { ...body.contact, name: 'Jane Doe', domain: 'acme.com', email: 'jane@acme.com' };
  return body;
}

function contactoutProfile() {
  const body = fixture('contactout', 'people-enrich.json');
  Object.assign(body.profile, {
    url: JANE_LINKEDIN,
    email: ['jane@acme.com', 'jane.doe.home@gmail.com'],
    work_email: ['jane@acme.com'],
    personal_email: ['jane.doe.home@gmail.com'],
    work_email_status: { 'jane@acme.com': 'Verified' },
    phone: ['+15125550123'],
    full_name: 'Jane Doe',
    headline: 'VP Marketing at Acme Robotics',
    job_function: 'Marketing',
    seniority: 'VP',
  });
  Object.assign(body.profile.company, { name: 'Acme Robotics', url: 'https://www.linkedin.com/company/acme-robotics', domain: 'acme.com', email_domain: 'acme.com', website: 'https://acme.com' });
  body.profile.experience = [{ ...body.profile.experience[0], title: 'VP Marketing', company_name: 'Acme Robotics', is_current: true, end_date: null, end_date_year: null, end_date_month: null }];
  return body;
}

function exaSearch(query: string) {
  const body = fixture('exa', 'search-example.json');
  const slug = query.includes('Jane Doe') ? 'jane-doe-acme-robotics' : 'acme-robotics-raises-series-b';
  const title = query.includes('Jane Doe') ? 'Jane Doe on marketing warehouse robots' : 'Acme Robotics raises a Series B for picking robots';
  body.results[0] = { ...body.results[0], title, url: `https://techpress.example.com/2026/${slug}`, id: `https://techpress.example.com/2026/${slug}` };
  body.results[1] = { ...body.results[1], url: `https://www.example-news.com/2026/05/${slug}-interview`, id: `https://www.example-news.com/2026/05/${slug}-interview` };
  body.results[2] = { ...body.results[2], title: `${title} (duplicate)`, url: body.results[0].url };
  // Page text, where the engine looks for identity evidence (issue 21).
  if (query.includes('Jane Doe')) {
    body.results[0].text = 'Jane Doe, VP Marketing at Acme Robotics, on warehouse robots.';
    body.results[1].text = 'Interview: Jane Doe of acme.com on picking robots.';
  }
  return body;
}

const PERSON_SUMMARY = 'Jane Doe is VP Marketing at Acme Robotics in Austin, which builds warehouse picking robots for mid-size retailers.';
const COMPANY_SUMMARY = 'Acme Robotics builds warehouse picking robots for mid-size retailers. Founded in 2015 in Austin, it has about 240 employees and is SEC-registered (ticker ACME).';

function claudeMessage(req: RecordedRequest) {
  const content = (req.json as { messages: { content: string }[] }).messages[0].content;
  const summary = content.startsWith('Summarize this person') ? PERSON_SUMMARY : COMPANY_SUMMARY;
  return { ...fixture('anthropic', 'message-company-summary.json'), content: [{ type: 'text', text: JSON.stringify({ summary }) }] };
}
/** The fixture's usage (2095 in, 503 out) at the default Haiku prices ($0.10 / $0.50 per MTok). */
const CLAUDE_CALL_USD = (2095 * 0.1 + 503 * 0.5) / 1e6;

const ACME_CIK = '0001234567';
function secTickers() {
  return { ...fixture('sec-edgar', 'company_tickers.json'), acme: { cik_str: 1234567, ticker: 'ACME', title: 'Acme Robotics, Inc.' } };
}
function secSubmissions() {
  const body = fixture('sec-edgar', 'submissions-CIK0000320193.json');
  Object.assign(body, { cik: '1234567', name: 'ACME ROBOTICS INC', sic: '3569', sicDescription: 'General Industrial Machinery & Equipment, NEC', tickers: ['ACME'] });
  body.addresses.business = { ...body.addresses.business, street1: '100 CONGRESS AVE', city: 'AUSTIN', stateOrCountry: 'TX', zipCode: '78701' };
  // Filing days relative to today, so the four Form 4s fall in the rolling 90-day window.
  const recent = body.filings.recent;
  recent.filingDate = recent.filingDate.map((_: string, i: number) => new Date(Date.now() - (5 + i * 10) * 86_400_000).toISOString().slice(0, 10));
  return body;
}

const HOMEPAGE = readFileSync(new URL('../../plugins/providers/website/test/fixtures/acme-home.html', import.meta.url), 'utf8').replace('content="Acme"', 'content="Acme Robotics"');

// ---------------------------------------------------------------------------------------------

const names = testNames('e2e-all-providers');
const fakes = {} as Record<Paid | 'sec-edgar', FakeServer>;
let site: FakeServer;
let dns: DnsServer;
let configFile: string;

/** Like the real APIs, a fake refuses (401; the SEC: 403) a request without the right credentials. */
function guarded(id: Paid | 'sec-edgar', routes: Record<string, FakeHandler>): Record<string, FakeHandler> {
  const refused = { status: id === 'sec-edgar' ? 403 : 401, json: { message: 'Invalid API key' } };
  return Object.fromEntries(Object.entries(routes).map(([route, handler]) => [route, (req: RecordedRequest) => (AUTH[id](req) ? handler(req) : refused)]));
}

beforeAll(async () => {
  const routes: Record<Paid | 'sec-edgar', Record<string, FakeHandler>> = {
    // Prospeo knows neither Jane nor Acme: its documented HTTP 400 NO_MATCH (free).
    prospeo: {
      'POST /enrich-person': () => ({ status: 400, json: fixture('prospeo', 'no-match.json') }),
      'POST /enrich-company': () => ({ status: 400, json: fixture('prospeo', 'no-match.json') }),
    },
    leadmagic: { 'POST /v1/people/email-finder': () => ({ json: leadmagicFinder() }) },
    findymail: { 'POST /api/search/business-profile': () => ({ json: findymailProfile() }) },
    contactout: { 'POST /v1/people/enrich': () => ({ json: contactoutProfile() }) },
    apollo: {
      'POST /api/v1/people/match': () => ({ json: apolloPerson() }),
      'GET /api/v1/organizations/enrich': () => ({ json: fixture('apollo', 'organization-enrich-miss.json') }),
    },
    aiark: { 'POST /api/developer-portal/v1/companies': () => ({ json: fixture('aiark', 'empty-page.json'), headers: { 'X-Credit': '0' } }) },
    // The fixture already reads https://acme.com ("Acme Robotics").
    firecrawl: { 'POST /v2/scrape': () => ({ json: fixture('firecrawl', 'scrape-json-company.json') }) },
    exa: {
      'POST /search': (req) => ({ json: exaSearch(String((req.json as { query: string }).query)) }),
    },
    anthropic: { 'POST /v1/messages': (req) => ({ json: claudeMessage(req) }) },
    'sec-edgar': {
      'GET /files/company_tickers.json': () => ({ json: secTickers() }),
      [`GET /submissions/CIK${ACME_CIK}.json`]: () => ({ json: secSubmissions() }),
    },
  };
  for (const [id, r] of Object.entries(routes) as [Paid | 'sec-edgar', Record<string, FakeHandler>][]) fakes[id] = await startFakeServer(guarded(id, r));
  site = await startFakeServer({ 'GET /': () => ({ headers: { 'content-type': 'text/html; charset=utf-8' }, body: HOMEPAGE }) });
  dns = await startDnsServer({
    a: { 'acme.com': ['127.0.0.1'] },
    mx: { 'acme.com': [{ exchange: 'aspmx.l.google.com', priority: 1 }, { exchange: 'alt1.aspmx.l.google.com', priority: 5 }] },
  });
  // Only what points the providers at the local fakes; plugin list and waterfalls stay the default's.
  configFile = writeConfig({
    providers: {
      website: { httpsPort: 9, httpPort: site.port },
      dns: { servers: [dns.address] },
      'sec-edgar': { tickersUrl: `${fakes['sec-edgar'].url}/files/company_tickers.json` },
    },
  });
});

afterAll(async () => {
  for (const f of Object.values(fakes)) await f.close();
  await site?.close();
  await dns?.close();
  await dropTestData(names);
});

beforeEach(() => {
  for (const f of [...Object.values(fakes), site]) f.requests.length = 0;
});

/** Every paid provider's base URL points at its fake, with or without keys. */
function env(withKeys: boolean): NodeJS.ProcessEnv {
  const extra: Record<string, string> = {
    ENRICHBOT_CONFIG: configFile,
    ENRICHBOT_DNS_SERVERS: dns.address,
    ENRICHBOT_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    SEC_EDGAR_USER_AGENT: SEC_UA,
    SEC_EDGAR_BASE_URL: fakes['sec-edgar'].url,
  };
  for (const id of PAID) {
    extra[`${envPrefix(id)}_BASE_URL`] = fakes[id].url;
    if (withKeys) extra[`${envPrefix(id)}_API_KEY`] = keyOf(id);
  }
  return cliEnv(names, extra);
}

async function enrich(workspace: string, withKeys: boolean, input = 'jane@acme.com', extraArgs: string[] = []): Promise<JobResult> {
  const r = await runCli(['enrich', input, '--json', '--workspace', workspace, ...extraArgs], env(withKeys), 50_000);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  return JSON.parse(r.stdout) as JobResult;
}

/**
 * [group, provider] for every provider of every waterfall in config/default.yaml, in order, but
 * the groups that only run on request (lookalikes: `enrich --lookalikes`).
 */
function defaultWaterfalls(): [string, string][] {
  const config = parseYaml(readFileSync(`${PACKAGE_ROOT}/config/default.yaml`, 'utf8')) as { waterfalls: Record<string, string[]>; plugins: { providers: string[] } };
  expect(config.plugins.providers).toEqual([...FREE, ...PAID]);
  return Object.entries(config.waterfalls)
    .filter(([group]) => !('onRequest' in FIELD_GROUPS[group as FieldGroup]))
    .flatMap(([group, ids]) => ids.map((id): [string, string] => [group, id]));
}

const outcomeOf = (r: JobResult, group: string, provider: string): ProviderOutcome => {
  const o = r.outcomes.find((x) => x.group === group && x.provider === provider);
  if (!o) throw new Error(`no outcome for ${provider} in ${group}`);
  return o;
};
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const routesHit = (f: FakeServer) => f.requests.map((q) => `${q.method} ${q.path}`);

async function storedRecords(workspace: string, jobId: string) {
  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  try {
    const person = await conn.collection('people').findOne({ workspace, key: 'person:email:jane@acme.com' });
    const company = await conn.collection('companies').findOne({ workspace, key: 'company:acme.com' });
    const ledger = await conn.collection('ledger').find({ jobId }).toArray();
    return { person, company, ledger };
  } finally {
    await conn.close();
  }
}

/** value / provider / confidence of each field, as printed or as stored. */
// Provenance as stored: value, provider, confidence, and (issue 11) the provider's own text and
// the other providers' values when there are any.
const provenance = (fields: Record<string, { value: unknown; provider: string; confidence: number; raw?: unknown; alternatives?: unknown[] }> | undefined) =>
  Object.fromEntries(
    Object.entries(fields ?? {}).map(([k, f]) => [k, { value: f.value, provider: f.provider, confidence: f.confidence, ...(f.raw !== undefined ? { raw: f.raw } : {}), ...(f.alternatives ? { alternatives: f.alternatives } : {}) }]),
  );

test('with every key set, the default waterfalls run across all the providers and print one merged record with provenance and cost', async () => {
  const r = await enrich('e2e', true);
  expect(r.status).toBe('done');
  expect(r.display).toBe('jane@acme.com');

  // Every configured provider of every default waterfall has exactly one outcome, in order.
  expect(r.outcomes.map((o) => [o.group, o.provider])).toEqual(defaultWaterfalls());
  const table = Object.fromEntries(r.outcomes.map((o) => [`${o.group}/${o.provider}`, o.outcome]));
  expect(table).toEqual({
    // Only an email is known at first: Prospeo needs a LinkedIn URL or a name; Apollo answers.
    'personProfile/prospeo': 'skipped',
    'personProfile/apollo': 'matched',
    'personProfile/aiark': 'not_run',
    'personProfile/contactout': 'not_run',
    // The company databases miss; Firecrawl reads the homepage and stops the waterfall.
    'companyProfile/aiark': 'no_match',
    'companyProfile/apollo': 'no_match',
    'companyProfile/prospeo': 'no_match',
    'companyProfile/firecrawl': 'matched',
    'companyProfile/website': 'not_run',
    // The work email is what the user gave: no email finder is asked (or paid).
    'workEmail/prospeo': 'not_run',
    'workEmail/leadmagic': 'not_run',
    'workEmail/findymail': 'not_run',
    'workEmail/contactout': 'not_run',
    'workEmail/apollo': 'not_run',
    'personalEmail/contactout': 'matched',
    // ContactOut gave the phone with the personal email, so the phone group has nothing to find.
    'phone/contactout': 'not_run',
    'mailServer/dns': 'matched',
    'publicCompany/sec-edgar': 'matched',
    'personMentions/exa': 'matched',
    'companyMentions/exa': 'matched',
    'personSummary/anthropic': 'matched',
    'companySummary/anthropic': 'matched',
  });
  expect(outcomeOf(r, 'personProfile', 'prospeo').reason).toBe('needs linkedinUrl, or firstName + lastName + domain, or firstName + lastName + companyName');
  for (const o of r.outcomes.filter((x) => x.outcome === 'not_run')) {
    const known: Record<string, string> = { workEmail: 'person.workEmail already known', phone: 'person.phone already known' };
    expect(o).toMatchObject({ reason: known[o.group] ?? 'an earlier provider answered', costUsd: 0 });
  }
  expect(routesHit(fakes.contactout)).toHaveLength(1); // asked once, billed once
  expect(outcomeOf(r, 'companyProfile', 'aiark').reason).toBe('AI Ark knows no company at acme.com');

  // Cost: each call's price (or the real cost the provider reported); misses free except where billed.
  const cost = (g: string, p: string) => outcomeOf(r, g, p).costUsd;
  expect(cost('personProfile', 'apollo')).toBeCloseTo(0.1, 9);
  expect(cost('companyProfile', 'aiark') + cost('companyProfile', 'apollo') + cost('companyProfile', 'prospeo')).toBe(0);
  expect(cost('companyProfile', 'firecrawl')).toBeCloseTo(5 * 0.0025, 9); // metadata.creditsUsed x usdPerCredit
  expect(cost('personalEmail', 'contactout')).toBeCloseTo(0.3, 9);
  expect(cost('mailServer', 'dns') + cost('publicCompany', 'sec-edgar')).toBe(0);
  expect([cost('personMentions', 'exa'), cost('companyMentions', 'exa')]).toEqual([0.007, 0.007]); // costDollars.total
  expect(cost('personSummary', 'anthropic')).toBeCloseTo(CLAUDE_CALL_USD, 9);
  expect(cost('companySummary', 'anthropic')).toBeCloseTo(CLAUDE_CALL_USD, 9);
  expect(r.costUsd).toBeGreaterThan(0);
  expect(r.costUsd).toBeCloseTo(sum(r.outcomes.map((o) => o.costUsd)), 6);

  // The merged person: per-field value, the provider it came from, and its confidence.
  const person = provenance(r.person?.fields);
  expect(r.person?.key).toBe('person:email:jane@acme.com');
  expect(person).toMatchObject({
    workEmail: { value: 'jane@acme.com', provider: 'input', confidence: 1 }, // existing data wins (fill)
    workEmailStatus: { value: 'valid', provider: 'contactout', confidence: 0.8 },
    fullName: { value: 'Jane Doe', provider: 'apollo', confidence: 0.85 },
    firstName: { value: 'Jane', provider: 'apollo' },
    lastName: { value: 'Doe', provider: 'apollo' },
    title: { value: 'VP Marketing', provider: 'apollo', confidence: 0.85 },
    // Canonical values (issue 11): the provider's own words kept as raw.
    seniority: { value: 'vp', provider: 'apollo' },
    department: { value: 'marketing', raw: 'master_marketing', provider: 'apollo' },
    country: { value: 'US', raw: 'United States', provider: 'apollo' },
    linkedinUrl: { value: JANE_LINKEDIN, provider: 'apollo' },
    city: { value: 'Austin', provider: 'apollo' },
    companyName: { value: 'Acme Robotics', provider: 'apollo' },
    companyDomain: { value: 'acme.com', provider: 'input' },
    personalEmail: { value: 'jane.doe.home@gmail.com', provider: 'contactout', confidence: 0.8 },
    phone: { value: '+15125550123', provider: 'contactout' },
    webMentions: {
      value: [
        { title: 'Jane Doe on marketing warehouse robots', url: 'https://techpress.example.com/2026/jane-doe-acme-robotics', publishedDate: '2023-11-16', evidence: 'name + company "Acme Robotics"' },
        { title: 'www.example-news.com', url: 'https://www.example-news.com/2026/05/jane-doe-acme-robotics-interview', evidence: 'company domain acme.com' },
      ],
      provider: 'exa',
      confidence: 0.7,
    },
    summary: { value: PERSON_SUMMARY, provider: 'anthropic', confidence: 0.8 },
  });
  expect(new Set(Object.values(person).map((f) => f.provider))).toEqual(new Set(['input', 'apollo', 'contactout', 'exa', 'anthropic']));

  // The merged company: Firecrawl's homepage facts, DNS, SEC EDGAR (more confident on the
  // name and industry it also returns), Exa and Claude.
  const company = provenance(r.company?.fields);
  expect(r.company?.key).toBe('company:acme.com');
  expect(company).toMatchObject({
    domain: { value: 'acme.com', provider: 'input' },
    name: { value: 'ACME ROBOTICS INC', provider: 'sec-edgar', confidence: 0.85 },
    // HubSpot's option for SIC 3569, with SEC's own description kept; Firecrawl's reading of the homepage is listed beside it.
    industry: { value: 'MACHINERY', raw: 'General Industrial Machinery & Equipment, NEC', provider: 'sec-edgar', alternatives: [expect.objectContaining({ provider: 'firecrawl', value: 'INDUSTRIAL_AUTOMATION', raw: 'Industrial automation' })] },
    country: { value: 'US', raw: 'United States', provider: 'firecrawl' },
    employeeRange: { value: '201-500', provider: 'firecrawl' },
    description: { value: 'Acme Robotics builds warehouse picking robots for mid-size retailers.', provider: 'firecrawl', confidence: 0.7 },
    employeeCount: { value: 240, provider: 'firecrawl' },
    foundedYear: { value: 2015, provider: 'firecrawl' },
    city: { value: 'Austin', provider: 'firecrawl' },
    linkedinUrl: { value: 'https://www.linkedin.com/company/acme-robotics', provider: 'firecrawl' },
    acceptsMail: { value: true, provider: 'dns', confidence: 0.95 },
    mailProvider: { value: 'Google Workspace', provider: 'dns' },
    mxHosts: { value: ['aspmx.l.google.com', 'alt1.aspmx.l.google.com'], provider: 'dns' },
    secCik: { value: ACME_CIK, provider: 'sec-edgar' },
    ticker: { value: 'ACME', provider: 'sec-edgar' },
    sicCode: { value: '3569', provider: 'sec-edgar' },
    address: { value: '100 CONGRESS AVE, AUSTIN, TX 78701', provider: 'sec-edgar' },
    insiderFilingCount90d: { value: 4, provider: 'sec-edgar' },
    recentFilings: { value: ['10-Q', '10-Q', '10-Q', '10-K'].map((form) => expect.objectContaining({ form })), provider: 'sec-edgar' }, // Form 4s are only counted
    webMentions: { value: [expect.objectContaining({ title: 'Acme Robotics raises a Series B for picking robots' }), expect.anything()], provider: 'exa' },
    summary: { value: COMPANY_SUMMARY, provider: 'anthropic' },
  });
  expect(new Set(Object.values(company).map((f) => f.provider))).toEqual(new Set(['input', 'firecrawl', 'dns', 'sec-edgar', 'exa', 'anthropic']));
  // Every provider-sourced field points at its ledger row.
  for (const f of [...Object.values(r.person!.fields), ...Object.values(r.company!.fields)]) if (f.provider !== 'input') expect(f.ledgerId).toEqual(expect.any(String));

  // What each fake was asked, always with the right credentials (so no request was refused).
  for (const id of [...PAID, 'sec-edgar'] as const) {
    // The email finders are not needed for a given work email (the next test asks them).
    expect([id, fakes[id].requests.length > 0]).toEqual([id, id !== 'leadmagic' && id !== 'findymail']);
    expect([id, fakes[id].requests.filter((q) => !AUTH[id](q)).map((q) => q.headers)]).toEqual([id, []]);
  }
  expect(routesHit(fakes.prospeo)).toEqual(['POST /enrich-company']);
  expect(routesHit(fakes.apollo)).toEqual(['POST /api/v1/people/match', 'GET /api/v1/organizations/enrich']);
  expect(routesHit(fakes.aiark)).toEqual(['POST /api/developer-portal/v1/companies']);
  expect(routesHit(fakes.firecrawl)).toEqual(['POST /v2/scrape']);
  expect(fakes.firecrawl.requests[0].json).toMatchObject({ url: 'https://acme.com' });
  expect(routesHit(fakes.leadmagic)).toEqual([]);
  expect(routesHit(fakes.findymail)).toEqual([]);
  expect(routesHit(fakes.exa)).toEqual(['POST /search', 'POST /search']);
  expect(routesHit(fakes.anthropic)).toEqual(['POST /v1/messages', 'POST /v1/messages']);
  expect(routesHit(fakes['sec-edgar'])).toEqual(['GET /files/company_tickers.json', `GET /submissions/CIK${ACME_CIK}.json`]);
  expect(site.requests).toHaveLength(0); // website was not_run
  // Each group's answers fed the next: the email finders got Apollo's LinkedIn URL and name.
  expect(Object.fromEntries(fakes.apollo.requests[0].query)).toMatchObject({ email: 'jane@acme.com', domain: 'acme.com' }); // query parameters, as Apollo's docs show
  expect(fakes.exa.requests[0].json).toMatchObject({ query: '"Jane Doe" "Acme Robotics"' });
  expect(fakes.exa.requests[1].json).toMatchObject({ query: '"Acme Robotics"', excludeDomains: ['acme.com'] });
  const personFacts = (fakes.anthropic.requests[0].json as { messages: { content: string }[] }).messages[0].content;
  expect(personFacts).toContain('"person.title": "VP Marketing"');
  expect(personFacts).not.toContain('jane.doe.home@gmail.com'); // contact details are never sent to Claude

  // The same records are in MongoDB, and the ledger holds the same cost.
  const stored = await storedRecords('e2e', r.jobId);
  expect(provenance(stored.person?.fields)).toEqual(person);
  expect(provenance(stored.company?.fields)).toEqual(company);
  expect(stored.person?.companyKey).toBe('company:acme.com');
  expect(stored.person?.enrichedAt).toBeInstanceOf(Date);
  expect(sum(stored.ledger.map((l) => l.costUsd as number))).toBeCloseTo(r.costUsd, 6);
  expect(stored.ledger.map((l) => l.provider).sort()).toEqual(r.outcomes.filter((o) => o.ledgerId).map((o) => o.provider).sort());
}, 60_000);

test('with no key at all, the free providers still answer and every paid provider is skipped, naming its env var, at no cost', async () => {
  const r = await enrich('e2e-free', false);
  expect(r.status).toBe('done');
  expect(r.outcomes.map((o) => [o.group, o.provider])).toEqual(defaultWaterfalls());

  for (const o of r.outcomes.filter((x) => (PAID as readonly string[]).includes(x.provider))) {
    expect(o).toMatchObject({ outcome: 'skipped', reason: `no API key: set ${envPrefix(o.provider)}_API_KEY to use it`, costUsd: 0 });
  }
  const free = r.outcomes.filter((o) => (FREE as readonly string[]).includes(o.provider));
  expect(free.map((o) => [o.group, o.provider, o.outcome])).toEqual([
    ['companyProfile', 'website', 'matched'],
    ['mailServer', 'dns', 'matched'],
    ['publicCompany', 'sec-edgar', 'matched'],
  ]);
  expect(r.costUsd).toBe(0);
  expect(r.outcomes.every((o) => o.costUsd === 0)).toBe(true);

  // What the free providers could find about the company.
  expect(provenance(r.company?.fields)).toMatchObject({
    domain: { value: 'acme.com', provider: 'input' },
    description: { value: 'Acme makes widgets & gadgets for revenue teams.', provider: 'website', confidence: 0.6 },
    linkedinUrl: { value: 'https://www.linkedin.com/company/acme-widgets', provider: 'website' },
    contactEmails: { value: ['sales@acme.com', 'hello@acme.com'], provider: 'website' },
    acceptsMail: { value: true, provider: 'dns' },
    mailProvider: { value: 'Google Workspace', provider: 'dns' },
    name: { value: 'ACME ROBOTICS INC', provider: 'sec-edgar' }, // found by the homepage's name, "Acme Robotics"
    secCik: { value: ACME_CIK, provider: 'sec-edgar' },
    ticker: { value: 'ACME', provider: 'sec-edgar' },
  });
  // The person is only what the input said.
  expect(provenance(r.person?.fields)).toEqual({
    workEmail: { value: 'jane@acme.com', provider: 'input', confidence: 1 },
    companyDomain: { value: 'acme.com', provider: 'input', confidence: 1 },
  });

  // No paid provider was called at all; the free ones were.
  for (const id of PAID) expect([id, fakes[id].requests.length]).toEqual([id, 0]);
  expect(site.requests.map((q) => `${q.method} ${q.path} ${q.headers.host}`)).toEqual([`GET / acme.com:${site.port}`]);
  expect(fakes['sec-edgar'].requests.every(AUTH['sec-edgar'])).toBe(true);

  const stored = await storedRecords('e2e-free', r.jobId);
  expect(provenance(stored.company?.fields)).toEqual(provenance(r.company?.fields));
  expect(stored.ledger.every((l) => l.costUsd === 0)).toBe(true);
}, 60_000);

test('a person given by name runs the email finders: profile answers feed them, each provider is asked once', async () => {
  const r = await enrich('e2e-name', true, 'Jane Doe @ acme.com', ['--groups', 'personProfile,workEmail']);
  expect(r.status).toBe('done');
  const table = Object.fromEntries(r.outcomes.map((o) => [`${o.group}/${o.provider}`, o.outcome]));
  expect(table).toEqual({
    'personProfile/prospeo': 'no_match',
    'personProfile/apollo': 'matched',
    'personProfile/aiark': 'not_run',
    'personProfile/contactout': 'not_run',
    // Prospeo's enrich-person already answered in this request: reused, not asked again.
    'workEmail/prospeo': 'cached',
    // LeadMagic's catch-all guess (confidence 0.5) does not stop the waterfall; Findymail's verified email does.
    'workEmail/leadmagic': 'matched',
    'workEmail/findymail': 'matched',
    'workEmail/contactout': 'not_run',
    'workEmail/apollo': 'not_run',
  });
  expect(outcomeOf(r, 'workEmail', 'prospeo')).toMatchObject({ reason: 'answered earlier in this request', costUsd: 0 });
  expect(routesHit(fakes.prospeo)).toEqual(['POST /enrich-person']);
  expect(fakes.leadmagic.requests[0].json).toMatchObject({ first_name: 'Jane', last_name: 'Doe', domain: 'acme.com' });
  expect(fakes.findymail.requests[0].json).toEqual({ linkedin_url: JANE_LINKEDIN }); // Apollo's LinkedIn URL fed it
  for (const id of ['prospeo', 'leadmagic', 'findymail', 'apollo'] as const) expect([id, fakes[id].requests.filter((q) => !AUTH[id](q)).length]).toEqual([id, 0]);
  expect(outcomeOf(r, 'workEmail', 'leadmagic').costUsd).toBeCloseTo(0.024, 9); // credits_consumed 1 x $0.024
  expect(outcomeOf(r, 'workEmail', 'findymail').costUsd).toBeCloseTo(0.0198, 9);
  expect(r.person?.fields.workEmail).toMatchObject({ value: 'jane@acme.com', provider: 'findymail', confidence: 0.9 });
  expect(r.person?.fields.workEmailStatus).toMatchObject({ value: 'valid', provider: 'findymail' });
  expect(r.costUsd).toBeCloseTo(sum(r.outcomes.map((o) => o.costUsd)), 6);
}, 60_000);
