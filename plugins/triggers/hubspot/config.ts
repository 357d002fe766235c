// The HubSpot trigger's settings: `triggers.hubspot` in YAML, or HUBSPOT_ACCESS_TOKEN,
// HUBSPOT_CLIENT_SECRET, HUBSPOT_API_URL, HUBSPOT_PUBLIC_URL... (strings; numbers coerced).
import { z } from 'zod';
import { TokenKeysSchema } from './token-seal.js';

/** `fill`: only when HubSpot's property is empty (the default); `overwrite`: whenever enrichbot has a value. */
export const PolicySchema = z.enum(['fill', 'overwrite']);
export type Policy = z.infer<typeof PolicySchema>;

const Mapping = z.object({
  /** A canonical field: person.title, company.industry... */
  field: z.string().regex(/^(person|company)\.[A-Za-z]+$/, 'a canonical field such as person.title'),
  policy: PolicySchema.default('fill'),
});
export type PropertyMapping = z.infer<typeof Mapping>;

/** HubSpot's default properties for what enrichbot finds; override per property in config. */
export const DEFAULT_CONTACT_PROPERTIES: Record<string, { field: string; policy: Policy }> = {
  firstname: { field: 'person.firstName', policy: 'fill' },
  lastname: { field: 'person.lastName', policy: 'fill' },
  jobtitle: { field: 'person.title', policy: 'fill' },
  phone: { field: 'person.phone', policy: 'fill' },
  city: { field: 'person.city', policy: 'fill' },
  state: { field: 'person.region', policy: 'fill' },
  country: { field: 'person.country', policy: 'fill' },
  company: { field: 'person.companyName', policy: 'fill' },
};
export const DEFAULT_COMPANY_PROPERTIES: Record<string, { field: string; policy: Policy }> = {
  name: { field: 'company.name', policy: 'fill' },
  description: { field: 'company.description', policy: 'fill' },
  industry: { field: 'company.industry', policy: 'fill' },
  numberofemployees: { field: 'company.employeeCount', policy: 'fill' },
  city: { field: 'company.city', policy: 'fill' },
  state: { field: 'company.region', policy: 'fill' },
  country: { field: 'company.country', policy: 'fill' },
  phone: { field: 'company.phone', policy: 'fill' },
  founded_year: { field: 'company.foundedYear', policy: 'fill' },
  linkedin_company_page: { field: 'company.linkedinUrl', policy: 'fill' },
};

const num = (def: number) => z.coerce.number().int().positive().default(def);

export const HubspotConfigSchema = z
  .object({
    enabled: z.union([z.boolean(), z.string()]).optional(),
    /** The private-app token (every portal without its own in accessTokens). */
    accessToken: z.string().min(1, 'set HUBSPOT_ACCESS_TOKEN (a private-app or OAuth token)').optional(),
    /** One private-app token per portal: `{ "62515": "pat-..." }`, or HUBSPOT_ACCESS_TOKENS="62515=pat-...,77001=pat-...". */
    accessTokens: z
      .union([
        z.record(z.string(), z.string()),
        z.string().transform((s) => Object.fromEntries(s.split(',').map((p) => p.trim()).filter(Boolean).map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()]))),
      ])
      .pipe(z.record(z.string().regex(/^\d{1,20}$/, 'a HubSpot portal (hub) id, digits only (portalId=token)'), z.string().min(1, 'a token after portalId=')))
      .optional(),
    clientSecret: z.string().min(1, 'set HUBSPOT_CLIENT_SECRET (verifies webhook signatures)'),
    /** Portals (hub ids) whose webhooks are taken; one app's signature covers every portal it is installed in. */
    portalIds: z
      .union([z.array(z.coerce.string()), z.coerce.string().transform((s) => s.split(','))])
      .pipe(z.array(z.string().trim().regex(/^\d{1,20}$/, 'a HubSpot portal (hub) id, digits only')).min(1, 'set HUBSPOT_PORTAL_IDS (your HubSpot portal id; webhooks about other portals are refused)')),
    /** A public app's client id (HUBSPOT_CLIENT_ID): turns on /webhooks/hubspot/install (OAuth). */
    clientId: z.string().min(1).optional(),
    /** Keys sealing installed portals' OAuth tokens (HUBSPOT_TOKEN_KEYS, "id:base64key,..."): required with clientId. */
    // Already-read keys pass as they are (the settings are read again per context).
    tokenKeys: z.union([z.array(z.object({ id: z.string(), key: z.custom<Buffer>((v) => Buffer.isBuffer(v)) })), TokenKeysSchema]).optional(),
    /** Scopes asked for at install (space-separated). */
    scopes: z.string().default('crm.objects.contacts.read crm.objects.contacts.write crm.objects.companies.read crm.objects.companies.write'),
    /** HubSpot's authorize page (tests point it elsewhere). */
    authorizeUrl: z.string().url().default('https://app.hubspot.com/oauth/authorize'),
    /** An access token this close to expiry is refreshed before use. */
    refreshBeforeMs: z.coerce.number().int().min(0).default(300_000),
    /** The API host (tests point it at a local server): the client's basePath. */
    apiUrl: z.string().url().optional(),
    /** The public base URL HubSpot calls (behind a proxy), e.g. https://bot.example.com: signatures cover it. */
    publicUrl: z.string().url().optional(),
    /** Records and caches of HubSpot's enrichments live in this enrichbot workspace. */
    workspace: z.string().regex(/^[\w.:-]{1,100}$/).default('hubspot'),
    /**
     * The enrichbot workspaces that may push into this HubSpot account ("slack:T0123", comma-separated
     * in HUBSPOT_PUSH_WORKSPACES). Unset: `workspace` above and the team of a single-workspace Slack.
     */
    pushWorkspaces: z
      .union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))])
      .pipe(z.array(z.string().regex(/^[\w.:-]{1,100}$/, 'a workspace id such as slack:T0123 or hubspot')))
      .optional(),
    /** propertyChange events from this app (sourceId) are ours and ignored. */
    appId: z.coerce.string().optional(),
    /** A contact's company (found by domain): `create` when missing, fill and associate; `link` only existing ones; `off`. */
    companies: z.enum(['create', 'link', 'off']).default('create'),
    contactProperties: z.record(z.string(), Mapping).default({}),
    companyProperties: z.record(z.string(), Mapping).default({}),
    limits: z
      .object({
        requestsPerWindow: num(100),
        windowMs: num(10_000),
        dailyBudget: num(250_000),
        maxRetries: z.coerce.number().int().min(0).max(10).default(4),
        /** Longest Retry-After honoured before giving up on a call. */
        maxRetryAfterMs: num(60_000),
      })
      .prefault({}),
    /** Seen event ids are remembered this long (HubSpot retries for up to 24 h). */
    dedupHours: num(48),
    /** How often leftover queued events are picked up (a crash between answering and processing). */
    drainIntervalMs: num(5_000),
    /** Results are written 100 records per call; fewer wait at most this long for more to arrive. */
    writeDelayMs: z.coerce.number().int().min(0).default(10_000),
    /** After a webhook, wait this long (unless 100 events wait) before processing, so events of close requests share one batch. */
    drainDelayMs: z.coerce.number().int().min(0).default(250),
  })
  .loose()
  .superRefine((c, ctx) => {
    if (c.clientId && !c.tokenKeys) ctx.addIssue({ code: 'custom', path: ['tokenKeys'], message: 'set HUBSPOT_TOKEN_KEYS (id:base64key, openssl rand -base64 32): installed portals\' tokens are stored encrypted' });
    if (c.clientId && !c.publicUrl) ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'set HUBSPOT_PUBLIC_URL: HubSpot redirects installs to <public URL>/webhooks/hubspot/oauth-callback' });
    // With a public app, a configured portal may get its token by installing the app.
    const missing = c.clientId ? [] : (c.portalIds ?? []).filter((p) => !c.accessToken && !c.accessTokens?.[p]);
    if (missing.length) ctx.addIssue({ code: 'custom', path: ['accessToken'], message: `set HUBSPOT_ACCESS_TOKEN (a private-app or OAuth token), or a token for portal ${missing.join(', ')} in HUBSPOT_ACCESS_TOKENS` });
  });
export type HubspotConfig = z.infer<typeof HubspotConfigSchema>;

/** Built-in mapping with the operator's entries over it. */
export function propertyMap(config: HubspotConfig, objectType: 'contacts' | 'companies'): Record<string, { field: string; policy: Policy }> {
  return objectType === 'contacts' ? { ...DEFAULT_CONTACT_PROPERTIES, ...config.contactProperties } : { ...DEFAULT_COMPANY_PROPERTIES, ...config.companyProperties };
}
