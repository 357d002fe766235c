// The portal's definitions of the mapped properties, so values are sent the way the portal takes
// them: a dropdown (enumeration) gets one of its own option values. They are read with one batch
// read per object type and cached in Redis for all processes (`cacheHours`); `enrichbot hubspot
// properties --refresh` reads them again after an admin changes a dropdown.
import { propertyMap } from './config.js';
import type { ObjectType } from './hubspot-api.js';
import type { Hubspot } from './state.js';

export interface Definition {
  name: string;
  type: string;
  fieldType: string;
  options: { value: string; label: string }[];
}
export type Definitions = Record<string, Definition>;

const CACHE_S = 6 * 3600;
const key = (h: Hubspot, objectType: ObjectType) => `defs:${h.portalId}:${objectType}`;

/** The mapped properties' definitions (cached); a property HubSpot does not have is absent. */
export async function definitions(h: Hubspot, objectType: ObjectType): Promise<Definitions> {
  const cached = await h.ctx.redis.get(key(h, objectType));
  if (cached) return JSON.parse(cached) as Definitions;
  return readDefinitions(h, objectType);
}

/** Reads the definitions from HubSpot (one call) and caches them. */
export async function readDefinitions(h: Hubspot, objectType: ObjectType): Promise<Definitions> {
  const names = Object.keys(propertyMap(h.config, objectType));
  const res = await h.api.call(`read of ${objectType} property definitions`, (c) => c.crm.properties.batchApi.read(objectType, { archived: false, inputs: names.map((name) => ({ name })) }));
  const out: Definitions = {};
  for (const p of res.results) {
    out[p.name] = { name: p.name, type: p.type, fieldType: p.fieldType, options: (p.options ?? []).filter((o) => !o.hidden).map((o) => ({ value: o.value, label: o.label })) };
  }
  await h.ctx.redis.set(key(h, objectType), JSON.stringify(out), 'EX', CACHE_S);
  return out;
}

/** `enrichbot hubspot properties --refresh`: both object types read again; returns the dropdowns found. */
export async function refreshDefinitions(h: Hubspot): Promise<Record<ObjectType, string[]>> {
  const out = {} as Record<ObjectType, string[]>;
  for (const objectType of ['contacts', 'companies'] as const) {
    const defs = await readDefinitions(h, objectType);
    out[objectType] = Object.values(defs)
      .filter((d) => d.type === 'enumeration')
      .map((d) => `${d.name} (${d.options.length} options)`);
  }
  return out;
}
