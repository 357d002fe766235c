// A local HubSpot CRM API speaking the documented v3 wire format (objects, batch read/update,
// search, create, properties and groups) and v4 default associations, for the real
// @hubspot/api-client pointed at it (basePath). Every call is recorded; tests can make the next
// calls answer 429 with Retry-After, or make a record's updates fail validation. Like HubSpot it
// allows 100 requests per rolling 10 s (a 429 with Retry-After beyond), validates dropdown values
// against a property's options (400 INVALID_OPTION in HubSpot's documented message format,
// failing a whole batch) and keeps one association per contact-company pair.
import http from 'node:http';

export interface FakeCall {
  method: string;
  path: string;
  body: any;
  at: number;
  status: number;
}

interface Obj {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  options: { label: string; value: string; hidden?: boolean }[];
}

export interface FakeHubspot {
  url: string;
  calls: FakeCall[];
  objects: Record<'contacts' | 'companies', Map<string, Obj>>;
  associations: { from: string; fromId: string; to: string; toId: string }[];
  groups: Set<string>;
  properties: Set<string>;
  /** Property definitions the portal has (dropdowns are validated against their options). */
  definitions: Map<string, PropertyDefinition>;
  /** Answers the portal gave with 429 because more than 100 requests came within 10 s. */
  limitHits: number;
  /** Defines (or replaces) a property on the portal, e.g. country as a dropdown. */
  define(type: 'contacts' | 'companies', def: Omit<PropertyDefinition, 'options'> & { options?: PropertyDefinition['options'] }): void;
  /** Adds a record; returns its id. */
  add(type: 'contacts' | 'companies', properties: Record<string, string>, createdAt?: Date): string;
  /** The next `n` calls (optionally only to paths containing `match`) answer 429 with Retry-After. */
  rateLimitNext(n: number, retryAfterSeconds: number, match?: string): void;
  /** Updates to this record fail validation (a batch containing it fails as a whole, as HubSpot does). */
  rejectUpdates(type: 'contacts' | 'companies', id: string, message: string): void;
  close(): Promise<void>;
}

const now = () => new Date().toISOString();
const view = (o: Obj, props: string[] | undefined) => {
  const properties: Record<string, string | null> = { hs_object_id: o.id, createdate: o.properties.createdate ?? o.createdAt };
  for (const p of props ?? Object.keys(o.properties)) properties[p] = o.properties[p] ?? null;
  return { id: o.id, properties, createdAt: o.createdAt, updatedAt: o.updatedAt, archived: false };
};
const error = (status: number, category: string, message: string) => ({ status, json: { status: 'error', message, correlationId: 'fake-correlation', category } });

/** HubSpot's answer to a value that is not an option of a dropdown (developers.hubspot.com changelog, 2023 and 2025). */
const invalid = (problems: { name: string; value: string; def: PropertyDefinition }[]) =>
  error(
    400,
    'VALIDATION_ERROR',
    `Property values were not valid: ${JSON.stringify(
      problems.map((p) => ({ isValid: false, message: `${p.value} was not one of the allowed options: [${p.def.options.map((o) => `label: "${o.label}" value: "${o.value}"`).join(', ')}]`, error: 'INVALID_OPTION', name: p.name })),
    )}`,
  );

/** `token`: the bearer token this portal takes (another gets HubSpot's 401). */
/** A public app's OAuth v1 (developers.hubspot.com, legacy OAuth tokens v1): the code it issues for, the portal it is installed in. */
export interface FakeOAuth {
  clientId: string;
  clientSecret: string;
  /** The authorization code HubSpot put on the redirect (single use). */
  code: string;
  hubId: number;
  /** Lifetime of each issued access token, seconds (HubSpot: 1800). */
  expiresIn?: number;
}

export async function startFakeHubspot(opts: { requestsPer10s?: number; token?: string; oauth?: FakeOAuth } = {}): Promise<FakeHubspot> {
  // Tokens the portal takes: the private-app one and every OAuth access token it issued.
  const accepted = new Set([opts.token ?? 'test-hubspot-token']);
  const refreshTokens = new Set<string>();
  let issued = 0;
  let codeUsed = false;
  const issue = () => {
    issued++;
    const access = `oauth-access-${issued}`;
    const refresh = `oauth-refresh-${issued}`;
    accepted.add(access);
    refreshTokens.add(refresh);
    return { token_type: 'bearer', access_token: access, refresh_token: refresh, expires_in: opts.oauth?.expiresIn ?? 1800 };
  };
  /** POST /oauth/v1/token (form-encoded) and GET /oauth/v1/access-tokens/:token, as HubSpot's v1 answers them. */
  const oauthRoute = (method: string, path: string, text: string): { status: number; json?: unknown } => {
    const o = opts.oauth;
    if (!o) return error(404, 'OBJECT_NOT_FOUND', 'fake: no OAuth app');
    if (path === '/oauth/v1/token' && method === 'POST') {
      const f = new URLSearchParams(text);
      if (f.get('client_id') !== o.clientId || f.get('client_secret') !== o.clientSecret) return { status: 400, json: { status: 'BAD_CLIENT_ID', message: 'missing or unknown client id' } };
      if (f.get('grant_type') === 'authorization_code') {
        if (f.get('code') !== o.code || codeUsed || !f.get('redirect_uri')) return { status: 400, json: { status: 'BAD_AUTH_CODE', message: 'missing or unknown auth code' } };
        codeUsed = true;
        return { status: 200, json: issue() };
      }
      if (f.get('grant_type') === 'refresh_token') {
        if (!refreshTokens.has(f.get('refresh_token') ?? '')) return { status: 400, json: { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token' } };
        return { status: 200, json: issue() };
      }
      return { status: 400, json: { status: 'BAD_GRANT_TYPE', message: 'unknown grant type' } };
    }
    const m = path.match(/^\/oauth\/v1\/access-tokens\/(.+)$/);
    if (m && method === 'GET') {
      if (!accepted.has(decodeURIComponent(m[1]))) return { status: 404, json: { status: 'error', message: 'token not found' } };
      return { status: 200, json: { token: decodeURIComponent(m[1]), user: 'admin@example.com', hub_domain: 'example.com', scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'], hub_id: o.hubId, app_id: 1160452, expires_in: o.expiresIn ?? 1800, user_id: 123, token_type: 'access' } };
    }
    return error(404, 'OBJECT_NOT_FOUND', `fake: no route ${method} ${path}`);
  };
  const objects = { contacts: new Map<string, Obj>(), companies: new Map<string, Obj>() };
  const associations: FakeHubspot['associations'] = [];
  const groups = new Set<string>();
  const properties = new Set<string>();
  const calls: FakeCall[] = [];
  const rejected = new Map<string, string>();
  const definitions = new Map<string, PropertyDefinition>();
  const window: number[] = [];
  const perWindow = opts.requestsPer10s ?? 100;
  let limitHits = 0;
  let nextId = 1000;
  let limited: { n: number; seconds: number; match?: string } = { n: 0, seconds: 0 };

  const add: FakeHubspot['add'] = (type, props, createdAt = new Date()) => {
    const id = String(nextId++);
    objects[type].set(id, { id, properties: { ...props, createdate: String(createdAt.getTime()) }, createdAt: createdAt.toISOString(), updatedAt: createdAt.toISOString() });
    return id;
  };
  const update = (type: 'contacts' | 'companies', id: string, props: Record<string, string>) => {
    const o = objects[type].get(id)!;
    Object.assign(o.properties, props);
    o.updatedAt = now();
  };

  const problems = (type: 'contacts' | 'companies', props: Record<string, string>) => {
    const out: { name: string; value: string; def: PropertyDefinition }[] = [];
    for (const [name, value] of Object.entries(props ?? {})) {
      const def = definitions.get(`${type}:${name}`);
      if (!def || def.type !== 'enumeration' || value === '') continue;
      const parts = def.fieldType === 'checkbox' ? value.split(';') : [value];
      if (parts.some((v) => !def.options.some((o) => o.value === v))) out.push({ name, value, def });
    }
    return out;
  };

  function route(method: string, path: string, body: any): { status: number; json?: unknown } {
    let m: RegExpMatchArray | null;
    if (limited.n > 0 && (!limited.match || path.includes(limited.match))) {
      limited.n--;
      return error(429, 'RATE_LIMITS', 'You have reached your secondly limit.');
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/batch\/read$/)) && method === 'POST') {
      const t = m[1] as 'contacts' | 'companies';
      const results = (body.inputs as { id: string }[]).map((i) => objects[t].get(i.id)).filter(Boolean).map((o) => view(o!, body.properties));
      return { status: 200, json: { status: 'COMPLETE', results, startedAt: now(), completedAt: now() } };
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/batch\/update$/)) && method === 'POST') {
      const t = m[1] as 'contacts' | 'companies';
      const inputs = body.inputs as { id: string; properties: Record<string, string> }[];
      if (inputs.length > 100) return error(400, 'VALIDATION_ERROR', 'Batch input limit is 100');
      for (const i of inputs) {
        const why = rejected.get(`${t}:${i.id}`);
        if (why) return error(400, 'VALIDATION_ERROR', why);
        if (!objects[t].has(i.id)) return error(404, 'OBJECT_NOT_FOUND', `Object ${i.id} not found`);
      }
      const bad = inputs.flatMap((i) => problems(t, i.properties));
      if (bad.length) return invalid(bad);
      for (const i of inputs) update(t, i.id, i.properties);
      return { status: 200, json: { status: 'COMPLETE', results: inputs.map((i) => view(objects[t].get(i.id)!, undefined)), startedAt: now(), completedAt: now() } };
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/search$/)) && method === 'POST') {
      const t = m[1] as 'contacts' | 'companies';
      const filters = (body.filterGroups?.[0]?.filters ?? []) as { propertyName: string; operator: string; value?: string }[];
      const all = [...objects[t].values()].filter((o) =>
        filters.every((f) => {
          const v = o.properties[f.propertyName];
          if (f.operator === 'IN') return v !== undefined && (f as { values?: string[] }).values!.some((x) => x.toLowerCase() === v.toLowerCase());
          if (f.operator === 'EQ') return v !== undefined && v.toLowerCase() === String(f.value).toLowerCase();
          if (f.operator === 'HAS_PROPERTY') return v !== undefined && v !== '';
          if (f.operator === 'NOT_HAS_PROPERTY') return v === undefined || v === '';
          if (f.operator === 'GTE') return Number(v) >= Number(f.value);
          throw new Error(`fake: operator ${f.operator}`);
        }),
      );
      const start = Number(body.after ?? 0);
      const limit = Math.min(Number(body.limit ?? 10), 200);
      const page = all.slice(start, start + limit);
      const next = start + limit < all.length ? { next: { after: String(start + limit) } } : undefined;
      return { status: 200, json: { total: all.length, results: page.map((o) => view(o, body.properties)), ...(next ? { paging: next } : {}) } };
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)$/)) && method === 'POST') {
      const t = m[1] as 'contacts' | 'companies';
      for (const [k, v] of Object.entries(body.properties ?? {})) if (v === '') return error(400, 'VALIDATION_ERROR', `Property ${k} is empty`);
      const bad = problems(t, body.properties);
      if (bad.length) return invalid(bad);
      const id = add(t, body.properties);
      return { status: 201, json: view(objects[t].get(id)!, undefined) };
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/(\d+)$/)) && method === 'PATCH') {
      const t = m[1] as 'contacts' | 'companies';
      const why = rejected.get(`${t}:${m[2]}`);
      if (why) return error(400, 'VALIDATION_ERROR', why);
      if (!objects[t].has(m[2])) return error(404, 'OBJECT_NOT_FOUND', `Object ${m[2]} not found`);
      const bad = problems(t, body.properties);
      if (bad.length) return invalid(bad);
      update(t, m[2], body.properties);
      return { status: 200, json: view(objects[t].get(m[2])!, undefined) };
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/batch\/create$/)) && method === 'POST') {
      const t = m[1] as 'contacts' | 'companies';
      const inputs = body.inputs as { properties: Record<string, string> }[];
      if (inputs.length > 100) return error(400, 'VALIDATION_ERROR', 'Batch input limit is 100');
      const bad = inputs.flatMap((i) => problems(t, i.properties));
      if (bad.length) return invalid(bad);
      const ids = inputs.map((i) => add(t, i.properties));
      return { status: 201, json: { status: 'COMPLETE', results: ids.map((id) => view(objects[t].get(id)!, undefined)), startedAt: now(), completedAt: now() } };
    }
    if ((m = path.match(/^\/crm\/v4\/associations\/(\w+)\/(\w+)\/batch\/associate\/default$/)) && method === 'POST') {
      const inputs = body.inputs as { from: { id: string }; to: { id: string } }[];
      for (const i of inputs) {
        const pair = { from: m[1], fromId: String(i.from.id), to: m[2], toId: String(i.to.id) };
        if (!associations.some((a) => a.from === pair.from && a.fromId === pair.fromId && a.to === pair.to && a.toId === pair.toId)) associations.push(pair);
      }
      return { status: 200, json: { status: 'COMPLETE', results: inputs.map((i) => ({ from: i.from, to: i.to, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 } })), startedAt: now(), completedAt: now() } };
    }
    if ((m = path.match(/^\/crm\/v3\/properties\/(contacts|companies)\/batch\/read$/)) && method === 'POST') {
      const t = m[1];
      const results = (body.inputs as { name: string }[]).map((i) => definitions.get(`${t}:${i.name}`)).filter(Boolean).map((d) => ({ ...d, groupName: 'contactinformation', description: '', createdAt: now(), updatedAt: now(), archived: false }));
      return { status: 200, json: { status: 'COMPLETE', results, startedAt: now(), completedAt: now() } };
    }
    if ((m = path.match(/^\/crm\/v3\/properties\/(contacts|companies)\/(\w+)$/)) && method === 'GET') {
      const d = definitions.get(`${m[1]}:${m[2]}`);
      if (!d) return error(404, 'OBJECT_NOT_FOUND', `Unable to find property ${m[2]}`);
      return { status: 200, json: { ...d, groupName: 'contactinformation', description: '', createdAt: now(), updatedAt: now(), archived: false } };
    }
    if ((m = path.match(/^\/crm\/v4\/objects\/(\w+)\/(\d+)\/associations\/default\/(\w+)\/(\d+)$/)) && method === 'PUT') {
      associations.push({ from: m[1], fromId: m[2], to: m[3], toId: m[4] });
      return { status: 200, json: { status: 'COMPLETE', results: [{ from: { id: m[2] }, to: { id: m[4] }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 } }], startedAt: now(), completedAt: now() } };
    }
    if ((m = path.match(/^\/crm\/v3\/properties\/(contacts|companies)\/groups$/)) && method === 'POST') {
      const key = `${m[1]}:${body.name}`;
      if (groups.has(key)) return error(409, 'OBJECT_ALREADY_EXISTS', `A property group named '${body.name}' already exists.`);
      groups.add(key);
      return { status: 201, json: { ...body, archived: false } };
    }
    if ((m = path.match(/^\/crm\/v3\/properties\/(contacts|companies)$/)) && method === 'POST') {
      const key = `${m[1]}:${body.name}`;
      if (properties.has(key)) return error(409, 'OBJECT_ALREADY_EXISTS', `Property named '${body.name}' already exists.`);
      properties.add(key);
      return { status: 201, json: { options: [], ...body, createdAt: now(), updatedAt: now(), archived: false } };
    }
    return error(404, 'OBJECT_NOT_FOUND', `fake: no route ${method} ${path}`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      let reply: { status: number; json?: unknown };
      const at = Date.now();
      while (window.length && window[0] <= at - 10_000) window.shift();
      let retryAfter = limited.seconds;
      if (url.pathname.startsWith('/oauth/v1/')) reply = oauthRoute(req.method ?? 'GET', url.pathname, text);
      else if (!accepted.has(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')) reply = error(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found.');
      else if (window.length >= perWindow) {
        limitHits++;
        retryAfter = Math.ceil((window[0] + 10_000 - at) / 1000);
        reply = error(429, 'RATE_LIMITS', 'You have reached your ten_secondly_rolling limit.');
      } else {
        window.push(at);
        try {
          reply = route(req.method ?? 'GET', url.pathname, body);
        } catch (err) {
          // A request the fake cannot read is answered, never left hanging.
          reply = error(400, 'VALIDATION_ERROR', `fake: ${(err as Error).message}`);
        }
      }
      calls.push({ method: req.method ?? 'GET', path: url.pathname, body, at: Date.now(), status: reply.status });
      const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8', 'x-hubspot-ratelimit-max': '100', 'x-hubspot-ratelimit-remaining': '99', 'x-hubspot-ratelimit-interval-milliseconds': '10000' };
      if (reply.status === 429) {
        headers['retry-after'] = String(retryAfter);
        headers['x-hubspot-ratelimit-remaining'] = '0';
        // Remaining 0 with a 429 means: wait out Retry-After (the interval header says the window).
        headers['x-hubspot-ratelimit-interval-milliseconds'] = String(retryAfter * 1000);
      } else {
        headers['x-hubspot-ratelimit-remaining'] = String(Math.max(0, perWindow - window.length));
      }
      res.writeHead(reply.status, headers).end(reply.json === undefined ? '' : JSON.stringify(reply.json));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    objects,
    associations,
    groups,
    properties,
    definitions,
    get limitHits() {
      return limitHits;
    },
    define: (type, def) => void definitions.set(`${type}:${def.name}`, { options: [], ...def }),
    add,
    rateLimitNext: (n, seconds, match) => void (limited = { n, seconds, match }),
    rejectUpdates: (type, id, message) => void rejected.set(`${type}:${id}`, message),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
