// The App the Slack tests run: the slack trigger plus one fake company provider (`co`, $0.001 a
// call) that answers "Name of <domain>" unless told otherwise. Each test passes its own Slack
// settings and any other overrides.
import { startTestApp } from '../../../../../test/support/test-app.js';
import { startFakeServer, type FakeServer } from '../../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../../test/support/http-provider.js';
import type { Logger } from '../../../../../src/logger.js';
import slack from '../../index.js';
import { MongoInstallationStore } from '../../installation-store.js';
import { TokenCipher, TokenKeysSchema } from '../../token-cipher.js';

/** SLACK_TOKEN_KEYS for tests: fixed 32-byte keys, base64 (k2 current, k1 older). */
export const TEST_KEY_1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
export const TEST_KEY_2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`;
export const TEST_TOKEN_KEYS = TEST_KEY_1;

/** The installations collection as the app reads it, to seed installations directly. */
export function installationStore(app: SlackTestApp, keys = TEST_TOKEN_KEYS): MongoInstallationStore {
  return new MongoInstallationStore(app.store.connection.db!.collection('plugin_slack_installations'), new TokenCipher(TokenKeysSchema.parse(keys)));
}

export type SlackTestApp = Awaited<ReturnType<typeof startTestApp>>;

export async function startSlackTestApp(opts: {
  file: string;
  slack: Record<string, unknown>;
  companyName?: (domain: string) => string;
  overrides?: Record<string, unknown>;
  /** Another process of the same deployment: share the first app's database and queue prefix. */
  names?: SlackTestApp['names'];
  /** The app's logger (tests that wait on a log line). */
  logger?: Logger;
}): Promise<{ app: SlackTestApp; provider: FakeServer }> {
  const name = opts.companyName ?? ((domain: string) => `Name of ${domain}`);
  const provider = await startFakeServer({ 'POST /co': (req) => ({ json: { found: true, fields: { 'company.name': name((req.json as { domain: string }).domain) }, confidence: 0.9 } }) });
  const app = await startTestApp({
    file: opts.file,
    names: opts.names,
    ...(opts.logger ? { logger: opts.logger } : {}),
    role: 'all',
    plugins: { slack, co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: 0.001 }) },
    overrides: {
      plugins: { providers: ['co'], triggers: ['slack'] },
      providers: { co: { baseUrl: provider.url } },
      waterfalls: { companyProfile: ['co'] },
      ...opts.overrides,
      triggers: { slack: opts.slack },
    },
  });
  return { app, provider };
}
