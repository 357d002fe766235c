// A local HTTP server for tests that speaks a real API's wire format. Handlers are plain
// functions per "METHOD /path"; every request is recorded so tests can assert what was sent.
import http from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  json?: unknown;
  /** Date.now() when the request (with its body) had arrived. */
  at: number;
  /** Date.now() when the client closed the connection before the answer was written (it gave up, or died). */
  clientClosedAt?: number;
  /** Date.now() when the answer was written (not when it was received: the client may be gone). */
  answeredAt?: number;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
  /**
   * Called as the answer is written, after its delay, whether or not the client still listens;
   * never when the server closed first. A paid fake bills here: a provider bills what it answered.
   */
  onAnswer?: () => void;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Replace or add a route: "POST /enrich-person". */
  on(route: string, handler: FakeHandler): void;
  close(): Promise<void>;
}

export async function startFakeServer(routes: Record<string, FakeHandler> = {}): Promise<FakeServer> {
  const table = new Map(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  // Replies still waiting out their delayMs; close() drops them so no timer outlives the server.
  const delays = new Set<NodeJS.Timeout>();
  let closing = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const at = Date.now();
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, json, at };
      requests.push(rec);
      res.once('close', () => {
        if (!res.writableFinished && !closing) rec.clientClosedAt = Date.now();
      });
      const handler = table.get(`${rec.method} ${rec.path}`) ?? table.get(`* ${rec.path}`) ?? table.get('*');
      if (!handler) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no such route in fake' }));
        return;
      }
      try {
        const reply = await handler(rec);
        if (reply.delayMs) {
          await new Promise<void>((r) => {
            const t = setTimeout(() => {
              delays.delete(t);
              r();
            }, reply.delayMs);
            delays.add(t);
          });
        }
        const headers = { ...(reply.json !== undefined ? { 'content-type': 'application/json' } : {}), ...reply.headers };
        rec.answeredAt = Date.now();
        reply.onAnswer?.();
        res.writeHead(reply.status ?? 200, headers).end(reply.json !== undefined ? JSON.stringify(reply.json) : (reply.body ?? ''));
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    on: (route, handler) => void table.set(route, handler),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const t of delays) clearTimeout(t);
        delays.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
