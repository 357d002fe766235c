// Start-up refuses Slack settings that cannot work safely, with one sentence naming the setting:
// many workspaces without SLACK_TOKEN_KEYS (tokens would sit readable in MongoDB), and Socket
// Mode together with client id/secret (no public URL, so no install route for other workspaces).
import { startTestApp } from '../../../../test/support/test-app.js';
import { ErrorCodes, isEnrichbotError, type StartupError } from '../../../../src/errors.js';
import slack from '../index.js';
import { TEST_TOKEN_KEYS } from './support/slack-app.js';

async function startupProblem(settings: Record<string, unknown>): Promise<StartupError> {
  const err = await startTestApp({ file: 'slack-startup', role: 'all', plugins: { slack }, overrides: { plugins: { providers: [], triggers: ['slack'] }, triggers: { slack: settings } } }).then(
    async (app) => {
      await app.stop();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!isEnrichbotError(err)) throw new Error(`start-up did not refuse ${JSON.stringify(settings)}: ${String(err)}`);
  return err as StartupError;
}

test('many workspaces without SLACK_TOKEN_KEYS: start-up refuses with a coded error naming the variable', async () => {
  const err = await startupProblem({ signingSecret: 's', clientId: 'cid', clientSecret: 'cs' });
  expect(err.codes).toContain(ErrorCodes.PLUGIN_CONFIG_INVALID);
  expect(err.problems.join('\n')).toContain('SLACK_TOKEN_KEYS');
});

test('a token key that is not 32 bytes of base64 is refused at start-up, and the message never shows the key', async () => {
  const short = Buffer.alloc(16, 7).toString('base64');
  for (const tokenKeys of [`k1:${short}`, [`k1:${short}`], `${TEST_TOKEN_KEYS},k2:${short}`]) {
    const err = await startupProblem({ signingSecret: 's', clientId: 'cid', clientSecret: 'cs', tokenKeys });
    const text = err.problems.join('\n');
    expect(text).toContain('32 bytes');
    expect(text).not.toContain(short);
    expect(text).not.toContain(TEST_TOKEN_KEYS.slice(3));
  }
});

test('Socket Mode with client id and secret: start-up refuses in one sentence saying why and what to unset', async () => {
  const err = await startupProblem({ appToken: 'xapp-1', clientId: 'cid', clientSecret: 'cs', tokenKeys: TEST_TOKEN_KEYS });
  const line = err.problems.find((p) => p.includes('SLACK_APP_TOKEN'));
  expect(line).toBeDefined();
  expect(line).toContain('/slack/install');
  expect(line!.split('. ').length).toBe(1);
});
