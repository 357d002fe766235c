// The App the Slack tests run: the slack trigger plus one fake company provider (`co`, $0.001 a
// call) that answers "Name of <domain>" unless told otherwise. Each test passes its own Slack
// settings and any other overrides.
import { startTestApp } from '../../../../../test/support/test-app.js';
import { startFakeServer, type FakeServer } from '../../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../../test/support/http-provider.js';
import slack from '../../index.js';

export type SlackTestApp = Awaited<ReturnType<typeof startTestApp>>;

export async function startSlackTestApp(opts: {
  file: string;
  slack: Record<string, unknown>;
  companyName?: (domain: string) => string;
  overrides?: Record<string, unknown>;
}): Promise<{ app: SlackTestApp; provider: FakeServer }> {
  const name = opts.companyName ?? ((domain: string) => `Name of ${domain}`);
  const provider = await startFakeServer({ 'POST /co': (req) => ({ json: { found: true, fields: { 'company.name': name((req.json as { domain: string }).domain) }, confidence: 0.9 } }) });
  const app = await startTestApp({
    file: opts.file,
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
