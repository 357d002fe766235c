// Signed requests into POST /slack/events, built the way Slack builds them: slash commands and
// interactivity form-encoded (interactivity as `payload=<json>`), events as JSON.
import { slackSignature } from '../../signature.js';

export async function sendSigned(baseUrl: string, opts: { secret: string; body: string; contentType: string; timestamp?: number; signature?: string; headers?: Record<string, string> }): Promise<{ status: number; text: string }> {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': opts.contentType, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': opts.signature ?? slackSignature(opts.secret, timestamp, opts.body), ...opts.headers },
    body: opts.body,
  });
  return { status: res.status, text: await res.text() };
}

export const FORM = 'application/x-www-form-urlencoded';

/** Slack gives every interaction its own trigger_id (and the app takes each one once). */
const triggerId = (head: string) => `${head}.${Math.random().toString(36).slice(2)}`;

export function commandBody(f: { team: string; channel: string; user: string; text: string; responseUrl?: string; enterprise?: string; isEnterpriseInstall?: boolean; triggerId?: string }): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: f.team,
    team_domain: 'test',
    channel_id: f.channel,
    channel_name: 'general',
    user_id: f.user,
    user_name: 'tester',
    command: '/enrich',
    text: f.text,
    response_url: f.responseUrl ?? 'https://hooks.slack.com/commands/x',
    trigger_id: f.triggerId ?? triggerId('123.456'),
    api_app_id: 'A1',
    ...(f.enterprise ? { enterprise_id: f.enterprise, enterprise_name: `Org ${f.enterprise}` } : {}),
    ...(f.isEnterpriseInstall ? { is_enterprise_install: 'true' } : {}),
  }).toString();
}

export function actionBody(f: { team: string; channel: string; user: string; actionId: string; value: string; messageTs?: string; responseUrl?: string }): string {
  const payload = {
    type: 'block_actions',
    team: { id: f.team, domain: 'test' },
    user: { id: f.user, team_id: f.team },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: triggerId('999.888'),
    container: { type: 'message', channel_id: f.channel, message_ts: f.messageTs ?? '1.000001' },
    channel: { id: f.channel, name: 'general' },
    message: { ts: f.messageTs ?? '1.000001', text: '' },
    actions: [{ type: 'button', action_id: f.actionId, block_id: 'enrich_actions', value: f.value, action_ts: '1.2' }],
    ...(f.responseUrl ? { response_url: f.responseUrl } : {}),
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A button pressed in the App Home tab: no channel, the container is the home view. */
export function homeActionBody(f: { team: string; user: string; actionId: string; value: string }): string {
  const payload = {
    type: 'block_actions',
    team: { id: f.team, domain: 'test' },
    user: { id: f.user, team_id: f.team },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: triggerId('999.777'),
    container: { type: 'view', view_id: 'VHOME' },
    view: { id: 'VHOME', type: 'home', team_id: f.team },
    actions: [{ type: 'button', action_id: f.actionId, block_id: 'conflicts', value: f.value, action_ts: '1.3' }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function viewSubmissionBody(f: { team: string; user: string; privateMetadata: string; field: string; value: string }): string {
  const payload = {
    type: 'view_submission',
    team: { id: f.team, domain: 'test' },
    user: { id: f.user, team_id: f.team },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: triggerId('1.2'),
    view: {
      id: 'V1',
      type: 'modal',
      callback_id: 'enrich_edit_submit',
      private_metadata: f.privateMetadata,
      state: { values: { field: { field: { type: 'static_select', selected_option: { value: f.field } } }, value: { value: { type: 'plain_text_input', value: f.value } } } },
    },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function eventBody(f: { team: string; event: Record<string, unknown>; eventId?: string; enterprise?: string; isEnterpriseInstall?: boolean }): string {
  return JSON.stringify({
    token: 'legacy',
    team_id: f.team,
    ...(f.enterprise ? { enterprise_id: f.enterprise } : {}),
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: f.eventId ?? `Ev${Math.random().toString(36).slice(2)}`,
    event_time: Math.floor(Date.now() / 1000),
    event: f.event,
    authorizations: [{ team_id: f.team, enterprise_id: f.enterprise ?? null, is_bot: true, is_enterprise_install: !!f.isEnterpriseInstall }],
  });
}
