// What every part of the HubSpot trigger shares for one context: its settings, the API door
// and the plugin's own collections. Built lazily, so CLI commands get the same from the context.
import type { TriggerContext } from '../../../src/sdk/index.js';
import { HubspotConfigSchema, type HubspotConfig } from './config.js';
import { HubspotApi } from './hubspot-api.js';

export interface Hubspot {
  ctx: TriggerContext<HubspotConfig>;
  config: HubspotConfig;
  api: HubspotApi;
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
      api: new HubspotApi(config, c.redis, c.clock, c.logger),
      events: c.collection('events'),
      objects: c.collection('objects'),
      conflicts: c.collection('conflicts'),
      writes: c.collection('writes'),
      state: c.collection('state'),
    };
    states.set(ctx, h);
  }
  return h;
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

export const objectKey = (objectType: string, objectId: string) => `${objectType}:${objectId}`;
