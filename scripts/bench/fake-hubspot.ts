// The HubSpot CRM API as the write-back uses it, for the HubSpot bench (part i): v3 object batch
// read, update and create, single update, search (IN and EQ filters), property definitions (none
// defined), and v4 default associations. Like HubSpot it allows 100 requests per rolling 10 s
// (developers.hubspot.com, "API usage guidelines": private apps, 100 per 10 s on Free/Starter),
// answering 429 with Retry-After beyond, and sends the X-HubSpot-RateLimit-* headers the client
// paces on. Every request is recorded with its answer's status: the count is what HubSpot would
// count. A smaller sibling of plugins/triggers/hubspot/test/support/fake-hubspot.ts, which the
// build leaves out (scripts/ compile without the plugins' tests).
import http from 'node:http';

type ObjectType = 'contacts' | 'companies';

export interface HubspotCall {
  method: string;
  /** The path with ids replaced by {id}. */
  route: string;
  status: number;
}

export interface BenchHubspot {
  url: string;
  calls: HubspotCall[];
  objects: Record<ObjectType, Map<string, Record<string, string>>>;
  associations: number;
  add(type: ObjectType, properties: Record<string, string>): string;
  close(): Promise<void>;
}

const PER_WINDOW = 100;
const WINDOW_MS = 10_000;

export async function startBenchHubspot(): Promise<BenchHubspot> {
  const objects: BenchHubspot['objects'] = { contacts: new Map(), companies: new Map() };
  const pairs = new Set<string>();
  const calls: HubspotCall[] = [];
  const window: number[] = [];
  let nextId = 1000;
  const add = (type: ObjectType, props: Record<string, string>) => {
    const id = String(nextId++);
    objects[type].set(id, { ...props, createdate: String(Date.now()) });
    return id;
  };
  const view = (type: ObjectType, id: string, props?: string[]) => {
    const o = objects[type].get(id)!;
    const properties: Record<string, string | null> = { hs_object_id: id, createdate: o.createdate };
    for (const p of props ?? Object.keys(o)) properties[p] = o[p] ?? null;
    const at = new Date(Number(o.createdate)).toISOString();
    return { id, properties, createdAt: at, updatedAt: new Date().toISOString(), archived: false };
  };
  const complete = (results: unknown[]) => ({ status: 'COMPLETE', results, startedAt: new Date().toISOString(), completedAt: new Date().toISOString() });
  const notFound = (what: string) => ({ status: 404, json: { status: 'error', category: 'OBJECT_NOT_FOUND', message: what } });

  function route(method: string, path: string, body: any): { status: number; json: unknown } {
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/batch\/(read|update|create)$/)) && method === 'POST') {
      const t = m[1] as ObjectType;
      const inputs = body.inputs as { id?: string; properties?: Record<string, string> }[];
      if (m[2] === 'read') return { status: 200, json: complete(inputs.filter((i) => objects[t].has(i.id!)).map((i) => view(t, i.id!, body.properties))) };
      if (m[2] === 'create') return { status: 201, json: complete(inputs.map((i) => view(t, add(t, i.properties ?? {})))) };
      const missing = inputs.find((i) => !objects[t].has(i.id!));
      if (missing) return notFound(`Object ${missing.id} not found`);
      for (const i of inputs) Object.assign(objects[t].get(i.id!)!, i.properties);
      return { status: 200, json: complete(inputs.map((i) => view(t, i.id!))) };
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/(\d+)$/)) && method === 'PATCH') {
      const t = m[1] as ObjectType;
      if (!objects[t].has(m[2])) return notFound(`Object ${m[2]} not found`);
      Object.assign(objects[t].get(m[2])!, body.properties);
      return { status: 200, json: view(t, m[2]) };
    }
    if ((m = path.match(/^\/crm\/v3\/objects\/(contacts|companies)\/search$/)) && method === 'POST') {
      const t = m[1] as ObjectType;
      const filters = (body.filterGroups?.[0]?.filters ?? []) as { propertyName: string; operator: string; value?: string; values?: string[] }[];
      const wanted = (f: (typeof filters)[number]) => (f.operator === 'IN' ? f.values! : [String(f.value)]).map((v) => v.toLowerCase());
      const found = [...objects[t].entries()].filter(([, o]) => filters.every((f) => o[f.propertyName] !== undefined && wanted(f).includes(o[f.propertyName].toLowerCase())));
      const limit = Math.min(Number(body.limit ?? 10), 200);
      return { status: 200, json: { total: found.length, results: found.slice(0, limit).map(([id]) => view(t, id, body.properties)) } };
    }
    if (path.match(/^\/crm\/v3\/properties\/(contacts|companies)\/batch\/read$/) && method === 'POST') return { status: 200, json: complete([]) };
    if ((m = path.match(/^\/crm\/v4\/associations\/(\w+)\/(\w+)\/batch\/associate\/default$/)) && method === 'POST') {
      const inputs = body.inputs as { from: { id: string }; to: { id: string } }[];
      for (const i of inputs) pairs.add(`${m[1]}:${i.from.id}:${m[2]}:${i.to.id}`);
      return { status: 200, json: complete(inputs.map((i) => ({ from: i.from, to: i.to, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 } }))) };
    }
    return notFound(`fake: no route ${method} ${path}`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const text = Buffer.concat(chunks).toString('utf8');
      const at = Date.now();
      while (window.length && window[0] <= at - WINDOW_MS) window.shift();
      const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8', 'x-hubspot-ratelimit-max': String(PER_WINDOW), 'x-hubspot-ratelimit-interval-milliseconds': String(WINDOW_MS) };
      let reply: { status: number; json: unknown };
      if (window.length >= PER_WINDOW) {
        const retryAfter = Math.ceil((window[0] + WINDOW_MS - at) / 1000);
        reply = { status: 429, json: { status: 'error', category: 'RATE_LIMITS', message: 'You have reached your ten_secondly_rolling limit.' } };
        // Remaining 0 with a 429: wait out Retry-After (the interval header then says that wait).
        Object.assign(headers, { 'retry-after': String(retryAfter), 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': String(retryAfter * 1000) });
      } else {
        window.push(at);
        try {
          reply = route(req.method ?? 'GET', path, text ? JSON.parse(text) : {});
        } catch (err) {
          reply = { status: 400, json: { status: 'error', category: 'VALIDATION_ERROR', message: `fake: ${(err as Error).message}` } };
        }
        headers['x-hubspot-ratelimit-remaining'] = String(Math.max(0, PER_WINDOW - window.length));
      }
      calls.push({ method: req.method ?? 'GET', route: path.replace(/\/\d+/g, '/{id}'), status: reply.status });
      res.writeHead(reply.status, headers).end(JSON.stringify(reply.json));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    objects,
    get associations() {
      return pairs.size;
    },
    add,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
