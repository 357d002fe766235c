// Cards within Block Kit's limits, with nothing lost: a result longer than one message (50
// blocks, 3,000 characters per section, 10 fields of 2,000) goes out as several messages in
// order; and when the bot cannot post in the channel (not_in_channel, channel_not_found), every
// one of those messages goes to the command's response_url instead.
import { jest } from '@jest/globals';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import slack from '../index.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from './support/fake-slack.js';
import { sendSigned, commandBody, FORM } from './support/slack-requests.js';

const SECRET = 'limits-signing-secret';
let fake: FakeSlack;
let provider: FakeServer;
let app: Awaited<ReturnType<typeof startTestApp>>;
const base = () => `http://127.0.0.1:${app.port}`;

// 500 technologies of 100 characters, 50 mail hosts of 1,500 and a description full of
// characters that grow when escaped: far more than one message holds.
const TECHNOLOGIES = Array.from({ length: 500 }, (_, i) => `tech-${String(i).padStart(3, '0')}-${'x'.repeat(91)}`);
const MX_HOSTS = Array.from({ length: 50 }, (_, i) => `mx${i}.${'m'.repeat(1490)}.example`);
const DESCRIPTION = 'R&D <lab> & more '.repeat(235).trim();

jest.setTimeout(120_000);

beforeAll(async () => {
  fake = await startFakeSlack({ teams: { 'xoxb-lim': 'TL' } });
  provider = await startFakeServer({
    'POST /co': (req) => {
      const domain = (req.json as { domain: string }).domain;
      if (!domain.startsWith('long')) return { json: { found: true, fields: { 'company.name': `Name of ${domain}` }, confidence: 0.9 } };
      return { json: { found: true, fields: { 'company.name': `Name of ${domain}`, 'company.description': DESCRIPTION, 'company.technologies': TECHNOLOGIES, 'company.mxHosts': MX_HOSTS }, confidence: 0.9 } };
    },
  });
  app = await startTestApp({
    file: 'slack-limits',
    role: 'all',
    plugins: { slack, co: httpProvider({ id: 'co', returns: ['company.name', 'company.description', 'company.technologies', 'company.mxHosts'], needs: [['domain']], usd: 0.01 }) },
    overrides: {
      plugins: { providers: ['co'], triggers: ['slack'] },
      providers: { co: { baseUrl: provider.url } },
      waterfalls: { companyProfile: ['co'] },
      triggers: { slack: { botToken: 'xoxb-lim', signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0 } },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
});

type Blocks = { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: unknown[] }[];
const command = (channel: string, text: string, responseUrl?: string) => sendSigned(base(), { secret: SECRET, contentType: FORM, body: commandBody({ team: 'TL', channel, user: 'UL', text, responseUrl }) });
const blocksOf = (c: SlackCall) => c.args.blocks as Blocks;
const hasActions = (c: SlackCall) => Array.isArray(c.args.blocks) && blocksOf(c).some((b) => b.type === 'actions');

/** Every message within the limits; returns all their text, in order. */
function checkLimits(messages: SlackCall[]): string {
  for (const m of messages) {
    const blocks = blocksOf(m);
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(10);
        for (const f of b.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
  }
  return messages.map((m) => blocksOf(m).map((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)].join('\n')).join('\n')).join('\n');
}

function checkNothingLost(text: string): void {
  const flat = text.replace(/\s+/g, ' ');
  for (const t of TECHNOLOGIES) expect(flat).toContain(t);
  for (const h of MX_HOSTS) expect(flat).toContain(h);
  expect(flat).toContain(DESCRIPTION.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  expect(flat).not.toContain('…');
}

test('a card over 50 blocks goes out as several messages, in order, each within the limits, with nothing cut', async () => {
  expect((await command('CLONG', 'long.com')).status).toBe(200);
  const last = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'CLONG' && hasActions(c));
  const messages = fake.of('chat.postMessage').filter((c) => c.args.channel === 'CLONG');
  expect(messages.length).toBeGreaterThanOrEqual(2);
  expect(messages[messages.length - 1]).toBe(last);
  expect(blocksOf(messages[0])[0].text!.text).toContain('*long.com*');
  expect(messages.filter(hasActions)).toHaveLength(1);
  checkNothingLost(checkLimits(messages));
});

test('when the bot is not in the channel, the card goes to the command’s response_url', async () => {
  fake.failPosts('CPRIVATE', 'not_in_channel');
  await command('CPRIVATE', 'private.com', `${fake.url}/response/private`);
  const answer = await fake.waitFor((c) => c.method === 'response_url' && JSON.stringify(c.args).includes('Name of private.com'));
  expect(answer.args.response_type).toBe('in_channel');
  expect(fake.of('chat.postMessage').some((c) => c.args.channel === 'CPRIVATE')).toBe(true);
});

test('a long card whose channel is gone (channel_not_found) reaches the response_url whole, as several messages in order', async () => {
  fake.failPosts('CGONE', 'channel_not_found');
  await command('CGONE', 'long2.com', `${fake.url}/response/gone`);
  await fake.waitFor((c) => c.method === 'response_url' && c.path === '/response/gone' && hasActions(c));
  const answers = fake.of('response_url').filter((c) => c.path === '/response/gone');
  expect(answers.length).toBeGreaterThanOrEqual(2);
  expect(blocksOf(answers[0])[0].text!.text).toContain('*long2.com*');
  expect(hasActions(answers[answers.length - 1])).toBe(true);
  checkNothingLost(checkLimits(answers));
});
