// A short card in the Slack channel or DM that last asked about a person whose job change a
// refresh found (issue 21). No address (never asked from Slack): nothing is posted.
import { describeJobChange, type JobChangeNotice } from '../../../src/sdk/index.js';
import { context, section } from './block-limits.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { SlackAddressSchema, postBlocks, type SlackRuntime } from './runtime.js';

export async function deliverJobChange(rt: SlackRuntime, notice: JobChangeNotice): Promise<void> {
  const parsed = SlackAddressSchema.safeParse(notice.askedHere);
  if (!parsed.success) return;
  const to = parsed.data;
  const text = `Job change: ${describeJobChange(notice.person.display, notice.change)}`;
  const client = await rt.clients.forTeam(to.team);
  // A new message in the channel, not in a CSV's thread: the change is news of its own.
  await postBlocks(rt, client, { team: to.team, channel: to.channel }, text, [
    section(`:arrows_counterclockwise: *Job change* · ${escapeMrkdwn(describeJobChange(notice.person.display, notice.change))}`),
    context('Found by a refresh; the record now shows the new values, the old ones stay in its job changes.'),
  ]);
}
