// A CSV shared with the bot in a DM: downloaded from the Slack file host with the bot token,
// read by the platform's reader, one progress message updated in place, and the enriched file
// uploaded back with the files.uploadV2 steps, streamed from a temporary file that is removed
// afterwards. 1,000 rows with formula cells make the round trip; a file link to any other host is
// never fetched.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { dropTestData } from '../../../../test/support/test-app.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { startSlackTestApp, type SlackTestApp } from './support/slack-app.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendSigned, eventBody } from './support/slack-requests.js';

const SECRET = 'csv-signing-secret';
let fake: FakeSlack;
let provider: FakeServer;
let other: FakeServer;
let app: SlackTestApp;
const base = () => `http://127.0.0.1:${app.port}`;
// The upload's temporary files go here (os.tmpdir() reads TMPDIR), so the test can see them gone.
const scratch = mkdtempSync(path.join(tmpdir(), 'slack-csv-test-'));
const savedTmp = process.env.TMPDIR;

beforeAll(async () => {
  process.env.TMPDIR = scratch;
  fake = await startFakeSlack({ teams: { 'xoxb-csv': 'TC' } });
  other = await startFakeServer({ '*': () => ({ body: 'email\nx@y.com\n' }) });
  ({ app, provider } = await startSlackTestApp({
    file: 'slack-csv',
    companyName: (domain) => (domain.startsWith('formula') ? '=HYPERLINK("http://evil","x")' : `Name of ${domain}`),
    overrides: { queue: { concurrency: 20 }, service: { batch: { progressIntervalMs: 200 } } },
    slack: { botToken: 'xoxb-csv', signingSecret: SECRET, apiUrl: fake.apiUrl, postIntervalMs: 0 },
  }));
}, 120_000);
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
  await fake?.close();
  await provider?.close();
  await other?.close();
  process.env.TMPDIR = savedTmp;
  if (savedTmp === undefined) delete process.env.TMPDIR;
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

const shareInDm = (file: object, user = 'UC') =>
  sendSigned(base(), {
    secret: SECRET,
    contentType: 'application/json',
    body: eventBody({ team: 'TC', event: { type: 'message', subtype: 'file_share', channel: `D${user}`, channel_type: 'im', user, text: '', ts: '100.1', files: [file] } }),
  });

test('a 1,000-row CSV with formula cells: columns and row count answered, one progress message updated, the enriched CSV uploaded with formulas neutralised', async () => {
  const rows = ['Email,Website,Notes'];
  for (let i = 0; i < 1000; i++) rows.push(`p${i}@${i % 10 === 0 ? 'formula' : 'co'}${i}-dm.com,${i % 10 === 0 ? 'formula' : 'co'}${i}-dm.com,${i % 7 === 0 ? '=1+2' : `note ${i}`}`);
  const file = fake.addFile({ name: 'people.csv', content: rows.join('\n'), token: 'xoxb-csv' });
  expect((await shareInDm(file)).status).toBe(200);

  const columns = await fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).startsWith('Got *people.csv*'));
  expect(columns.args.text).toContain('email from `Email`');
  expect(columns.args.text).toContain('domain from `Website`');
  const download = fake.of('file.download')[0];
  expect(download.token).toBe('xoxb-csv');
  const progress = await fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).startsWith('Queuing the rows'));

  const complete = await fake.waitFor((c) => c.method === 'files.completeUploadExternal' && c.args.channel_id === 'DUC', 560_000);
  // Every progress update went to that one message.
  const updates = fake.of('chat.update');
  expect(updates.length).toBeGreaterThan(0);
  expect(new Set(updates.map((u) => `${u.args.channel} ${u.args.ts}`)).size).toBe(1);
  expect(updates[0].args.channel).toBe(progress.args.channel);
  const last = updates[updates.length - 1];
  expect(last.args.text).toContain('finished');
  expect(last.args.text).toContain('1,000 / 1,000 rows');
  expect(last.args.text).toContain('▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓');
  expect(updates.some((u) => /rows read/.test(String(u.args.text)) && String(u.args.text).includes('1,000'))).toBe(true);

  const [uploaded] = JSON.parse(String(complete.args.files)) as { id: string }[];
  // Streamed as the raw bytes (not the SDK's multipart copy in memory), exactly the length announced.
  const asked = fake.of('files.getUploadURLExternal').find((c) => c.args.filename === 'enriched-people.csv')!;
  const upload = fake.of('upload').find((c) => c.args.fileId === uploaded.id)!;
  expect(upload.headers!['content-type']).toBe('application/octet-stream');
  expect(Number(upload.headers!['content-length'])).toBe(Number(asked.args.length));
  expect(upload.raw.length).toBe(Number(asked.args.length));
  expect(upload.token).toBeUndefined();
  const csv = fake.uploads.get(uploaded.id)!.toString('utf8').replace(/^\uFEFF/, '');
  const out = parse(csv, { columns: true }) as Record<string, string>[];
  expect(out).toHaveLength(1000);
  expect(out[1]['Email']).toBe('p1@co1-dm.com');
  expect(out[1]['company.name']).toBe('Name of co1-dm.com');
  expect(out[1].status).toBe('done');
  // Formula cells from the file and from the provider come back as text, never as formulas.
  expect(out[7].Notes).toBe("'=1+2");
  expect(out[10]['company.name'].startsWith("'=")).toBe(true);
  expect(out.every((r) => !/^[=+\-@]/.test(r.Notes) && !/^[=+\-@]/.test(r['company.name']))).toBe(true);
  let exported = false;
  for (let i = 0; i < 100 && !exported; i++) {
    exported = (await app.service.activity('slack:TC', new Date(0))).some((e) => e.action === 'export' && e.actor === 'UC');
    if (!exported) await new Promise((r) => setTimeout(r, 100));
  }
  expect(exported).toBe(true);
  // The export is logged after the upload returned: its temporary file is gone by then.
  expect(readdirSync(scratch)).toEqual([]);
}, 600_000);

test('a file link to any host but Slack’s file host is never fetched', async () => {
  const before = other.requests.length;
  await shareInDm({ id: 'FEVIL', name: 'evil.csv', filetype: 'csv', size: 20, url_private: `${other.url}/evil.csv`, url_private_download: `${other.url}/evil.csv` }, 'UE');
  const msg = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'DUE');
  expect(msg.args.text).toContain('only downloaded from Slack');
  expect(other.requests.length).toBe(before);
});

test('a CSV over the size cap is refused with the limit, before any download', async () => {
  const downloads = fake.of('file.download').length;
  await shareInDm({ id: 'FBIG', name: 'big.csv', filetype: 'csv', size: 50_000_000, url_private: `${fake.url}/files-pri/FBIG/big.csv` }, 'UB');
  const msg = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'DUB');
  expect(msg.args.text).toContain('10000000 bytes');
  expect(fake.of('file.download').length).toBe(downloads);
});
