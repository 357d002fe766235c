// What every part of the HubSpot trigger shares for one context: its settings, the API door
// and the plugin's own collections. Built lazily, so CLI commands get the same from the context.
import type { TriggerContext } from '../../../src/sdk/index.js';
import { HubspotConfigSchema, type HubspotConfig } from './config.js';
import { HubspotApi } from './hubspot-api.js';
import { oauthToken } from './oauth.js';

export interface Hubspot {
  ctx: TriggerContext<HubspotConfig>;
  config: HubspotConfig;
  api: HubspotApi;
  /** The portal (hub id) this view acts in; the root view is the first configured portal. */
  portalId: string;
  /** Per-portal views of the root (same collections, that portal's API door). */
  portals: Map<string, Hubspot>;
  /** Pending webhook events, durably queued before HubSpot gets its 200. */
  events: ReturnType<TriggerContext['collection']>;
  /** HubSpot object -> the input enrichbot used for it (so a privacy deletion knows whom to forget). */
  objects: ReturnType<TriggerContext['collection']>;
  conflicts: ReturnType<TriggerContext['collection']>;
  /** Finished results waiting to be written in chunks of 100 (write-queue.ts). */
  writes: ReturnType<TriggerContext['collection']>;
  state: ReturnType<TriggerContext['collection']>;
}

const states = new WeakMap<object, Hubspot>();

export function hubspotFor(ctx: TriggerContext<HubspotConfig> | TriggerContext): Hubspot {
  let h = states.get(ctx);
  if (!h) {
    const c = ctx as TriggerContext<HubspotConfig>;
    const config = HubspotConfigSchema.parse(c.config);
    h = {
      ctx: c,
      config,
      api: new HubspotApi(config, c.redis, c.clock, c.logger, tokenFor(config, config.portalIds[0])),
      portalId: config.portalIds[0],
      portals: new Map(),
      events: c.collection('events'),
      objects: c.collection('objects'),
      conflicts: c.collection('conflicts'),
      writes: c.collection('writes'),
      state: c.collection('state'),
    };
    h.portals.set(h.portalId, h);
    states.set(ctx, h);
  }
  return h;
}

/** The private-app token for a portal: its own from accessTokens, else accessToken (none: OAuth). */
export function tokenFor(config: HubspotConfig, portalId: string): string {
  return config.accessTokens?.[portalId] ?? (config.clientId && !config.portalIds.includes(portalId) ? '' : (config.accessToken ?? ''));
}

/** The same trigger acting in another configured portal: its keys and its API token. */
export function forPortal(h: Hubspot, portalId: string | undefined): Hubspot {
  const root = h.portals.get(h.config.portalIds[0]) ?? h;
  const id = portalId || root.portalId;
  let v = root.portals.get(id);
  if (!v) {
    const token = tokenFor(root.config, id);
    v = { ...root, portalId: id, api: new HubspotApi(root.config, root.ctx.redis, root.ctx.clock, root.ctx.logger, token) };
    // No private-app token: the portal installed the app, its OAuth token is fetched per call.
    if (!token && root.config.clientId) v.api.tokenSource = () => oauthToken(v!, id);
    root.portals.set(id, v);
  }
  return v;
}

/** When the trigger was first turned on: only records created or changed after it are enriched. */
export async function activatedAt(h: Hubspot): Promise<number> {
  const doc = await h.state.findOne({ _id: 'activation' as never });
  if (doc) return Number(doc.at);
  const at = h.ctx.clock.now().getTime();
  try {
    await h.state.insertOne({ _id: 'activation' as never, at });
  } catch {
    // Another process stored it first; theirs stands.
  }
  return Number((await h.state.findOne({ _id: 'activation' as never }))?.at ?? at);
}

/** `<portalId>:<type>:<id>`: two portals' records with the same id are kept apart. */
export const objectKey = (h: Pick<Hubspot, 'portalId'>, objectType: string, objectId: string) => `${h.portalId}:${objectType}:${objectId}`;

/**
 * Every key a record may be stored under: data from before keys carried a portal
 * (`<type>:<id>`) belongs to the first configured portal.
 */
export const objectKeys = (h: Hubspot, objectType: string, objectId: string): string[] =>
  h.portalId === h.config.portalIds[0] ? [objectKey(h, objectType, objectId), `${objectType}:${objectId}`] : [objectKey(h, objectType, objectId)];

/** Rows (conflicts, queued writes) of this view's portal; rows without one are the first portal's. */
export const portalFilter = (h: Hubspot): Record<string, unknown> =>
  h.portalId === h.config.portalIds[0] ? { portalId: { $in: [h.portalId, null] } } : { portalId: h.portalId };

