// `enrichbot hubspot ...` end to end: the compiled binary starts the HubSpot trigger in a worker
// App and reaches the local HubSpot API through the real client.
import { testNames } from '../../../../test/support/env.js';
import { dropTestData } from '../../../../test/support/test-app.js';
import { cliEnv, runCli, writeConfig } from '../../../../test/support/cli-env.js';
import { startFakeHubspot, type FakeHubspot } from './support/fake-hubspot.js';

let hs: FakeHubspot;
let configFile: string;
const names = testNames('hubspot-cli');
// Each run starts a worker App; on a loaded two-core machine one run took close to a minute.
const CLI_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  hs = await startFakeHubspot();
  configFile = writeConfig({ plugins: { triggers: ['hubspot'] }, queue: { shutdownTimeoutMs: 2000 } });
});
afterAll(async () => {
  await hs.close();
  await dropTestData(names);
});

const env = (extra: Record<string, string> = {}) =>
  cliEnv(names, { ENRICHBOT_CONFIG: configFile, HUBSPOT_ACCESS_TOKEN: 'test-hubspot-token', HUBSPOT_CLIENT_SECRET: 'secret', HUBSPOT_PORTAL_IDS: '62515', HUBSPOT_API_URL: hs.url, ...extra });

test('`enrichbot hubspot setup` creates the properties, and says so; a second run finds them there', async () => {
  const first = await runCli(['hubspot', 'setup'], env(), CLI_TIMEOUT_MS);
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('contacts.enrichbot_last_enriched_at');
  expect(hs.properties.has('companies:enrichbot_summary')).toBe(true);
  const second = await runCli(['hubspot', 'setup'], env(), CLI_TIMEOUT_MS);
  expect(second.stdout).toContain('Created: nothing');
}, 3 * CLI_TIMEOUT_MS);

test('`enrichbot hubspot conflicts --json` lists none on a fresh install; `backfill` with nothing to do says so', async () => {
  const conflicts = await runCli(['hubspot', 'conflicts', '--json'], env(), CLI_TIMEOUT_MS);
  expect(conflicts.code).toBe(0);
  expect(JSON.parse(conflicts.stdout)).toEqual([]);
  const backfill = await runCli(['hubspot', 'backfill', '--since', '2026-01-01', '--limit', '5'], env(), CLI_TIMEOUT_MS);
  expect(backfill.code).toBe(0);
  expect(backfill.stderr).toContain('Nothing to backfill');
  expect(hs.calls.some((c) => c.path === '/crm/v3/objects/contacts/search' && c.body.limit === 5)).toBe(true);
}, 3 * CLI_TIMEOUT_MS);

test('without the trigger enabled, the command says how to enable it', async () => {
  const r = await runCli(['hubspot', 'conflicts'], env({ ENRICHBOT_CONFIG: writeConfig({ plugins: { triggers: [] } }) }), CLI_TIMEOUT_MS);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('add hubspot to plugins.triggers');
}, 3 * CLI_TIMEOUT_MS);
