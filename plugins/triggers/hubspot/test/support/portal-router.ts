// Several fake HubSpot portals behind one API host, told apart the way HubSpot does: by the
// bearer token (a token belongs to one portal). A token no portal has gets HubSpot's 401.
import http from 'node:http';

/** `oauth`: where OAuth calls (/oauth/v1/..., no bearer token) go; `byToken` may grow as tokens are issued. */
export async function startPortalRouter(byToken: Record<string, string>, oauth?: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const target = req.url?.startsWith('/oauth/v1/') ? oauth : (byToken[token] ?? (token.startsWith('oauth-access-') ? oauth : undefined));
      if (!target) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' }));
        return;
      }
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = { authorization: req.headers.authorization!, 'content-type': req.headers['content-type'] ?? 'application/json' };
      fetch(`${target}${req.url}`, { method: req.method, headers, body: body.length ? body : undefined })
        .then(async (r) => {
          const out: Record<string, string> = {};
          r.headers.forEach((v, k) => (out[k] = v));
          delete out['content-length'];
          delete out['transfer-encoding'];
          res.writeHead(r.status, out).end(Buffer.from(await r.arrayBuffer()));
        })
        .catch((err: Error) => res.writeHead(502).end(err.message));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
