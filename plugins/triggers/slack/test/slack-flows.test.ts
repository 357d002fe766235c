// /enrich, cards, buttons, the edit modal, App Home, usage, notify, pacing and 429s, through the
// real App, real Bolt and real @slack/web-api against a local fake Slack Web API, in
// multi-workspace mode with two teams (TA, TB) that must never see each other's data.
import { jest } from '@jest/globals';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import slack from '../index.js';
import { installationStore, TEST_TOKEN_KEYS } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from './support/fake-slack.js';
import { sendSigned, commandBody, actionBody, viewSubmissionBody, eventBody, FORM } from './support/slack-requests.js';

const SECRET = 'flows-signing-secret';
const HOSTILE = '<!channel> & <https://evil.example|click>';
let fake: FakeSlack;
let provider: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
const base = () => `http://127.0.0.1:${app.port}`;

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-a': 'TA', 'xoxb-b': 'TB' } });
  provider = await startFakeServer({
    'POST /co': (req) => {
      const domain = (req.json as { domain: string }).domain;
      return { json: { found: true, fields: { 'company.name': domain === 'hostile.com' ? HOSTILE : `Name of ${domain}`, 'company.description': `About ${domain}` }, confidence: 0.9 } };
    },
  });
  app = await startTestApp({
    file: 'slack-flows',
    role: 'all',
    plugins: { slack, co: httpProvider({ id: 'co', returns: ['company.name', 'company.description'], needs: [['domain']], usd: 0.01 }) },
    overrides: {
      plugins: { providers: ['co'], triggers: ['slack'] },
      providers: { co: { baseUrl: provider.url } },
      waterfalls: { companyProfile: ['co'] },
      triggers: { slack: { signingSecret: SECRET, apiUrl: fake.apiUrl, clientId: 'cid', clientSecret: 'csecret', tokenKeys: TEST_TOKEN_KEYS, allowedTeams: 'TA,TB', postIntervalMs: 250, apiRetries: 2, apiRetryMinMs: 10 } },
    },
  });
  const store = installationStore(app);
  for (const [team, token] of [['TA', 'xoxb-a'], ['TB', 'xoxb-b']]) {
    await store.storeInstallation({ team: { id: team }, enterprise: undefined, user: { id: 'UINSTALL', token: undefined, scopes: undefined }, bot: { id: `B${team}`, userId: `UBOT${team}`, token, scopes: ['chat:write'] }, isEnterpriseInstall: false } as never);
  }
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
});

const command = (team: string, user: string, text: string, channel = `C${team}`) => sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team, channel, user, text }) });
const blocksOf = (c: SlackCall) => JSON.stringify(c.args.blocks ?? []);
const cardFor = (channel: string, needle: string) => fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === channel && blocksOf(c).includes(needle));
const buttonValue = (c: SlackCall, actionId: string) => {
  const blocks = c.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[];
  return blocks.find((b) => b.type === 'actions')!.elements!.find((e) => e.action_id === actionId)!.value;
};
const click = (team: string, user: string, channel: string, actionId: string, value: string, messageTs = '1.000001') => sendSigned(base(), { secret: SECRET, contentType: FORM, body: actionBody({ team, channel, user, actionId, value, messageTs }) });

jest.setTimeout(120_000);

test('/enrich with valid and invalid inputs: acked at once, the refused ones listed with reasons in one ephemeral message, a card for each valid one', async () => {
  const res = await command('TA', 'UA', 'acme.com, gmail.com 10.0.0.1\nJane Doe @ beta.com');
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text)).toEqual({ response_type: 'ephemeral', text: 'Enriching 4 inputs…' });

  const refused = await fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.channel === 'CTA' && String(c.args.text).includes('could not use'));
  expect(refused.args.user).toBe('UA');
  expect(refused.args.text).toContain('`gmail.com`');
  expect(refused.args.text).toContain('free mail provider');
  expect(refused.args.text).toContain('`10.0.0.1`');
  expect(refused.args.text).toContain('IP address');
  expect(refused.args.text).toContain('the other 2 are running');
  expect(fake.of('chat.postEphemeral').filter((c) => c.args.channel === 'CTA')).toHaveLength(1);

  const acme = await cardFor('CTA', 'Name of acme.com');
  expect(acme.token).toBe('xoxb-a');
  const text = blocksOf(acme);
  expect(text).toContain('*acme.com* · cost $0.0100');
  expect(text).toMatch(/_co · today_/);
  const actions = (acme.args.blocks as { type: string; elements?: { action_id: string }[] }[]).find((b) => b.type === 'actions')!;
  expect(actions.elements!.map((e) => e.action_id)).toEqual(['enrich_push', 'enrich_lookalikes', 'enrich_refresh', 'enrich_csv', 'enrich_edit']);
  const jane = await cardFor('CTA', 'Jane');
  expect(blocksOf(jane)).toContain('Name of beta.com');
  // Every action is in the activity log with the Slack user.
  const log = await app.service.activity('slack:TA', new Date(0));
  expect(log.filter((e) => e.action === 'enrich' && e.actor === 'UA').map((e) => e.subject).sort()).toEqual(expect.arrayContaining(['acme.com']));
});

test("a company called '<!channel> & <https://evil.example|click>' is shown escaped: nobody is pinged, no link is made", async () => {
  await command('TA', 'UA', 'hostile.com');
  const card = await cardFor('CTA', 'hostile.com');
  const text = blocksOf(card);
  expect(text).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<https://evil');
});

test('Edit opens a modal; the correction is saved with the Slack user as `by` and the card is updated in place; a bad value is refused in the modal', async () => {
  const card = await cardFor('CTA', 'Name of acme.com');
  const value = buttonValue(card, 'enrich_edit');
  expect((await click('TA', 'UA', 'CTA', 'enrich_edit', value, '777.000001')).status).toBe(200);
  const opened = await fake.waitFor((c) => c.method === 'views.open');
  expect(opened.args.trigger_id).toMatch(/^999\.888\./);
  const view = opened.args.view as { private_metadata: string; callback_id: string };
  expect(view.callback_id).toBe('enrich_edit_submit');

  const bad = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: viewSubmissionBody({ team: 'TA', user: 'UA', privateMetadata: view.private_metadata, field: 'company.employeeCount', value: 'many' }) });
  expect(JSON.parse(bad.text)).toMatchObject({ response_action: 'errors', errors: { value: expect.any(String) } });

  const ok = await sendSigned(base(), { secret: SECRET, contentType: FORM, body: viewSubmissionBody({ team: 'TA', user: 'UA', privateMetadata: view.private_metadata, field: 'company.name', value: '<!here> Acme Corrected' }) });
  expect(ok.status).toBe(200);
  const update = await fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === '777.000001');
  expect(update.args.channel).toBe('CTA');
  expect(blocksOf(update)).toContain('&lt;!here&gt; Acme Corrected');
  expect(blocksOf(update)).toContain('corrected by UA');
  expect(blocksOf(update)).not.toContain('<!here>');
  const stored = await app.service.record('slack:TA', 'acme.com');
  expect(stored.company?.fields.name).toMatchObject({ value: '<!here> Acme Corrected', provider: 'manual', by: 'UA' });
});

test('Download CSV uploads the prospect with files.uploadV2 (URL, upload, complete) and logs the export by the user', async () => {
  const card = await cardFor('CTA', 'Name of beta.com');
  await click('TA', 'UA', 'CTA', 'enrich_csv', buttonValue(card, 'enrich_csv'));
  const complete = await fake.waitFor((c) => c.method === 'files.completeUploadExternal' && c.args.channel_id === 'CTA');
  const files = JSON.parse(String(complete.args.files)) as { id: string }[];
  const bytes = fake.uploads.get(files[0].id)!.toString('utf8');
  expect(bytes).toContain('Name of beta.com');
  const url = fake.of('files.getUploadURLExternal').find((c) => String(c.args.filename).includes('Jane'));
  expect(url).toBeDefined();
  // The export is logged right after the upload completes.
  let exported = false;
  for (let i = 0; i < 100 && !exported; i++) {
    exported = (await app.service.activity('slack:TA', new Date(0))).some((e) => e.action === 'export' && e.actor === 'UA');
    if (!exported) await new Promise((r) => setTimeout(r, 100));
  }
  expect(exported).toBe(true);
});

test('Push to HubSpot goes through the service: with no HubSpot trigger enabled, the user is told so', async () => {
  const card = await cardFor('CTA', 'Name of acme.com');
  await click('TA', 'UA', 'CTA', 'enrich_push', buttonValue(card, 'enrich_push'));
  const msg = await fake.waitFor((c) => c.method === 'chat.postEphemeral' && String(c.args.text).includes('That did not work'));
  expect(msg.args.text).toContain('hubspot');
});

test("/enrich usage shows today's spend by provider against the caps (in the ack, or ephemeral when the figures take longer)", async () => {
  const res = await command('TA', 'UA', 'usage');
  const acked = res.text ? String((JSON.parse(res.text) as { text?: string }).text ?? '') : '';
  const text = acked.includes('Spend today') ? acked : String((await fake.waitFor((c) => c.method === 'chat.postEphemeral' && String(c.args.text).includes('Spend today'))).args.text);
  expect(text).toMatch(/co: \$0\.0\d · \d+ calls/);
  expect(text).toContain('daily cap');
});

test('two workspaces are kept apart: records, spend, results and the home tab of team B are invisible to team A', async () => {
  await command('TB', 'UB', 'secret-b.com');
  const cardB = await cardFor('CTB', 'Name of secret-b.com');
  expect(cardB.token).toBe('xoxb-b');
  // Team A's user clicks team B's Download CSV (a forged payload): nothing is uploaded.
  const uploadsBefore = fake.of('files.completeUploadExternal').length;
  await click('TA', 'UA', 'CTA', 'enrich_csv', buttonValue(cardB, 'enrich_csv'));
  await fake.waitFor((c) => c.method === 'chat.postEphemeral' && String(c.args.text).includes('no longer kept'));
  expect(fake.of('files.completeUploadExternal').length).toBe(uploadsBefore);
  expect((await app.service.record('slack:TA', 'secret-b.com')).company).toBeUndefined();
  const day = new Date().toISOString().slice(0, 10);
  const [a, b] = [await app.service.spend(day, 'slack:TA'), await app.service.spend(day, 'slack:TB')];
  expect(b.totalUsd).toBeCloseTo(0.01, 6);
  expect(a.totalUsd).toBeCloseTo(0.03, 6);

  await sendSigned(base(), { secret: SECRET, contentType: 'application/json', body: eventBody({ team: 'TA', event: { type: 'app_home_opened', user: 'UA', channel: 'DUA', tab: 'home' } }) });
  const home = await fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === 'UA');
  expect(home.token).toBe('xoxb-a');
  const view = JSON.stringify(home.args.view);
  expect(view).toContain('acme.com');
  expect(view).toContain('done');
  expect(view).toContain('$0.03');
  expect(view).not.toContain('secret-b.com');
});

test('notify posts text and uploads a PNG with files.uploadV2, byte for byte', async () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 7)]);
  const res = await app.service.notify('slack', { workspace: 'slack:TA', channel: 'CDIGEST', text: 'Daily digest', files: [{ filename: 'chart.png', content: png, title: 'Spend' }] });
  expect(res.channel).toBe('CDIGEST');
  const post = fake.of('chat.postMessage').find((c) => c.args.channel === 'CDIGEST')!;
  expect(post.args.text).toBe('Daily digest');
  expect(post.token).toBe('xoxb-a');
  const url = fake.of('files.getUploadURLExternal').find((c) => c.args.filename === 'chart.png')!;
  expect(Number(url.args.length)).toBe(png.length);
  const complete = await fake.waitFor((c) => c.method === 'files.completeUploadExternal' && c.args.channel_id === 'CDIGEST');
  const [file] = JSON.parse(String(complete.args.files)) as { id: string; title: string }[];
  expect(file.title).toBe('Spend');
  expect(fake.uploads.get(file.id)!.equals(png)).toBe(true);
});

test('a 429 from Slack is retried after the Retry-After it names', async () => {
  fake.rateLimit('chat.postMessage', 1);
  await app.service.notify('slack', { workspace: 'slack:TA', channel: 'CRATE', text: 'after the limit' });
  const limited = fake.calls.find((c) => c.method === 'chat.postMessage:429')!;
  const posted = fake.of('chat.postMessage').find((c) => c.args.channel === 'CRATE')!;
  expect(posted.args.text).toBe('after the limit');
  expect(posted.at - limited.at).toBeGreaterThanOrEqual(1000);
});

test('posts to one channel are queued and spaced by postIntervalMs; another channel does not wait', async () => {
  const pace = [1, 2, 3].map((i) => app.service.notify('slack', { workspace: 'slack:TA', channel: 'CPACE', text: `m${i}` }));
  await app.service.notify('slack', { workspace: 'slack:TA', channel: 'COTHER', text: 'other' });
  await Promise.all(pace);
  const other = fake.of('chat.postMessage').find((c) => c.args.channel === 'COTHER')!;
  const posts = fake.of('chat.postMessage').filter((c) => c.args.channel === 'CPACE');
  expect(posts.map((p) => p.args.text).sort()).toEqual(['m1', 'm2', 'm3']);
  for (let i = 1; i < posts.length; i++) expect(posts[i].at - posts[i - 1].at).toBeGreaterThanOrEqual(240);
  expect(other.at).toBeLessThan(posts[2].at);
});
