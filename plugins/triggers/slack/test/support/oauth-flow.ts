// The browser's side of a Slack install: GET /slack/install (state cookie, link to Slack), then
// Slack's redirect back to /slack/oauth_redirect with a code the fake Slack will trade.
import type { FakeSlack, Grant } from './fake-slack.js';

export async function startInstall(base: string): Promise<{ state: string; cookie: string; page: string }> {
  const res = await fetch(`${base}/slack/install`, { redirect: 'manual' });
  if (res.status !== 200) throw new Error(`/slack/install answered ${res.status}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('slack-app-oauth-state='));
  if (!cookie) throw new Error('/slack/install set no state cookie');
  const value = cookie.split(';')[0]!;
  return { state: value.slice('slack-app-oauth-state='.length), cookie: value, page: await res.text() };
}

export async function redirectBack(base: string, opts: { code: string; state: string; cookie?: string }): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/slack/oauth_redirect?code=${encodeURIComponent(opts.code)}&state=${encodeURIComponent(opts.state)}`, { headers: opts.cookie ? { cookie: opts.cookie } : {}, redirect: 'manual' });
  return { status: res.status, text: await res.text() };
}

/** A whole install of `grant` (Slack's side answered by the fake). */
export async function install(base: string, fake: FakeSlack, grant: Grant, code = `code-${grant.token}`): Promise<{ status: number; text: string }> {
  const { state, cookie } = await startInstall(base);
  fake.grantInstall(code, grant);
  return redirectBack(base, { code, state, cookie });
}
