// A local stand-in for the Slack Web API, speaking its wire format to the real @slack/web-api
// WebClient (slackApiUrl pointed here): chat.postMessage, and the three steps of filesUploadV2
// (files.getUploadURLExternal, the upload URL, files.completeUploadExternal). Uploaded bytes are
// kept raw so a test can check the PNG itself.
import http from 'node:http';

export interface SlackCall {
  method: string;
  /** Form or JSON arguments, with JSON-encoded ones (blocks, files) decoded. */
  args: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}
export interface SlackUpload {
  fileId: string;
  bytes: Buffer;
}

export interface FakeSlack {
  apiUrl: string;
  calls: SlackCall[];
  uploads: SlackUpload[];
  messages(): SlackCall[];
  close(): Promise<void>;
}

function decodeArgs(req: http.IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  const raw: Record<string, unknown> = type.includes('json') ? (JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  for (const k of ['blocks', 'files', 'attachments']) {
    if (typeof raw[k] === 'string') {
      try {
        raw[k] = JSON.parse(raw[k] as string);
      } catch {
        /* left as text */
      }
    }
  }
  return raw;
}

/** The upload URL takes the file raw or as multipart/form-data (the SDK sends the latter). */
function fileBytes(contentType: string | undefined, body: Buffer): Buffer {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!contentType?.startsWith('multipart/') || !m) return body;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const start = body.indexOf(boundary);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headersEnd);
  return body.subarray(headersEnd + 4, end);
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const uploads: SlackUpload[] = [];
  let nextFile = 1;
  let nextTs = 1;
  let base = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      const reply = (json: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (url.pathname.startsWith('/upload/')) {
        uploads.push({ fileId: url.pathname.slice('/upload/'.length), bytes: fileBytes(req.headers['content-type'], body) });
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${body.length}`);
        return;
      }
      if (!req.headers.authorization?.startsWith('Bearer ')) return reply({ ok: false, error: 'not_authed' });
      const method = url.pathname.replace(/^\/api\//, '');
      const args = decodeArgs(req, body);
      calls.push({ method, args, headers: req.headers });
      switch (method) {
        case 'chat.postMessage': {
          if (!args.channel || (!args.text && !args.blocks)) return reply({ ok: false, error: args.channel ? 'no_text' : 'channel_not_found' });
          const channel = String(args.channel).startsWith('#') ? 'C0DIGEST01' : String(args.channel);
          return reply({ ok: true, channel, ts: `1700000000.${String(nextTs++).padStart(6, '0')}`, message: { text: args.text } });
        }
        case 'files.getUploadURLExternal': {
          if (!args.filename || !Number(args.length)) return reply({ ok: false, error: 'invalid_arguments' });
          const id = `F${String(nextFile++).padStart(8, '0')}`;
          return reply({ ok: true, upload_url: `${base}/upload/${id}`, file_id: id });
        }
        case 'files.completeUploadExternal': {
          const files = args.files as { id: string; title?: string }[];
          return reply({ ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) });
        }
        default:
          return reply({ ok: false, error: 'unknown_method' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    apiUrl: `${base}/api/`,
    calls,
    uploads,
    messages: () => calls.filter((c) => c.method === 'chat.postMessage'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
