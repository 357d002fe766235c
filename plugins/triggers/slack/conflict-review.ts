// Conflict review in the App Home tab: where a provider disagrees with a value HubSpot already
// has, both values with their sources and ages, newest first, ten a page. Accept writes the
// provider's value of that one property to HubSpot, Keep dismisses; both through
// service.conflicts (never HubSpot's token), scoped to the clicker's team, and only for members
// of SLACK_CONFLICT_REVIEWERS (a user group) or workspace admins. Others get an ephemeral refusal.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { isEnrichbotError, ErrorCodes, type ConflictItem } from '../../../src/sdk/index.js';
import { workspaceOf } from './config.js';
import { section, context, MAX_BUTTON_VALUE, type Block } from './block-limits.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { age } from './card-values.js';
import type { SlackRuntime } from './runtime.js';

export const CONFLICTS_PER_PAGE = 10;
const DESTINATION = 'hubspot';

/** A button's memory: the conflicts it settles (`i`) and the page it was on (`o`). */
const Value = z.object({ i: z.array(z.string().max(300)).max(CONFLICTS_PER_PAGE).default([]), o: z.number().int().min(0).max(1_000_000).default(0) });

const button = (actionId: string, text: string, value: z.input<typeof Value>, style?: 'primary' | 'danger') => ({
  type: 'button',
  action_id: actionId,
  text: { type: 'plain_text', text },
  value: JSON.stringify(value).slice(0, MAX_BUTTON_VALUE),
  ...(style ? { style } : {}),
});

function conflictBlocks(c: ConflictItem, offset: number, now: Date): Block[] {
  const v = (s: string) => (s ? `\`${escapeMrkdwn(s)}\`` : '_(empty)_');
  const what = `*${escapeMrkdwn(c.record || `${c.objectType} ${c.objectId}`)}* · ${escapeMrkdwn(c.property)}`;
  const values = `HubSpot has ${v(c.destinationValue)}\n${escapeMrkdwn(c.source)} found ${v(c.providerValue)} (confidence ${Math.round(c.confidence * 100)}%)`;
  const why = c.reason ? `\nHubSpot refused it: ${escapeMrkdwn(c.reason)}` : '';
  return [
    section(`${what}\n${values}${why}`),
    context(`${escapeMrkdwn(c.objectType)} ${escapeMrkdwn(c.objectId)} · found ${age(c.at, now) || 'just now'}`),
    { type: 'actions', elements: [button('conflict_accept', 'Accept', { i: [c.id], o: offset }, 'primary'), button('conflict_keep', "Keep HubSpot's", { i: [c.id], o: offset })] },
  ];
}

/** The App Home's conflicts part, or nothing when no trigger here keeps conflicts (HubSpot off). */
export async function conflictSection(rt: SlackRuntime, team: string, offset: number): Promise<Block[]> {
  let page;
  try {
    page = await rt.ctx.service.conflicts(DESTINATION, { op: 'list', workspace: workspaceOf(team), offset, limit: CONFLICTS_PER_PAGE });
  } catch (err) {
    if (isEnrichbotError(err, ErrorCodes.PUSH_UNAVAILABLE)) return [];
    // The rest of the Home tab is still shown.
    rt.ctx.logger.warn({ err: { message: (err as Error).message } }, 'HubSpot conflicts not read for the Home tab');
    return [{ type: 'divider' }, section('*HubSpot conflicts*'), context('Could not be read just now; open the tab again in a moment.')];
  }
  if (!page.total) return [{ type: 'divider' }, section('*HubSpot conflicts*'), context('None open: no provider disagrees with a value HubSpot already has.')];
  const now = rt.ctx.clock.now();
  const last = Math.min(offset + page.items.length, page.total);
  const blocks: Block[] = [{ type: 'divider' }, section(`*HubSpot conflicts* · ${page.total} open, newest first (${offset + 1}-${last})`)];
  for (const c of page.items) blocks.push(...conflictBlocks(c, offset, now));
  const nav = [
    // Only when the page's ids fit in one button value (a cut value would be invalid JSON).
    ...(page.items.length > 1 && JSON.stringify({ i: page.items.map((c) => c.id), o: offset }).length <= MAX_BUTTON_VALUE ? [button('conflict_accept', 'Accept all on this page', { i: page.items.map((c) => c.id), o: offset })] : []),
    ...(offset > 0 ? [button('conflict_page', 'Previous', { o: Math.max(0, offset - CONFLICTS_PER_PAGE) })] : []),
    ...(last < page.total ? [button('conflict_page', 'Next', { o: offset + CONFLICTS_PER_PAGE })] : []),
  ];
  if (nav.length) blocks.push({ type: 'actions', elements: nav });
  return blocks;
}

/** A member of a reviewers' user group, or an admin (or owner) of the workspace. */
async function mayReview(rt: SlackRuntime, client: WebClient, user: string): Promise<boolean> {
  for (const usergroup of rt.config.conflictReviewers) {
    try {
      const res = await client.usergroups.users.list({ usergroup });
      if (res.users?.includes(user)) return true;
    } catch (err) {
      // Another team's group (multi-workspace), or a missing scope: the admin check still applies.
      rt.ctx.logger.info({ usergroup, error: (err as { data?: { error?: string } }).data?.error }, 'Slack user group not readable for conflict review');
    }
  }
  const info = await client.users.info({ user });
  return !!(info.user?.is_admin || info.user?.is_owner);
}

async function ephemeral(client: WebClient, user: string, text: string): Promise<void> {
  // App Home has no channel: the answer goes to the person's conversation with the bot.
  const dm = await client.conversations.open({ users: user });
  if (dm.channel?.id) await client.chat.postEphemeral({ channel: dm.channel.id, user, text });
}

export function registerConflictReview(app: App, rt: SlackRuntime, republish: (client: WebClient, team: string, user: string, offset: number) => Promise<void>): void {
  const on = (actionId: string, fn: (a: { team: string; user: string; value: z.infer<typeof Value>; client: WebClient }) => Promise<void>) =>
    app.action<BlockAction<ButtonAction>>({ action_id: actionId, type: 'block_actions' }, async ({ ack, body, action, client }) => {
      await ack();
      const team = body.team?.id ?? body.user.team_id;
      const value = Value.safeParse(safeJson(action.value));
      if (!team || !value.success) return;
      try {
        await fn({ team, user: body.user.id, value: value.data, client });
      } catch (err) {
        rt.ctx.logger.warn({ err: { message: (err as Error).message }, action: actionId }, 'conflict review failed');
        await ephemeral(client, body.user.id, `That did not work: ${escapeMrkdwn(err instanceof Error ? err.message : String(err))}`).catch(() => undefined);
      }
    });

  on('conflict_page', ({ team, user, value, client }) => republish(client, team, user, value.o));
  for (const op of ['accept', 'keep'] as const) {
    on(`conflict_${op}`, async ({ team, user, value, client }) => {
      if (!value.i.length) return;
      if (!(await mayReview(rt, client, user))) {
        return ephemeral(client, user, 'Only members of the conflict reviewers\' user group or workspace admins may settle HubSpot conflicts, so nothing was changed. Ask an admin to add you to the group (SLACK_CONFLICT_REVIEWERS).');
      }
      const res = await rt.ctx.service.conflicts(DESTINATION, { op, workspace: workspaceOf(team), ids: value.i, by: user });
      if (res.failed?.length) await ephemeral(client, user, `HubSpot refused ${res.failed.length} value(s): ${escapeMrkdwn(res.failed[0].error)}`);
      await republish(client, team, user, value.o);
    });
  }
}

function safeJson(s: string | undefined): unknown {
  try {
    return JSON.parse(s ?? '');
  } catch {
    return undefined;
  }
}
