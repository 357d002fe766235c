// Files in and out of Slack. In: a shared CSV is downloaded with the bot token from Slack's
// file host only (files.slack.com, or the host of SLACK_API_URL for a proxy or a test server),
// never following a redirect, and never past `maxBytes`. Out: files.uploadV2 (the SDK runs
// files.getUploadURLExternal, the upload, then files.completeUploadExternal; files.upload is retired).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WebClient } from '@slack/web-api';

export class SlackFileError extends Error {
  constructor(
    message: string,
    readonly reason: 'host' | 'size' | 'http',
  ) {
    super(message);
  }
}

export function allowedFileHosts(apiUrl: string): Set<string> {
  return new Set(['files.slack.com', new URL(apiUrl).host]);
}

/** Downloads url_private with the bot token; refuses other hosts, redirects and anything over maxBytes. */
export async function downloadSlackFile(url: string, opts: { token: string; apiUrl: string; maxBytes: number; signal?: AbortSignal }): Promise<Buffer> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SlackFileError('the file link is not a URL', 'host');
  }
  const apiHost = new URL(opts.apiUrl).host;
  const secure = u.protocol === 'https:' || (u.protocol === 'http:' && u.host === apiHost && new URL(opts.apiUrl).protocol === 'http:');
  if (!allowedFileHosts(opts.apiUrl).has(u.host) || !secure || u.username || u.password) {
    throw new SlackFileError(`files are only downloaded from Slack (files.slack.com), not from ${u.host}`, 'host');
  }
  const res = await fetch(u, { headers: { authorization: `Bearer ${opts.token}` }, redirect: 'manual', signal: opts.signal ?? AbortSignal.timeout(60_000) });
  if (res.status !== 200 || !res.body) throw new SlackFileError(`Slack answered ${res.status} for the file`, 'http');
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > opts.maxBytes) throw new SlackFileError(`the file is ${declared} bytes; the limit is ${opts.maxBytes}`, 'size');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > opts.maxBytes) {
      throw new SlackFileError(`the file is over the ${opts.maxBytes}-byte limit`, 'size');
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Writes a file through `write` into a temporary file (streamed, never whole in our memory),
 * uploads it with files.uploadV2, then removes it.
 */
export async function uploadStreamedFile(
  client: WebClient,
  opts: { channelId: string; filename: string; title?: string; initialComment?: string; threadTs?: string },
  write: (out: NodeJS.WritableStream & import('node:stream').Writable) => Promise<unknown>,
): Promise<{ bytes: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'enrichbot-slack-'));
  const file = path.join(dir, 'upload.csv');
  try {
    const out = createWriteStream(file);
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
    });
    await write(out);
    if (!out.writableEnded) out.end();
    await closed;
    const { size } = await stat(file);
    await client.filesUploadV2({
      channel_id: opts.channelId,
      file,
      filename: opts.filename,
      title: opts.title ?? opts.filename,
      ...(opts.initialComment ? { initial_comment: opts.initialComment } : {}),
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
    } as Parameters<WebClient['filesUploadV2']>[0]);
    return { bytes: size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
