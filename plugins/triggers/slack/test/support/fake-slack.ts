// A local Slack Web API for tests, speaking the documented wire format to the real
// @slack/web-api: form-encoded (or JSON) method calls under /api/ (chat.*, views.*, files.info,
// the files.uploadV2 steps, oauth.v2.access, apps.connections.open for Socket Mode), the upload
// URL, url_private downloads, and response_url posts. Every call is recorded with its arrival
// time, and tests wait on calls (an event), not on sleeps.
import http from 'node:http';
import { EventEmitter } from 'node:events';

export interface SlackCall {
  method: string;
  token?: string;
  args: Record<string, unknown>;
  /** Raw body (uploads). */
  raw: Buffer;
  headers?: http.IncomingHttpHeaders;
  /** The URL path (response_url posts). */
  path?: string;
  at: number;
}

/** A file Slack holds, as files.info shows it. */
export interface FakeFile {
  id: string;
  name: string;
  filetype: string;
  size: number;
  user?: string;
  url_private: string;
  url_private_download: string;
  ims?: string[];
  shares?: { public?: Record<string, { ts: string; thread_ts?: string }[]>; private?: Record<string, { ts: string; thread_ts?: string }[]> };
}

export interface FakeSlack {
  url: string;
  apiUrl: string;
  calls: SlackCall[];
  /** Uploaded file bytes by file id (the upload URL's body). */
  uploads: Map<string, Buffer>;
  /** Makes the next `count` calls of `method` answer 429 with Retry-After. */
  rateLimit(method: string, retryAfterSeconds: number, count?: number): void;
  /** A file Slack would hold, served at url_private for the given token only, and by files.info. */
  addFile(opts: { name: string; content: Buffer | string; token: string; filetype?: string; user?: string; ims?: string[]; shares?: FakeFile['shares']; size?: number; downloadUrl?: string }): FakeFile;
  /** chat.postMessage to this channel answers `{ ok: false, error }` (e.g. not_in_channel). */
  failPosts(channel: string, error: string): void;
  /**
   * oauth.v2.access with this code (and the app's client id and secret) installs the app in `team`,
   * or org-wide in `enterprise`; with `refreshToken`, token rotation is on (the token lives `expiresIn` s).
   */
  grantInstall(code: string, grant: Grant): void;
  /** Tokens revoked with auth.revoke. */
  revoked: string[];
  /** apps.connections.open with an app token answers this WebSocket URL. */
  socketUrl?: string;
  /** A user group of `team` (S...) and its members, as usergroups.users.list answers. */
  setUserGroup(team: string, id: string, users: string[]): void;
  /** users.info answers is_admin: true for this user of `team` (anyone else is a plain member). */
  setAdmin(team: string, user: string): void;
  /** Resolves with the first call (past or future) that matches. */
  waitFor(match: (c: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  of(method: string): SlackCall[];
  close(): Promise<void>;
}

export interface Grant {
  team: string;
  token: string;
  clientId: string;
  clientSecret: string;
  enterprise?: string;
  refreshToken?: string;
  expiresIn?: number;
}

export async function startFakeSlack(opts: { teams: Record<string, string>; appTokens?: string[] }): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const uploads = new Map<string, Buffer>();
  const files = new Map<string, { content: Buffer; token: string }>();
  const fileInfo = new Map<string, FakeFile>();
  const failing = new Map<string, string>();
  const grants = new Map<string, Grant>();
  /** Live refresh tokens (a refresh token is good once: Slack rotates it with the access token). */
  const refreshable = new Map<string, Grant>();
  const enterprises = new Map<string, string>();
  const revoked: string[] = [];
  const limits = new Map<string, { retryAfter: number; count: number }>();
  const groups = new Map<string, string[]>();
  const admins = new Set<string>();
  const events = new EventEmitter();
  events.setMaxListeners(100);
  let seq = 1000;
  let base = '';

  const record = (c: SlackCall) => {
    calls.push(c);
    events.emit('call', c);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      const auth = req.headers.authorization?.replace(/^Bearer /, '');
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

      if (req.method === 'GET' && url.pathname.startsWith('/files-pri/')) {
        const f = files.get(url.pathname);
        record({ method: 'file.download', token: auth, args: { path: url.pathname }, raw, at: Date.now() });
        if (!f || f.token !== auth) return void res.writeHead(404).end('not found');
        return void res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(f.content.length) }).end(f.content);
      }
      if (url.pathname.startsWith('/upload/')) {
        const id = url.pathname.slice('/upload/'.length);
        uploads.set(id, uploadedBytes(raw, req.headers['content-type'] ?? ''));
        record({ method: 'upload', token: auth, args: { fileId: id }, raw, headers: req.headers, at: Date.now() });
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('OK - 200');
      }
      if (url.pathname.startsWith('/response/')) {
        record({ method: 'response_url', path: url.pathname, args: JSON.parse(raw.toString('utf8') || '{}'), raw, headers: req.headers, at: Date.now() });
        return void json(200, { ok: true });
      }
      if (!url.pathname.startsWith('/api/')) return void res.writeHead(404).end();
      const method = url.pathname.slice('/api/'.length);
      const args = parseArgs(raw, req.headers['content-type'] ?? '');
      const token = auth ?? (args.token as string | undefined);
      const call = { method, token, args, raw, headers: req.headers, at: Date.now() };
      const limit = limits.get(method);
      if (limit && limit.count > 0) {
        limit.count--;
        record({ ...call, method: `${method}:429` });
        return void json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfter) });
      }
      record(call);
      if (method === 'oauth.v2.access') {
        const basic = req.headers.authorization?.startsWith('Basic ') ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString('utf8') : undefined;
        const [clientId, clientSecret] = basic ? basic.split(':') : [args.client_id, args.client_secret];
        if (args.grant_type === 'refresh_token') {
          const old = refreshable.get(String(args.refresh_token));
          if (!old || old.clientId !== clientId || old.clientSecret !== clientSecret) return void json(200, { ok: false, error: 'invalid_refresh_token' });
          refreshable.delete(String(args.refresh_token));
          const n = fake.of('oauth.v2.access').filter((c) => c.args.grant_type === 'refresh_token').length;
          // A refreshed token lives the documented 12 hours, whatever the install's first one did.
          const next = { ...old, token: `${old.token.replace(/-r\d+$/, '')}-r${n}`, refreshToken: `${old.refreshToken!.replace(/-r\d+$/, '')}-r${n}`, expiresIn: 43_200 };
          refreshable.set(next.refreshToken, next);
          opts.teams[next.token] = next.enterprise ?? next.team;
          if (next.enterprise) enterprises.set(next.token, next.enterprise);
          return void json(200, { ok: true, app_id: 'A1', token_type: 'bot', access_token: next.token, refresh_token: next.refreshToken, expires_in: next.expiresIn ?? 43_200, scope: 'commands,chat:write', bot_user_id: `UBOT${next.team}`, team: next.enterprise ? null : { id: next.team }, enterprise: next.enterprise ? { id: next.enterprise } : null, is_enterprise_install: !!next.enterprise });
        }
        const grant = grants.get(String(args.code));
        if (!grant || grant.clientId !== clientId || grant.clientSecret !== clientSecret) return void json(200, { ok: false, error: 'invalid_code' });
        grants.delete(String(args.code));
        opts.teams[grant.token] = grant.enterprise ?? grant.team;
        if (grant.enterprise) enterprises.set(grant.token, grant.enterprise);
        if (grant.refreshToken) refreshable.set(grant.refreshToken, grant);
        return void json(200, {
          ok: true,
          app_id: 'A1',
          authed_user: { id: 'UINSTALLER' },
          scope: 'commands,chat:write,files:read,files:write,im:history',
          token_type: 'bot',
          access_token: grant.token,
          bot_user_id: `UBOT${grant.team}`,
          ...(grant.refreshToken ? { refresh_token: grant.refreshToken, expires_in: grant.expiresIn ?? 43_200 } : {}),
          team: grant.enterprise ? null : { id: grant.team, name: `Team ${grant.team}` },
          enterprise: grant.enterprise ? { id: grant.enterprise, name: `Org ${grant.enterprise}` } : null,
          is_enterprise_install: !!grant.enterprise,
        });
      }
      if (method === 'apps.connections.open') {
        if (!token || !opts.appTokens?.includes(token)) return void json(200, { ok: false, error: 'invalid_auth' });
        if (!fake.socketUrl) return void json(200, { ok: false, error: 'no_socket' });
        return void json(200, { ok: true, url: fake.socketUrl });
      }
      const team = token ? opts.teams[token] : undefined;
      if (!team) return void json(200, { ok: false, error: 'invalid_auth' });
      const ts = () => `${Math.floor(Date.now() / 1000)}.${String(seq++).padStart(6, '0')}`;
      switch (method) {
        case 'auth.test': {
          const enterprise = enterprises.get(token!);
          return void json(200, { ok: true, url: `https://${team}.slack.example/`, team_id: enterprise ? undefined : team, user_id: `UBOT${team}`, bot_id: `BBOT${team}`, ...(enterprise ? { enterprise_id: enterprise, is_enterprise_install: true } : {}) });
        }
        case 'auth.revoke':
          revoked.push(token!);
          delete opts.teams[token!];
          return void json(200, { ok: true, revoked: true });
        case 'chat.postMessage': {
          const error = failing.get(String(args.channel));
          if (error) return void json(200, { ok: false, error });
          return void json(200, { ok: true, channel: args.channel, ts: ts(), message: { text: args.text } });
        }
        case 'files.info': {
          const f = fileInfo.get(String(args.file));
          return void json(200, f ? { ok: true, file: f } : { ok: false, error: 'file_not_found' });
        }
        // A channel whose posts fail (failPosts) refuses ephemerals and updates too, as Slack does for a bot that is not a member.
        case 'chat.postEphemeral':
        case 'chat.update': {
          const error = failing.get(String(args.channel));
          if (error) return void json(200, { ok: false, error });
          return void json(200, method === 'chat.update' ? { ok: true, channel: args.channel, ts: args.ts } : { ok: true, message_ts: ts() });
        }
        case 'views.open':
        case 'views.publish':
          return void json(200, { ok: true, view: { id: `V${seq++}` } });
        // A group of another team is unknown, as in Slack (no_such_subteam).
        case 'usergroups.users.list': {
          const users = groups.get(`${team}:${String(args.usergroup)}`);
          return void json(200, users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' });
        }
        case 'users.info': {
          const id = String(args.user);
          const admin = admins.has(`${team}:${id}`);
          return void json(200, { ok: true, user: { id, team_id: team, name: id.toLowerCase(), deleted: false, is_admin: admin, is_owner: false, is_primary_owner: false, is_bot: false } });
        }
        case 'conversations.open':
          return void json(200, { ok: true, channel: { id: `D${String(args.users)}` } });
        case 'files.getUploadURLExternal': {
          const id = `F${seq++}`;
          return void json(200, { ok: true, upload_url: `${base}/upload/${id}`, file_id: id });
        }
        case 'files.completeUploadExternal': {
          const list = typeof args.files === 'string' ? (JSON.parse(args.files) as { id: string; title?: string }[]) : ((args.files as { id: string }[]) ?? []);
          return void json(200, { ok: true, files: list.map((f) => ({ id: f.id, title: (f as { title?: string }).title })) });
        }
        default:
          return void json(200, { ok: false, error: 'unknown_method' });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const fake: FakeSlack = {
    url: base,
    apiUrl: `${base}/api/`,
    calls,
    uploads,
    rateLimit: (method, retryAfter, count = 1) => void limits.set(method, { retryAfter, count }),
    addFile({ name, content, token, filetype = 'csv', user, ims, shares, size, downloadUrl }) {
      const id = `F${seq++}`;
      const path = `/files-pri/${id}/${encodeURIComponent(name)}`;
      const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
      files.set(path, { content: buf, token });
      const url = downloadUrl ?? `${base}${path}`;
      const file: FakeFile = { id, name, filetype, size: size ?? buf.length, user, url_private: url, url_private_download: url, ims, shares };
      fileInfo.set(id, file);
      return file;
    },
    failPosts: (channel, error) => void failing.set(channel, error),
    setUserGroup: (team, id, users) => void groups.set(`${team}:${id}`, users),
    setAdmin: (team, user) => void admins.add(`${team}:${user}`),
    grantInstall: (code, grant) => void grants.set(code, grant),
    revoked,
    waitFor(match, timeoutMs = 60_000) {
      const found = calls.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          events.off('call', on);
          reject(new Error(`no matching Slack call within ${timeoutMs} ms; calls: ${calls.map((c) => c.method).join(', ')}`));
        }, timeoutMs);
        const on = (c: SlackCall) => {
          if (!match(c)) return;
          clearTimeout(t);
          events.off('call', on);
          resolve(c);
        };
        events.on('call', on);
      });
    },
    of: (method) => calls.filter((c) => c.method === method),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return fake;
}

/** The SDK posts the file as multipart form data (one part); a raw body is taken as is. */
function uploadedBytes(raw: Buffer, contentType: string): Buffer {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!contentType.startsWith('multipart/form-data') || !m) return raw;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const start = raw.indexOf(boundary);
  const headersEnd = raw.indexOf('\r\n\r\n', start);
  const end = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headersEnd);
  return raw.subarray(headersEnd + 4, end);
}

/** The SDK sends form fields; objects (blocks, view, files) travel as JSON text inside them. */
function parseArgs(raw: Buffer, contentType: string): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (contentType.includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    out[k] = (k === 'blocks' || k === 'view' || k === 'attachments') && /^[[{]/.test(v) ? JSON.parse(v) : v;
  }
  return out;
}
