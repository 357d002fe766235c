// The App Home tab, per user: today's spend against the caps, their recent requests with
// status, a button to download their last enriched CSV again, and the team's HubSpot conflicts
// to review (conflict-review.ts).
import type { App } from '@slack/bolt';
import { workspaceOf } from './config.js';
import { section, context, type Block } from './block-limits.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { usageText } from './usage.js';
import { deliverCsv } from './delivery.js';
import { today, type SlackRuntime } from './runtime.js';
import { conflictSection, registerConflictReview } from './conflict-review.js';

const RECENT = 10;

export async function homeView(rt: SlackRuntime, team: string, user: string, conflictsOffset = 0): Promise<{ type: 'home'; blocks: Block[] }> {
  const workspace = workspaceOf(team);
  const report = await rt.ctx.service.spend(today(rt), workspace);
  const since = new Date(rt.ctx.clock.now().getTime() - 30 * 86_400_000);
  const mine = (await rt.ctx.service.activity(workspace, since, 500)).filter((e) => e.actor === user && ['enrich', 'refresh', 'batch'].includes(e.action)).slice(0, RECENT);
  const blocks: Block[] = [section(usageText(report)), { type: 'divider' }, section('*Your recent requests*')];
  if (!mine.length) blocks.push(context('None in the last 30 days. Try `/enrich acme.com`, or send me a CSV in a direct message.'));
  for (const e of mine) {
    const id = (e.detail?.jobId ?? e.detail?.batchId ?? (e.action === 'batch' ? e.subject : undefined)) as string | undefined;
    let state = '';
    if (id) state = await rt.ctx.service.status(id, workspace).then((s) => (s.kind === 'job' ? s.status : s.state), () => 'gone');
    blocks.push(section(`• ${escapeMrkdwn(e.action)} *${escapeMrkdwn(e.subject)}*${state ? ` · ${escapeMrkdwn(state)}` : ''} · ${new Date(e.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`));
  }
  const last = await rt.ctx.collection('last_exports').findOne({ _id: `${team}:${user}` as never });
  if (last) {
    blocks.push({ type: 'divider' }, section(`Your last CSV: *${escapeMrkdwn(last.label)}*`), {
      type: 'actions',
      elements: [{ type: 'button', action_id: 'home_last_csv', text: { type: 'plain_text', text: 'Download the last CSV' }, value: String(last.batchId) }],
    });
  }
  blocks.push(...(await conflictSection(rt, team, conflictsOffset)));
  // A Home tab takes at most 100 blocks (a message 50).
  return { type: 'home', blocks: blocks.slice(0, 100) };
}

export function registerAppHome(app: App, rt: SlackRuntime): void {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab && event.tab !== 'home') return;
    const team = (body as { team_id?: string }).team_id;
    if (!team) return;
    await client.views.publish({ user_id: event.user, view: (await homeView(rt, team, event.user)) as never });
  });
  registerConflictReview(app, rt, async (client, team, user, offset) => {
    await client.views.publish({ user_id: user, view: (await homeView(rt, team, user, offset)) as never });
  });
  app.action({ action_id: 'home_last_csv' }, async ({ ack, body, client }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id;
    const batchId = (body as { actions?: { value?: string }[] }).actions?.[0]?.value;
    if (!team || !batchId) return;
    // The user's own DM; the batch is read within the clicker's team only.
    const status = await rt.ctx.service.status(batchId, workspaceOf(team));
    if (status.kind !== 'batch') return;
    const dm = await client.conversations.open({ users: body.user.id });
    const channel = dm.channel?.id;
    if (channel) await deliverCsv(rt, status, { trigger: 'slack', address: { team, channel, user: body.user.id } });
  });
}
