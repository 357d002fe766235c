// A HubSpot public app installed by portals (OAuth v1): /hubspot/install sends the admin to
// HubSpot's authorize page with a single-use state (Redis SET NX, taken back with GETDEL), and
// /hubspot/oauth-callback exchanges the code at POST /oauth/v1/token and asks
// GET /oauth/v1/access-tokens/:token which portal (hub_id) it is for. Tokens are stored per portal,
// sealed (token-seal.ts); an installed portal is served like a configured one. An access token
// near expiry is refreshed once, under a Redis lease, however many processes need it.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { HubspotApiError } from './hubspot-api.js';
import type { Hubspot } from './state.js';
import { TokenCipher, type Sealed } from './token-seal.js';

const STATE_TTL_S = 600;
const TokenAnswer = z.object({ access_token: z.string().min(1).max(1000), refresh_token: z.string().min(1).max(1000), expires_in: z.coerce.number().int().positive() });
const TokenInfo = z.object({ hub_id: z.coerce.string().regex(/^\d{1,20}$/) });
const Callback = z.object({ code: z.string().min(1).max(500), state: z.string().regex(/^[a-f0-9]{32}$/) });

interface Install {
  _id: string;
  access: Sealed;
  refresh: Sealed;
  expiresAt: number;
  installedAt: string;
}

const apiBase = (h: Hubspot) => (h.config.apiUrl ?? 'https://api.hubapi.com').replace(/\/$/, '');
const redirectUri = (h: Hubspot) => `${h.config.publicUrl!.replace(/\/$/, '')}/webhooks/hubspot/oauth-callback`;
const cipher = (h: Hubspot) => new TokenCipher(h.config.tokenKeys ?? []);
const installs = (h: Hubspot) => h.ctx.collection('installs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One call to HubSpot's token endpoint (form-encoded, as documented); its answer validated. */
async function tokenCall(h: Hubspot, grant: Record<string, string>): Promise<z.infer<typeof TokenAnswer>> {
  const res = await fetch(`${apiBase(h)}/oauth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams({ client_id: h.config.clientId!, client_secret: h.config.clientSecret, ...grant }),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  const ok = TokenAnswer.safeParse(body);
  // HubSpot's own status/message say what was wrong (a used code, a revoked refresh token); tokens are never logged.
  if (!res.ok || !ok.success) throw new HubspotApiError(res.status, `HubSpot token ${grant.grant_type} failed: ${res.status} ${String(body.status ?? '')} ${String(body.message ?? '')}`.trim());
  return ok.data;
}

async function store(h: Hubspot, portalId: string, t: z.infer<typeof TokenAnswer>): Promise<void> {
  const c = cipher(h);
  const doc: Omit<Install, '_id'> = {
    access: c.seal(t.access_token, `hubspot:${portalId}:access`),
    refresh: c.seal(t.refresh_token, `hubspot:${portalId}:refresh`),
    expiresAt: h.ctx.clock.now().getTime() + t.expires_in * 1000,
    installedAt: h.ctx.clock.now().toISOString(),
  };
  await installs(h).replaceOne({ _id: portalId as never }, doc, { upsert: true });
}

/** Whether a portal installed the app (so its webhooks are taken). */
export async function installedPortals(h: Hubspot, portalIds: string[]): Promise<Set<string>> {
  if (!h.config.clientId || !portalIds.length) return new Set();
  const docs = await installs(h).find({ _id: { $in: portalIds as never[] } }, { projection: { _id: 1 } }).toArray();
  return new Set(docs.map((d) => String(d._id)));
}

/**
 * The portal's current access token. Near expiry, one process (lease `refresh:<portal>`)
 * refreshes it; the others wait and read what it stored.
 */
export async function oauthToken(h: Hubspot, portalId: string): Promise<string> {
  for (let tries = 0; tries < 300; tries++) {
    const doc = (await installs(h).findOne({ _id: portalId as never })) as unknown as Install | null;
    if (!doc) throw new HubspotApiError(undefined, `HubSpot portal ${portalId} has no token: install the app at <public URL>/webhooks/hubspot/install, or set HUBSPOT_ACCESS_TOKENS`);
    const fresh = (d: Install) => d.expiresAt - h.ctx.clock.now().getTime() > h.config.refreshBeforeMs;
    if (fresh(doc)) return cipher(h).open(doc.access, `hubspot:${portalId}:access`);
    const lease = await h.ctx.lease(`refresh:${portalId}`, 30_000);
    if (!lease) {
      await sleep(50);
      continue;
    }
    try {
      // Another process may have refreshed between our read and the lease.
      const again = (await installs(h).findOne({ _id: portalId as never })) as unknown as Install;
      if (fresh(again)) return cipher(h).open(again.access, `hubspot:${portalId}:access`);
      const t = await tokenCall(h, { grant_type: 'refresh_token', refresh_token: cipher(h).open(again.refresh, `hubspot:${portalId}:refresh`) });
      await store(h, portalId, t);
      h.ctx.logger.info({ portalId }, 'HubSpot access token refreshed');
      return t.access_token;
    } finally {
      await lease.release();
    }
  }
  throw new HubspotApiError(undefined, `HubSpot portal ${portalId}: its token refresh did not finish; try again`);
}

export function mountOAuth(h: Hubspot): void {
  const { ctx, config } = h;
  if (!config.clientId) return;
  ctx.router.get('/hubspot/install', async (_req: Request, res: Response) => {
    const state = randomBytes(16).toString('hex');
    await ctx.redis.set(`oauth-state:${state}`, '1', 'EX', STATE_TTL_S, 'NX');
    const url = new URL(config.authorizeUrl);
    url.searchParams.set('client_id', config.clientId!);
    url.searchParams.set('redirect_uri', redirectUri(h));
    url.searchParams.set('scope', config.scopes);
    url.searchParams.set('state', state);
    res.redirect(302, url.toString());
  });
  ctx.router.get('/hubspot/oauth-callback', async (req: Request, res: Response) => {
    const q = Callback.safeParse(req.query);
    if (!q.success) {
      res.status(400).type('text/plain').send('This install link is incomplete (code and state expected): start again at /webhooks/hubspot/install.');
      return;
    }
    if (!(await ctx.redis.getdel(`oauth-state:${q.data.state}`))) {
      res.status(400).type('text/plain').send('This install link was already used or is older than 10 minutes: start again at /webhooks/hubspot/install.');
      return;
    }
    try {
      const t = await tokenCall(h, { grant_type: 'authorization_code', code: q.data.code, redirect_uri: redirectUri(h) });
      const info = await fetch(`${apiBase(h)}/oauth/v1/access-tokens/${encodeURIComponent(t.access_token)}`);
      const hub = TokenInfo.safeParse(await info.json().catch(() => ({})));
      if (!info.ok || !hub.success) throw new HubspotApiError(info.status, `HubSpot did not say which portal the token is for (${info.status})`);
      await store(h, hub.data.hub_id, t);
      ctx.logger.info({ portalId: hub.data.hub_id }, 'HubSpot app installed');
      res.status(200).type('text/plain').send(`enrichbot is installed in HubSpot portal ${hub.data.hub_id}. You can close this page.`);
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message }, 'HubSpot install failed');
      res.status(502).type('text/plain').send(`HubSpot install failed: ${(err as Error).message}. Start again at /webhooks/hubspot/install.`);
    }
  });
}
