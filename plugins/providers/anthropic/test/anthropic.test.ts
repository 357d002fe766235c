// The anthropic provider through the real SDK against a local fake of the Messages API
// (POST /v1/messages): summaries mapped with their token cost, the request it sends (model,
// structured output schema, key, only the known facts), no match on thin facts, and each SDK error
// mapped to the ProviderError kind the engine retries on. Also suggestLookalikes.
import { readFileSync } from 'node:fs';
import plugin, { suggestLookalikes } from '../index.js';
import { lookup } from '../../../../test/support/provider-harness.js';
import { startFakeServer, type FakeServer, type RecordedRequest } from '../../../../test/support/fake-http.js';
import { ProviderError } from '../../../../src/engine/provider-error.js';
import { LOOKALIKES_JSON_SCHEMA, SUMMARY_JSON_SCHEMA } from '../prompts.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const companySummaryMessage = fixture('message-company-summary');
const SUMMARY_TEXT =
  'Acme Analytics sells a self-serve product analytics platform to mid-market SaaS teams. Founded in 2016 in Berlin, it has about 180 employees and runs on Snowflake and Segment, so data-stack integrations are a natural opener.';

/** A Messages API reply whose text block is `text`. */
const messageWith = (text: string, extra: Record<string, unknown> = {}) => ({
  ...companySummaryMessage,
  content: [{ type: 'text', text }],
  usage: { input_tokens: 1000, output_tokens: 100 },
  ...extra,
});

const COMPANY_KNOWN = {
  'company.name': 'Acme Analytics',
  'company.domain': 'acme.com',
  'company.description': 'Self-serve product analytics for mid-market SaaS teams.',
  'company.foundedYear': 2016,
  'company.city': 'Berlin',
  'company.employeeCount': 180,
  'company.technologies': ['Snowflake', 'Segment'],
  'company.contactEmails': ['hello@acme.com'],
  'company.phone': '+49 30 1234567',
  'company.mxHosts': ['aspmx.l.google.com'],
  'company.mailProvider': 'Google Workspace',
  'company.industry': '',
};

const PERSON_KNOWN = {
  ...COMPANY_KNOWN,
  'person.fullName': 'Dana Reyes',
  'person.title': 'VP Data',
  'person.workEmail': 'dana@acme.com',
  'person.workEmailStatus': 'valid',
  'person.personalEmail': 'dana.reyes@example.org',
  'person.phone': '+49 170 0000000',
  'person.linkedinUrl': 'https://www.linkedin.com/in/danareyes',
};

let fake: FakeServer;
beforeEach(async () => {
  fake = await startFakeServer();
});
afterEach(async () => {
  await fake.close();
});

const run = (operation: string, known: Record<string, unknown>, config: Record<string, unknown> = {}, timeoutMs?: number) =>
  lookup(plugin, operation, operation === 'person-summary' ? { fullName: 'Dana Reyes', known } : { domain: 'acme.com', known }, {
    baseUrl: fake.url,
    apiKey: 'test-key',
    config,
    timeoutMs,
  });

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** The facts block of the user message, parsed back. */
function sentFacts(req: RecordedRequest): Record<string, unknown> {
  const body = req.json as { messages: { role: string; content: string }[] };
  const m = /<facts>\n([\s\S]*)\n<\/facts>/.exec(body.messages[0].content);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]) as Record<string, unknown>;
}

describe('anthropic provider', () => {
  it('declares paid summary operations that receive the known facts', () => {
    expect(plugin.id).toBe('anthropic');
    expect(plugin.requiresApiKey).toBe(true);
    expect(plugin.defaults.baseUrl).toBe('https://api.anthropic.com');
    const ops = Object.fromEntries(plugin.operations.map((o) => [o.name, o as typeof o & { wantsKnown?: boolean }]));
    expect(ops['person-summary']).toMatchObject({ needs: [['fullName'], ['workEmail'], ['linkedinUrl']], returns: ['person.summary'], wantsKnown: true });
    expect(ops['company-summary']).toMatchObject({ needs: [['domain'], ['companyName']], returns: ['company.summary'], wantsKnown: true });
  });

  it('maps the summary, with token usage and the cost computed from it', async () => {
    fake.on('POST /v1/messages', () => ({ json: companySummaryMessage }));
    const res = await run('company-summary', COMPANY_KNOWN);
    expect(res).toEqual({
      outcome: 'matched',
      fields: { 'company.summary': SUMMARY_TEXT },
      confidence: 0.8,
      raw: companySummaryMessage,
      httpStatus: 200,
      // 2095 input tokens at $0.10/MTok + 503 output tokens at $0.50/MTok.
      costUsd: (2095 * 0.1 + 503 * 0.5) / 1_000_000,
      usage: { inputTokens: 2095, outputTokens: 503 },
    });
  });

  it('sends the model, the API key, the JSON schema as output_config and only the known facts', async () => {
    fake.on('POST /v1/messages', () => ({ json: companySummaryMessage }));
    await run('company-summary', COMPANY_KNOWN);
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/messages');
    // @anthropic-ai/sdk 1.x sends the key as a bearer token (older SDKs sent x-api-key).
    expect(req.headers.authorization).toBe('Bearer test-key');
    expect(req.headers['anthropic-version']).toEqual(expect.any(String));
    const body = req.json as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'claude-haiku-5-5',
      max_tokens: 1024,
      output_config: { format: { type: 'json_schema', schema: SUMMARY_JSON_SCHEMA }, effort: 'low' },
    });
    expect(body).not.toHaveProperty('temperature');
    expect(body.system).toEqual(expect.stringContaining('Use only the facts'));
    expect(body.system).toEqual(expect.stringContaining('return an empty string'));
    // Known facts only, without contact details, mail hosts or empty values.
    expect(sentFacts(req)).toEqual({
      'company.city': 'Berlin',
      'company.description': 'Self-serve product analytics for mid-market SaaS teams.',
      'company.domain': 'acme.com',
      'company.employeeCount': 180,
      'company.foundedYear': 2016,
      'company.mailProvider': 'Google Workspace',
      'company.name': 'Acme Analytics',
      'company.technologies': ['Snowflake', 'Segment'],
    });
  });

  it('summarizes a person from their facts and their company, with the configured model and prices', async () => {
    fake.on('POST /v1/messages', () => ({ json: messageWith('{"summary":"Dana Reyes is VP Data at Acme Analytics, a Berlin product analytics company."}') }));
    const res = await run('person-summary', PERSON_KNOWN, { model: 'claude-sonnet-5-5', inputUsdPerMTok: 2, outputUsdPerMTok: 10, effort: null });
    expect(res).toMatchObject({
      outcome: 'matched',
      fields: { 'person.summary': 'Dana Reyes is VP Data at Acme Analytics, a Berlin product analytics company.' },
      costUsd: (1000 * 2 + 100 * 10) / 1_000_000,
      usage: { inputTokens: 1000, outputTokens: 100 },
    });
    const body = fake.requests[0].json as { model: string; output_config: Record<string, unknown> };
    expect(body.model).toBe('claude-sonnet-5-5');
    expect(body.output_config).not.toHaveProperty('effort');
    const facts = sentFacts(fake.requests[0]);
    expect(facts).toMatchObject({ 'person.fullName': 'Dana Reyes', 'person.title': 'VP Data', 'company.name': 'Acme Analytics' });
    for (const contact of ['person.workEmail', 'person.workEmailStatus', 'person.personalEmail', 'person.phone', 'company.contactEmails', 'company.phone']) expect(facts).not.toHaveProperty([contact]);
  });

  it('answers no_match, charged at its token cost, when Claude returns an empty summary', async () => {
    fake.on('POST /v1/messages', () => ({ json: fixture('message-empty-summary') }));
    const res = await run('company-summary', COMPANY_KNOWN);
    expect(res).toMatchObject({ outcome: 'no_match', reason: expect.stringContaining('too thin'), costUsd: (412 * 0.1 + 9 * 0.5) / 1_000_000, usage: { inputTokens: 412, outputTokens: 9 } });
  });

  it('answers no_match without calling Claude when the facts only identify the subject', async () => {
    const res = await run('person-summary', { 'person.fullName': 'Dana Reyes', 'person.workEmail': 'dana@acme.com', 'company.domain': 'acme.com' });
    expect(res).toMatchObject({ outcome: 'no_match', costUsd: 0, reason: expect.stringContaining('Claude was not called') });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers no_match when Claude declines (stop_reason refusal)', async () => {
    fake.on('POST /v1/messages', () => ({ json: fixture('message-refusal') }));
    const res = await run('company-summary', COMPANY_KNOWN);
    expect(res).toMatchObject({ outcome: 'no_match', reason: expect.stringContaining('refusal'), costUsd: (380 * 0.1) / 1_000_000 });
  });

  it('reads the text block after a thinking block', async () => {
    fake.on('POST /v1/messages', () => ({
      json: messageWith('', {
        content: [
          { type: 'thinking', thinking: '', signature: 'sig' },
          { type: 'text', text: '{"summary":"Acme Analytics sells product analytics."}' },
        ],
      }),
    }));
    const res = await run('company-summary', COMPANY_KNOWN);
    expect(res.outcome === 'matched' && res.fields['company.summary']).toBe('Acme Analytics sells product analytics.');
  });

  it('throws kind auth on 401 and 403', async () => {
    fake.on('POST /v1/messages', () => ({ status: 401, json: fixture('error-authentication') }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN));
    expect(err.kind).toBe('auth');
    expect(err.httpStatus).toBe(401);
    expect(err.message).toContain('ANTHROPIC_API_KEY');
    fake.on('POST /v1/messages', () => ({ status: 403, json: { type: 'error', error: { type: 'permission_error', message: 'no access' } } }));
    expect((await providerError(run('company-summary', COMPANY_KNOWN))).kind).toBe('auth');
  });

  it('throws kind rate_limited with retryAfterMs from the retry-after header on 429, once', async () => {
    fake.on('POST /v1/messages', () => ({ status: 429, headers: { 'retry-after': '7' }, json: fixture('error-rate-limit') }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(7000);
    expect(err.raw).toEqual(fixture('error-rate-limit'));
    // The SDK's own retries are off: the engine retries.
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    [529, 'error-overloaded'],
    [500, 'error-api'],
  ])('throws kind server on %i', async (status, body) => {
    fake.on('POST /v1/messages', () => ({ status, json: fixture(body) }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN));
    expect(err.kind).toBe('server');
    expect(err.httpStatus).toBe(status);
    expect(fake.requests).toHaveLength(1);
  });

  it('throws kind client on other 4xx', async () => {
    fake.on('POST /v1/messages', () => ({ status: 400, json: fixture('error-invalid-request') }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN));
    expect(err.kind).toBe('client');
    expect(err.message).toContain('additionalProperties');
  });

  it('throws kind invalid_response, raw kept, when the text is not JSON', async () => {
    const reply = messageWith('Acme Analytics is a company that {oops');
    fake.on('POST /v1/messages', () => ({ json: reply }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN));
    expect(err.kind).toBe('invalid_response');
    expect(err.raw).toEqual(reply);
    // The tokens were spent all the same: the error carries what the call cost, for the ledger.
    expect(err.costUsd).toBeCloseTo((1000 * 0.1 + 100 * 0.5) / 1_000_000, 12);
    expect(err.usage).toEqual({ inputTokens: 1000, outputTokens: 100 });
  });

  it('throws kind invalid_response when the JSON does not match the schema', async () => {
    fake.on('POST /v1/messages', () => ({ json: messageWith('{"text":"Acme"}') }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN));
    expect(err.kind).toBe('invalid_response');
    expect(err.costUsd).toBeGreaterThan(0);
  });

  it('throws kind invalid_response when the reply was cut off at max_tokens', async () => {
    fake.on('POST /v1/messages', () => ({ json: messageWith('{"summary":"Acme Analy', { stop_reason: 'max_tokens' }) }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN));
    expect(err.kind).toBe('invalid_response');
    expect(err.message).toContain('max_tokens');
  });

  it("throws kind timeout when the engine's signal aborts a slow answer", async () => {
    fake.on('POST /v1/messages', () => ({ json: companySummaryMessage, delayMs: 800 }));
    const err = await providerError(run('company-summary', COMPANY_KNOWN, {}, 200));
    expect(err.kind).toBe('timeout');
  });

  it('throws kind auth without calling the API when no key is set', async () => {
    const err = await providerError(lookup(plugin, 'company-summary', { domain: 'acme.com', known: COMPANY_KNOWN }, { baseUrl: fake.url }));
    expect(err.kind).toBe('auth');
    expect(fake.requests).toHaveLength(0);
  });

  it('throws kind network when the API cannot be reached', async () => {
    const closed = await startFakeServer();
    const url = closed.url;
    await closed.close();
    const err = await providerError(lookup(plugin, 'company-summary', { domain: 'acme.com', known: COMPANY_KNOWN }, { baseUrl: url, apiKey: 'test-key' }));
    expect(err.kind).toBe('network');
  });
});

describe('suggestLookalikes', () => {
  const options = () => ({ apiKey: 'test-key', baseUrl: fake.url });

  it('asks for the lookalike schema and returns normalized, deduplicated suggestions with their cost', async () => {
    const companies = [
      { domain: 'https://www.Mixpanel.com/', name: 'Mixpanel', reason: 'Product analytics for SaaS teams.' },
      { domain: 'amplitude.com', name: 'Amplitude', reason: 'Self-serve product analytics.' },
      { domain: 'mixpanel.com', name: 'Mixpanel again', reason: 'Duplicate.' },
      { domain: 'acme.com', name: 'Acme Analytics', reason: 'The company itself.' },
      { domain: 'not a domain', name: 'Broken', reason: 'Unusable domain.' },
      { domain: 'heap.io', name: 'Heap', reason: 'Product analytics.' },
    ];
    fake.on('POST /v1/messages', () => ({ json: messageWith(JSON.stringify({ companies })) }));
    const res = await suggestLookalikes({ ...options(), count: 2 }, COMPANY_KNOWN);
    expect(res.suggestions).toEqual([
      { domain: 'mixpanel.com', name: 'Mixpanel', reason: 'Product analytics for SaaS teams.' },
      { domain: 'amplitude.com', name: 'Amplitude', reason: 'Self-serve product analytics.' },
    ]);
    expect(res.usage).toEqual({ inputTokens: 1000, outputTokens: 100 });
    expect(res.costUsd).toBeCloseTo((1000 * 0.1 + 100 * 0.5) / 1_000_000, 12);
    const body = fake.requests[0].json as { model: string; output_config: { format: unknown }; messages: { content: string }[] };
    expect(body.model).toBe('claude-haiku-5-5');
    expect(body.output_config.format).toEqual({ type: 'json_schema', schema: LOOKALIKES_JSON_SCHEMA });
    expect(body.messages[0].content).toContain('up to 2 companies');
    expect(sentFacts(fake.requests[0])).toHaveProperty(['company.description']);
    expect(fake.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('returns an empty list without calling Claude when the facts say nothing about the business', async () => {
    const res = await suggestLookalikes(options(), { 'company.name': 'Acme', 'company.domain': 'acme.com' });
    expect(res).toMatchObject({ suggestions: [], costUsd: 0, reason: expect.stringContaining('not called') });
    expect(fake.requests).toHaveLength(0);
  });

  it('throws the same ProviderError kinds as the operations', async () => {
    fake.on('POST /v1/messages', () => ({ status: 429, headers: { 'retry-after': '3' }, json: fixture('error-rate-limit') }));
    const err = await providerError(suggestLookalikes(options(), COMPANY_KNOWN));
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000 });
  });
});

describe('lookalikes operation', () => {
  it('returns Claude\'s candidates as unverified company.lookalikes with their source and token cost', async () => {
    const companies = [
      { domain: 'mixpanel.com', name: 'Mixpanel', reason: 'Product analytics for SaaS teams.' },
      { domain: 'amplitude.com', name: 'Amplitude', reason: 'Self-serve product analytics.' },
    ];
    fake.on('POST /v1/messages', () => ({ json: messageWith(JSON.stringify({ companies })) }));
    const r = await run('lookalikes', COMPANY_KNOWN);
    expect(r.outcome).toBe('matched');
    if (r.outcome !== 'matched') return;
    expect(r.fields['company.lookalikes']).toEqual([
      { domain: 'mixpanel.com', name: 'Mixpanel', reason: 'Product analytics for SaaS teams.', verified: false, sources: ['anthropic'] },
      { domain: 'amplitude.com', name: 'Amplitude', reason: 'Self-serve product analytics.', verified: false, sources: ['anthropic'] },
    ]);
    expect(r.confidence).toBe(0.5);
    expect(r.costUsd).toBeCloseTo((1000 * 0.1 + 100 * 0.5) / 1_000_000, 12);
    expect((fake.requests[0].json as { messages: { content: string }[] }).messages[0].content).toContain('up to 6 companies');
  });

  it('is no_match, without a call, when the facts say nothing about the business', async () => {
    const r = await run('lookalikes', { 'company.name': 'Acme', 'company.domain': 'acme.com' });
    expect(r).toMatchObject({ outcome: 'no_match', costUsd: 0 });
    expect(fake.requests).toHaveLength(0);
  });
});
