// Identity evidence (issue 21 item 1): Exa returns three people named Jane Doe; only the one
// whose page carries her company's domain is kept, the other two are counted with their
// reasons, and Claude's summary prompt holds nothing from the rejected pages.
import { readFileSync } from 'node:fs';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { renderCard } from '../../src/cli/card.js';

const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const SUMMARY = 'Jane Doe is VP Sales at Acme and spent ten years selling logistics software to retailers.';

let exa: FakeServer;
let claude: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  exa = await startFakeServer({ 'POST /search': () => ({ json: fixture('./fixtures/exa-three-jane-does.json') }) });
  claude = await startFakeServer({
    'POST /v1/messages': () => ({ json: { ...(fixture('../../plugins/providers/anthropic/test/fixtures/message-company-summary.json') as object), content: [{ type: 'text', text: JSON.stringify({ summary: SUMMARY }) }] } }),
  });
  app = await startTestApp({
    file: 'identity-evidence',
    overrides: {
      plugins: { providers: ['exa', 'anthropic'] },
      providers: { exa: { apiKey: 'exa-key', baseUrl: exa.url }, anthropic: { apiKey: 'claude-key', baseUrl: claude.url } },
      waterfalls: { personMentions: ['exa'], personSummary: ['anthropic'] },
    },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await Promise.all([exa.close(), claude.close()]);
});

test('of three same-name people only the one with her company domain on the page is kept; the others are counted with reasons', async () => {
  const r = await app.enrichAndWait({ workspace: 'E', input: 'Jane Doe @ acme.com' });
  expect(r.status).toBe('done');
  expect((exa.requests[0].json as { contents?: unknown }).contents).toEqual({ text: { maxCharacters: 1500 } });

  expect(r.person?.fields.webMentions.value).toEqual([
    { title: 'Jane Doe joins Acme to lead sales', url: 'https://acme.com/blog/jane-doe-joins-acme', publishedDate: '2026-03-02', evidence: 'company domain acme.com' },
  ]);
  const outcome = r.outcomes.find((o) => o.group === 'personMentions' && o.provider === 'exa');
  expect(outcome).toMatchObject({ outcome: 'matched', rejected: 2, costUsd: 0.007 });
  expect(outcome?.reason).toBe('1 kept, 2 rejected: same name, other company: beta.io; same name, other company: gammalabs.dev');

  // The summary was written from the kept page only.
  const prompt = (claude.requests[0].json as { messages: { content: string }[] }).messages[0].content;
  expect(prompt).toContain('https://acme.com/blog/jane-doe-joins-acme');
  expect(prompt).not.toMatch(/beta|globex|gamma|linkedin\.com\/in/i);
  expect(r.person?.fields.summary.value).toBe(SUMMARY);

  // The card shows the evidence in one short line.
  const card = renderCard(r);
  expect(card).toContain('Evidence: 1 web mention kept (company domain acme.com); 2 rejected (same name, other company: beta.io; same name, other company: gammalabs.dev)');
});

test('when every page is about someone else nothing is kept, the call is a charged no_match and Claude is not asked about them', async () => {
  const before = claude.requests.length;
  const body = fixture('./fixtures/exa-three-jane-does.json') as { results: unknown[] };
  exa.on('POST /search', () => ({ json: { ...body, results: body.results.slice(1) } }));
  const r = await app.enrichAndWait({ workspace: 'E2', input: 'Jane Doe @ acme.com' });
  expect(r.person?.fields.webMentions).toBeUndefined();
  expect(r.outcomes.find((o) => o.provider === 'exa')).toMatchObject({ outcome: 'no_match', rejected: 2, costUsd: 0.007, reason: 'every page (2) rejected: same name, other company: beta.io; same name, other company: gammalabs.dev' });
  // Only identifying facts are left: too thin for a summary, so Claude is not called at all.
  expect(claude.requests.length).toBe(before);
  expect(r.outcomes.find((o) => o.provider === 'anthropic')).toMatchObject({ outcome: 'no_match', costUsd: 0 });
});

test('the LinkedIn URL on the page, or the full name with the company name, is evidence too', async () => {
  const { screenMentions } = await import('../../src/engine/identity-evidence.js');
  const who = { fullName: 'Jane Doe', companyName: 'Acme Inc.', domain: 'acme.com', linkedinUrl: 'https://www.linkedin.com/in/janedoe' };
  const r = screenMentions(
    [
      { title: 'Jane Doe | LinkedIn', url: 'https://www.linkedin.com/in/janedoe/' },
      { title: 'Panel: retail logistics', url: 'https://events.example.org/panel', text: 'Speakers: Jane  Doe (Acme), Bob Roe (Initech).' },
      { title: 'Jane Doe', url: 'https://www.linkedin.com/in/jane-doe-77' },
      { title: 'Notacme.com launches', url: 'https://news.example.org/x', text: 'Jane Doe of notacme.com, the sister site of widgets.com.au' },
      { title: 'Weather', url: 'https://news.example.org/y', text: 'Rain in Acme county.' },
    ],
    who,
  );
  expect(r.kept.map((k) => k.evidence)).toEqual(['LinkedIn URL linkedin.com/in/janedoe', 'name + company "Acme"']);
  expect(r.rejected.map((k) => k.reason)).toEqual([
    'same name, other LinkedIn profile: linkedin.com/in/jane-doe-77',
    'same name, other company: notacme.com',
    'name not on the page',
  ]);
});
