// The card's buttons: Push to HubSpot (through the service, never HubSpot's token), Find
// lookalikes, Refresh, Download CSV, and Edit (a modal; the correction goes to the service with
// the Slack user as `by`, then the card is redrawn in place with chat.update). The workspace
// always comes from the click's team, so a button can only reach its own team's records. Replies
// and new cards fall back to the click's response_url where the bot cannot post (not a member).
import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { workspaceOf } from './config.js';
import { resultCard } from './cards.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { submitAll } from './submit-inputs.js';
import { uploadJobCsv } from './delivery.js';
import { labelOf } from './card-values.js';
import { answerPrivately, isOutsideChannel, postToResponseUrl } from './private-answers.js';
import type { SlackRuntime } from './runtime.js';
import type { JobResult } from '../../../src/sdk/index.js';

const Ref = z.object({ s: z.string().min(1), j: z.string().min(1) });
/** The modal's memory of its card: channel, message ts, team, and the click's response_url (`r`). */
const EditMeta = Ref.extend({ c: z.string(), t: z.string(), team: z.string(), r: z.string().optional() });

/** Fields a person can fix from Slack (canonical names; the service checks the value). */
const EDITABLE = ['person.fullName', 'person.title', 'person.workEmail', 'person.phone', 'person.linkedinUrl', 'person.city', 'person.country', 'company.name', 'company.domain', 'company.industry', 'company.employeeCount', 'company.city', 'company.country', 'company.description'];

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

interface Click {
  team: string;
  user: string;
  channel?: string;
  ts?: string;
  /** Where an answer goes when the bot cannot post in the channel. */
  responseUrl?: string;
  ref: z.infer<typeof Ref>;
}

function clickOf(body: BlockAction, action: ButtonAction): Click | undefined {
  const ref = Ref.safeParse(safeJson(action.value));
  const team = body.team?.id ?? body.user.team_id;
  if (!ref.success || !team) return undefined;
  return { team, user: body.user.id, channel: body.channel?.id ?? body.container?.channel_id, ts: body.message?.ts ?? body.container?.message_ts, responseUrl: body.response_url || undefined, ref: ref.data };
}

function safeJson(s: string | undefined): unknown {
  try {
    return JSON.parse(s ?? '');
  } catch {
    return undefined;
  }
}

export function registerCardActions(app: App, rt: SlackRuntime): void {
  for (const [id, run] of Object.entries(BUTTONS)) onButton({ app, rt, id, run });
  app.view('enrich_edit_submit', (args) => saveCorrection(rt, args));
}

/** One click on a card's button, parsed, with what answering it needs. */
interface Press {
  rt: SlackRuntime;
  click: Click;
  client: WebClient;
  body: BlockAction;
}

interface ButtonOptions {
  app: App;
  rt: SlackRuntime;
  /** The button's action_id. */
  id: string;
  run: (press: Press) => Promise<void>;
}

/** Acks the click, then runs the button; a failure is told to the person who clicked. */
function onButton({ app, rt, id, run }: ButtonOptions): void {
  app.action<BlockAction<ButtonAction>>({ action_id: id, type: 'block_actions' }, async ({ ack, body, action, client }) => {
    await ack();
    const click = clickOf(body, action);
    if (!click) return;
    const press = { rt, click, client, body };
    try {
      await run(press);
    } catch (err) {
      await tell(press, `That did not work: ${escapeMrkdwn(message(err))}`).catch((e: unknown) => rt.ctx.logger.error({ err: e, action: id }, 'could not tell the person a button failed'));
    }
  });
}

const tell = ({ rt, client, click }: Press, text: string) => answerPrivately(rt, client, click, text);
/** Where a new card goes: the click's channel, or its response_url if the bot cannot post there. */
const addressOf = (click: Click & { channel: string }) => ({ team: click.team, channel: click.channel, user: click.user, responseUrl: click.responseUrl });

/** The card's buttons by action_id, registered in this order. */
const BUTTONS: Record<string, (press: Press) => Promise<void>> = {
  enrich_push: pushToHubspot,
  enrich_refresh: refreshRecord,
  enrich_lookalikes: findLookalikes,
  enrich_csv: downloadCsv,
  enrich_edit: openEditModal,
};

async function pushToHubspot(press: Press): Promise<void> {
  const { rt, click } = press;
  const res = await rt.ctx.service.push(workspaceOf(click.team), click.ref.s, 'hubspot', click.user);
  await tell(press, `Pushed ${escapeMrkdwn(click.ref.s)} to HubSpot: ${escapeMrkdwn(res.summary)}${res.kept?.length ? ` (kept HubSpot's ${res.kept.map(escapeMrkdwn).join(', ')})` : ''}`);
}

async function refreshRecord({ rt, click, client }: Press): Promise<void> {
  if (!click.channel) return;
  await submitAll(rt, client, addressOf({ ...click, channel: click.channel }), [click.ref.s], { refresh: true });
}

async function findLookalikes({ rt, click, client }: Press): Promise<void> {
  if (!click.channel) return;
  const result = await jobResult(rt, click.team, click.ref.j);
  const domain = result?.company?.fields.domain?.value;
  await submitAll(rt, client, addressOf({ ...click, channel: click.channel }), [typeof domain === 'string' ? domain : click.ref.s], { groups: ['companyProfile', 'lookalikes'] });
}

async function downloadCsv(press: Press): Promise<void> {
  const { rt, click, client } = press;
  const result = await jobResult(rt, click.team, click.ref.j);
  if (!result || !click.channel) return tell(press, 'That result is no longer kept; run /enrich again.');
  await uploadJobCsv(rt, client, { team: click.team, channel: click.channel, user: click.user, result });
}

async function openEditModal({ click, client, body }: Press): Promise<void> {
  if (!click.channel || !click.ts) return;
  const meta = JSON.stringify({ ...click.ref, c: click.channel, t: click.ts, team: click.team, ...(click.responseUrl ? { r: click.responseUrl } : {}) });
  await client.views.open({ trigger_id: body.trigger_id, view: editView(meta, click.ref.s) as never });
}

type EditMetaData = z.infer<typeof EditMeta>;

/** The Edit modal submitted: the correction goes to the service (its refusal shown in the modal), then the card is redrawn. */
async function saveCorrection(rt: SlackRuntime, { ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
  const meta = EditMeta.safeParse(safeJson(view.private_metadata));
  const values = view.state.values as Record<string, Record<string, { selected_option?: { value: string }; value?: string }>>;
  const field = values.field?.field?.selected_option?.value;
  const raw = values.value?.value?.value ?? '';
  if (!meta.success || !field) return ack({ response_action: 'errors', errors: { field: 'Choose a field.' } });
  // The card's team, not the clicker's claim: a modal is only opened from a card of that team.
  if (body.team?.id && body.team.id !== meta.data.team) return ack({ response_action: 'errors', errors: { value: 'This card belongs to another workspace.' } });
  const workspace = workspaceOf(meta.data.team);
  try {
    await rt.ctx.service.correct({ workspace, subject: meta.data.s, field, value: /^\d+$/.test(raw.trim()) && /Count|Year/.test(field) ? Number(raw.trim()) : raw.trim(), by: body.user.id });
  } catch (err) {
    return ack({ response_action: 'errors', errors: { value: message(err).slice(0, 150) } });
  }
  await ack();
  await redrawCard({ rt, client, meta: meta.data });
}

interface Redraw {
  rt: SlackRuntime;
  client: WebClient;
  /** The modal's memory of the card to redraw. */
  meta: EditMetaData;
}

/** The card redrawn in place with the stored record (chat.update, else its response_url). */
async function redrawCard({ rt, client, meta }: Redraw): Promise<void> {
  const result = await jobResult(rt, meta.team, meta.j);
  if (!result) return;
  const stored = await rt.ctx.service.record(workspaceOf(meta.team), meta.s);
  const updated: JobResult = { ...result, person: stored.person ?? result.person, company: stored.company ?? result.company };
  const text = `${result.display}: corrected`;
  const blocks = resultCard(updated, rt.ctx.clock.now()).slice(0, 50);
  try {
    await client.chat.update({ channel: meta.c, ts: meta.t, text, blocks: blocks as never });
  } catch (err) {
    // A card that reached the channel through a response_url is replaced through the same door.
    if (!meta.r || !isOutsideChannel(err)) throw err;
    await postToResponseUrl(rt, meta.r, { replace_original: true, text, blocks });
  }
}

async function jobResult(rt: SlackRuntime, team: string, jobId: string): Promise<JobResult | undefined> {
  try {
    const s = await rt.ctx.service.status(jobId, workspaceOf(team));
    return s.kind === 'job' ? s.result : undefined;
  } catch {
    return undefined;
  }
}

function editView(privateMetadata: string, subject: string) {
  return {
    type: 'modal',
    callback_id: 'enrich_edit_submit',
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: 'Correct a value' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Fix a value of *${escapeMrkdwn(subject)}*. A correction wins over every provider until someone corrects it again.`.slice(0, 3000) } },
      {
        type: 'input',
        block_id: 'field',
        label: { type: 'plain_text', text: 'Field' },
        element: { type: 'static_select', action_id: 'field', options: EDITABLE.map((f) => ({ text: { type: 'plain_text', text: `${f.startsWith('person') ? 'Person' : 'Company'}: ${labelOf(f.split('.')[1])}` }, value: f })) },
      },
      { type: 'input', block_id: 'value', label: { type: 'plain_text', text: 'Correct value' }, element: { type: 'plain_text_input', action_id: 'value', max_length: 2000 } },
    ],
  };
}
