// Job changes (issue 21 item 2): a person enriched, then the provider moves them to another
// company; a refresh records one jobChange (old, new, sources, date), the record shows it, the
// digest counts it, and the Slack channel that asked about them gets one short card. A second
// refresh finds nothing new and records none. Time is moved on the app's clock, never slept.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { startFakeSlack, type FakeSlack } from '../../plugins/triggers/slack/test/support/fake-slack.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ManualClock } from '../../src/clock.js';
import slackTrigger from '../../plugins/triggers/slack/index.js';
import { renderCard } from '../../src/cli/card.js';

const DAY_MS = 86_400_000;
const clock = new ManualClock(Date.UTC(2031, 2, 2, 9));
const providers = {
  people: httpProvider({ id: 'people', returns: ['person.title', 'person.companyName', 'person.companyDomain', 'person.fullName'], needs: [['workEmail']] }),
  second: httpProvider({ id: 'second', returns: ['person.title', 'person.companyName', 'person.companyDomain'], needs: [['workEmail']] }),
};
let job = { 'person.fullName': 'Jane Doe', 'person.title': 'VP Sales', 'person.companyName': 'Acme Inc', 'person.companyDomain': 'acme.com' };
let api: FakeServer;
let slack: FakeSlack;
let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  api = await startFakeServer({ 'POST /people': () => ({ json: { found: true, fields: job, confidence: 0.9 } }), 'POST /second': () => ({ json: { found: false } }) });
  // The bot token's own team is T1: single-workspace Slack serves only that team.
  slack = await startFakeSlack({ teams: { 'xoxb-test-token': 'T1' } });
  app = await startTestApp({
    file: 'engine-job-change',
    clock,
    plugins: { ...providers, slack: slackTrigger } as never,
    overrides: {
      plugins: { providers: ['people', 'second'], triggers: ['slack'] },
      providers: { people: { baseUrl: api.url }, second: { baseUrl: api.url } },
      triggers: { slack: { apiUrl: slack.apiUrl, botToken: 'xoxb-test-token', signingSecret: 'test-signing-secret' } },
      waterfalls: { personProfile: ['people'] },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await Promise.all([api?.close(), slack?.close()]);
});

const jobChangeCards = () => slack.of('chat.postMessage').filter((m) => String(m.args.text).startsWith('Job change:'));
/** The card is posted after the waiters are woken: wait for it by count, bounded. */
async function cards(n: number): Promise<ReturnType<typeof jobChangeCards>> {
  for (let i = 0; i < 200 && jobChangeCards().length < n; i++) await new Promise((r) => setTimeout(r, 25));
  return jobChangeCards();
}

test('a refresh that finds the person at another company records one jobChange, shows it, counts it and posts one card; a second refresh records none', async () => {
  const asked = await app.service.submit({ workspace: 'W', input: 'jane@acme.com' }, { trigger: 'slack', address: { team: 'T1', channel: 'C42', user: 'U1' } });
  const first = await app.service.waitFor(asked.jobId);
  expect(first.jobChange).toBeUndefined();
  expect(first.person?.fields.title.value).toBe('VP Sales');

  // A month and a day later (past the provider's 30-day freshness), she works at Beta.
  job = { 'person.fullName': 'Jane Doe', 'person.title': 'Head of Growth', 'person.companyName': 'Beta', 'person.companyDomain': 'beta.io' };
  clock.advance(31 * DAY_MS);
  const refreshed = await app.enrichAndWait({ workspace: 'W', input: 'jane@acme.com', refresh: true });
  const at = clock.now().toISOString();
  const change = { at, jobId: refreshed.jobId, old: { companyDomain: 'acme.com', companyName: 'Acme Inc', title: 'VP Sales' }, new: { companyDomain: 'beta.io', companyName: 'Beta', title: 'Head of Growth' }, sources: ['people'], run: expect.any(Number) };
  expect(refreshed.jobChange).toEqual(change);
  expect(renderCard(refreshed)).toContain(`Job change: jane@acme.com: moved from Acme Inc (acme.com) to Beta (beta.io); title VP Sales → Head of Growth (sources: people; found ${at.slice(0, 10)})`);

  const record = await app.service.record('W', 'jane@acme.com');
  expect(record.person?.jobChanges).toEqual([change]);
  expect(record.person?.fields).toMatchObject({ companyDomain: { value: 'beta.io', provider: 'people' }, companyName: { value: 'Beta' }, title: { value: 'Head of Growth' } });
  expect((await app.service.dailyReport(at.slice(0, 10))).jobChanges).toBe(1);

  const posted = await cards(1);
  expect(posted).toHaveLength(1);
  expect(posted[0].args.channel).toBe('C42');
  expect(posted[0].args.text).toBe(`Job change: jane@acme.com: moved from Acme Inc (acme.com) to Beta (beta.io); title VP Sales → Head of Growth (sources: people; found ${at.slice(0, 10)})`);

  clock.advance(31 * DAY_MS);
  const again = await app.enrichAndWait({ workspace: 'W', input: 'jane@acme.com', refresh: true });
  expect(again.status).toBe('done');
  expect(again.outcomes.find((o) => o.provider === 'people')?.outcome).toBe('matched');
  expect(again.jobChange).toBeUndefined();
  expect((await app.service.record('W', 'jane@acme.com')).person?.jobChanges).toEqual([change]);
  expect(jobChangeCards()).toHaveLength(1);
});

test('a retried run of the job that recorded a change reports that change again, and the record keeps it once', async () => {
  job = { 'person.fullName': 'Sam Roe', 'person.title': 'CTO', 'person.companyName': 'Acme Inc', 'person.companyDomain': 'acme.com' };
  await app.enrichAndWait({ workspace: 'R', input: 'sam@acme.com' });
  job = { ...job, 'person.companyName': 'Gamma', 'person.companyDomain': 'gamma.dev' };
  clock.advance(31 * DAY_MS);
  const request = { workspace: 'R', input: 'sam@acme.com', refresh: true };
  // The same job run twice, as a worker that died after saving the record and a retry would.
  const first = await app.engine.run(request, { jobId: 'enr_retried', run: 1, attempt: 1 });
  const retry = await app.engine.run(request, { jobId: 'enr_retried', run: 1, attempt: 2 });
  expect(first.jobChange?.new.companyDomain).toBe('gamma.dev');
  expect(retry.jobChange).toEqual(first.jobChange);
  expect((await app.service.record('R', 'sam@acme.com')).person?.jobChanges).toEqual([first.jobChange]);
});

test('with two agreeing sources required one source alone records no change; a source still reporting the old company vetoes it; another wording of the title is no change', async () => {
  const { detectJobChange } = await import('../../src/engine/job-change.js');
  const stored = { companyDomain: { value: 'acme.com', provider: 'people', fetchedAt: '2031-01-01T00:00:00.000Z', confidence: 0.9 } };
  const said = (provider: string, domain: string, confidence = 0.9) => ({ provider, operation: 'lookup', fetchedAt: new Date(), result: { outcome: 'matched' as const, fields: { 'person.companyDomain': domain }, confidence } });
  const two = { enabled: true, minConfidence: 0.7, minSources: 2 };
  const now = new Date(Date.UTC(2031, 5, 1));
  expect(detectJobChange(stored, [said('a', 'beta.io')], two, now, 'j1')).toBeUndefined();
  expect(detectJobChange(stored, [said('a', 'beta.io'), said('b', 'www.Beta.io')], two, now, 'j1')).toMatchObject({ old: { companyDomain: 'acme.com' }, new: { companyDomain: 'beta.io' }, sources: ['a', 'b'] });
  const one = { ...two, minSources: 1 };
  expect(detectJobChange(stored, [said('a', 'beta.io'), said('b', 'acme.com')], one, now, 'j1')).toBeUndefined();
  expect(detectJobChange(stored, [said('a', 'beta.io', 0.5)], one, now, 'j1')).toBeUndefined();

  // Same company, another provider's wording of the title: not a job change; the same provider's new title is.
  const titled = { ...stored, title: { value: 'VP Marketing', provider: 'a', fetchedAt: '2031-01-01T00:00:00.000Z', confidence: 0.9 } };
  const title = (provider: string, t: string) => ({ provider, operation: 'lookup', fetchedAt: new Date(), result: { outcome: 'matched' as const, fields: { 'person.title': t }, confidence: 0.9 } });
  expect(detectJobChange(titled, [title('b', 'Vice President, Marketing')], one, now, 'j1')).toBeUndefined();
  expect(detectJobChange(titled, [title('a', 'CMO')], one, now, 'j1')).toMatchObject({ old: { title: 'VP Marketing' }, new: { title: 'CMO' }, sources: ['a'] });
});
