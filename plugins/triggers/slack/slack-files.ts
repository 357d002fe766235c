// Files in and out of Slack. In: a shared CSV is downloaded with the bot token from Slack's
// file host only (files.slack.com, or the host of SLACK_API_URL for a proxy or a test server),
// never following a redirect, and never past `maxBytes`. Out: the files.uploadV2 steps
// (files.getUploadURLExternal, the upload, files.completeUploadExternal; files.upload is
// retired), streamed from a temporary file.
import { createReadStream, createWriteStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/** Where a file goes: the channel, and the thread when answering in one. */
export interface UploadTarget {
  channelId: string;
  filename: string;
  title?: string;
  initialComment?: string;
  threadTs?: string;
}

/**
 * files.uploadV2's three steps, with the bytes streamed: the SDK's filesUploadV2 reads a file
 * path whole into memory (readFileSync), so a large CSV would sit in the heap twice. Here the
 * length goes to files.getUploadURLExternal, the file is piped to the upload URL from disk (only
 * to Slack's file host, like downloads), then files.completeUploadExternal shares it.
 */
export async function uploadFile(client: WebClient, apiUrl: string, to: UploadTarget, source: { path: string } | { content: Buffer }): Promise<{ fileId: string; bytes: number }> {
  const bytes = 'path' in source ? (await stat(source.path)).size : source.content.length;
  const got = await client.files.getUploadURLExternal({ filename: to.filename, length: bytes });
  if (!got.upload_url || !got.file_id) throw new Error('Slack gave no upload URL for the file');
  const url = new URL(got.upload_url);
  const apiHost = new URL(apiUrl);
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && url.host === apiHost.host && apiHost.protocol === 'http:');
  if (!allowedFileHosts(apiUrl).has(url.host) || !secure) throw new SlackFileError(`files are only uploaded to Slack (files.slack.com), not to ${url.host}`, 'host');
  await new Promise<void>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) }, timeout: 300_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new SlackFileError(`Slack answered ${res.statusCode} to the upload`, 'http'))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('the upload to Slack timed out')));
    req.on('error', reject);
    if ('path' in source) pipeline(createReadStream(source.path), req).catch(reject);
    else req.end(source.content);
  });
  await client.files.completeUploadExternal({
    files: [{ id: got.file_id, title: to.title ?? to.filename }],
    channel_id: to.channelId,
    ...(to.initialComment ? { initial_comment: to.initialComment } : {}),
    ...(to.threadTs ? { thread_ts: to.threadTs } : {}),
  } as Parameters<WebClient['files']['completeUploadExternal']>[0]);
  return { fileId: got.file_id, bytes };
}

/**
 * Writes a file through `write` into a temporary file (the CSV writer's stream goes to disk,
 * never whole into memory), uploads it from there (uploadFile), then removes it.
 */
export async function uploadStreamedFile(client: WebClient, apiUrl: string, to: UploadTarget, write: (out: Writable) => Promise<unknown>): Promise<{ bytes: number }> {
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
    return await uploadFile(client, apiUrl, to, { path: file });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
