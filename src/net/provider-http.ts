// One way for every provider to call its API, so status codes mean the same everywhere:
// 2xx -> body checked against the plugin's zod schema; 404 or a documented "not found" body ->
// no match; 401/403 -> the key is wrong (not retried); 429 and 5xx -> the engine's retry policy;
// other 4xx -> permanent. Raw bodies travel with every outcome for the ledger.
// Redirects are never followed: a provider's base URL answering 3xx would otherwise hand its
// API key headers (X-API-Key, X-KEY, token...) and our trust in the answer to another origin.
// Bodies are read as a stream and given up past a byte cap, so a huge answer cannot fill memory.
import diagnostics from 'node:diagnostics_channel';
import type { z } from 'zod';
import { ProviderError, parseRetryAfter } from '../engine/provider-error.js';

export interface ProviderRequest<S extends z.ZodType> {
  method?: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  json?: unknown;
  /** Schema of a successful body. */
  schema: S;
  /** Documented "nothing found" answers other than 404 (e.g. Prospeo's 400 NO_MATCH). */
  isNoMatch?: (status: number, body: unknown) => boolean;
  /** Accept this non-2xx body as a normal answer instead. */
  baseUrl?: string;
}

export type ProviderResponse<T> =
  | { kind: 'ok'; status: number; body: T; raw: unknown; headers: Headers }
  | { kind: 'no_match'; status: number; raw: unknown; headers: Headers };

export interface ProviderHttp {
  request<S extends z.ZodType>(req: ProviderRequest<S>): Promise<ProviderResponse<z.infer<S>>>;
  /**
   * `fetch` for a plugin whose SDK sends its own requests (Anthropic's): each waits for the
   * engine's rate-limit grant first, as request() does. Everything else stays the SDK's.
   */
  pacedFetch: typeof fetch;
}

export interface ProviderHttpOptions {
  providerId: string;
  baseUrl: string;
  signal: AbortSignal;
  /** The env var to name when the key is rejected. */
  keyEnvName?: string;
  /** Largest answer read, in bytes (default 10 MiB). */
  maxBodyBytes?: number;
  /**
   * Awaited right before each request leaves (the engine's rate limiter): a grant is spent on
   * the request itself, not on whatever the plugin does before sending it, so the time between
   * the grant and the provider's count is as short as it can be. Every request of a lookup that
   * makes several takes its own grant, as the provider counts each.
   */
  beforeSend?: () => Promise<SendGrant | void>;
}

/** What beforeSend granted: told when the request's headers are written to the socket. */
export interface SendGrant {
  sent(): void;
}

// When a request really leaves: fetch (Node's undici) publishes each request's headers on this
// channel as it writes them to the socket, after any connection set-up, which can take tens of
// milliseconds on a cold or busy process. A grant waiting for its request is told then, so the
// rate limiter's log can hold the moment the provider will count. Keyed by origin and path;
// two requests to the same URL may swap grants, which changes nothing: the log is a set of times.
const waitingToLeave = new Map<string, SendGrant[]>();
let listening = false;
function onLeave(key: string, grant: SendGrant): () => void {
  if (!listening) {
    listening = true;
    diagnostics.subscribe('undici:client:sendHeaders', (message) => {
      const req = (message as { request?: { origin?: unknown; path?: unknown } }).request;
      const k = `${String(req?.origin)}${String(req?.path)}`;
      const list = waitingToLeave.get(k);
      const g = list?.shift();
      if (list && !list.length) waitingToLeave.delete(k);
      g?.sent();
    });
  }
  const list = waitingToLeave.get(key) ?? [];
  list.push(grant);
  waitingToLeave.set(key, list);
  // Called once the fetch settles: a grant whose request never left is dropped unreported.
  return () => {
    const l = waitingToLeave.get(key);
    const i = l?.indexOf(grant) ?? -1;
    if (i >= 0) l!.splice(i, 1);
    if (l && !l.length) waitingToLeave.delete(key);
  };
}

export const DEFAULT_PROVIDER_MAX_BODY_BYTES = 10 * 1024 * 1024;

class BodyTooLarge extends Error {}

/** Reads at most `maxBytes` of a body; past that the stream is cancelled and BodyTooLarge thrown. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function originOf(location: string | null, base: URL): string {
  if (!location) return 'nowhere (no Location header)';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an unparseable Location';
  }
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  }
}

export function createProviderHttp(opts: ProviderHttpOptions): ProviderHttp {
  return {
    pacedFetch: async (input: string | URL | Request, init?: RequestInit) => sendWithGrant(await takeGrant(opts), input, init),
    async request(req) {
      const { url, init } = requestFor(req, opts);
      const res = await sendOrExplain(opts, url, init);
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        const where = originOf(res.headers.get('location'), url);
        throw new ProviderError('client', `${opts.providerId}: answered HTTP ${res.status} redirecting to ${where}; provider calls never follow redirects (check its base URL)`, { httpStatus: res.status });
      }
      const raw = parseBody(await readBody(opts, res));
      return answerOf(opts, { req, status: res.status, raw, headers: res.headers });
    },
  };
}

/** The URL and fetch init of a request: JSON in and out, redirects never followed. */
function requestFor(req: ProviderRequest<z.ZodType>, opts: ProviderHttpOptions): { url: URL; init: RequestInit } {
  const base = (req.baseUrl ?? opts.baseUrl).replace(/\/+$/, '');
  const url = new URL(base + (req.path.startsWith('/') ? req.path : `/${req.path}`));
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const init: RequestInit = {
    method: req.method ?? (req.json === undefined ? 'GET' : 'POST'),
    headers: { accept: 'application/json', ...(req.json === undefined ? {} : { 'content-type': 'application/json' }), ...req.headers },
    body: req.json === undefined ? undefined : JSON.stringify(req.json),
    signal: opts.signal,
    redirect: 'manual',
  };
  return { url, init };
}

/** beforeSend's grant (none without a rate limit); waiting past the time limit is a timeout. */
async function takeGrant(opts: ProviderHttpOptions): Promise<SendGrant | void> {
  try {
    return await opts.beforeSend?.();
  } catch (err) {
    if (opts.signal.aborted) throw new ProviderError('timeout', `${opts.providerId}: the time limit passed while waiting for the rate limit`, { cause: err });
    throw err;
  }
}

/** fetch, telling the grant when the request leaves. */
async function sendWithGrant(grant: SendGrant | void, input: string | URL | Request, init?: RequestInit): Promise<Response> {
  if (!grant) return fetch(input, init);
  const u = new URL(input instanceof Request ? input.url : input);
  const done = onLeave(`${u.origin}${u.pathname}${u.search}`, grant);
  try {
    return await fetch(input, init);
  } finally {
    done();
  }
}

/** The request sent once its grant is taken; no answer is a timeout or a network failure. */
async function sendOrExplain(opts: ProviderHttpOptions, url: URL, init: RequestInit): Promise<Response> {
  const grant = await takeGrant(opts);
  try {
    return await sendWithGrant(grant, url, init);
  } catch (err) {
    if (opts.signal.aborted) throw new ProviderError('timeout', `${opts.providerId}: no answer before the time limit`, { cause: err });
    throw new ProviderError('network', `${opts.providerId}: cannot reach ${url.origin} (${(err as Error).message})`, { cause: err });
  }
}

/** The body as text, up to opts.maxBodyBytes. */
async function readBody(opts: ProviderHttpOptions, res: Response): Promise<string> {
  const maxBytes = opts.maxBodyBytes ?? DEFAULT_PROVIDER_MAX_BODY_BYTES;
  try {
    return await readCapped(res, maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      throw new ProviderError('invalid_response', `${opts.providerId}: answer larger than ${maxBytes} bytes; not read further`, { httpStatus: res.status });
    }
    if (opts.signal.aborted) throw new ProviderError('timeout', `${opts.providerId}: answer not finished before the time limit`, { cause: err });
    throw new ProviderError('network', `${opts.providerId}: connection broke while reading the answer`, { cause: err });
  }
}

/** What an answer means, by its status (see the header) and, for a 2xx, its body checked against the schema. */
function answerOf<S extends z.ZodType>(opts: ProviderHttpOptions, answer: { req: ProviderRequest<S>; status: number; raw: unknown; headers: Headers }): ProviderResponse<z.infer<S>> {
  const { req, status, raw, headers } = answer;
  if (req.isNoMatch?.(status, raw)) return { kind: 'no_match', status, raw, headers };
  if (status === 404) return { kind: 'no_match', status, raw, headers };
  if (status === 401 || status === 403) {
    throw new ProviderError('auth', `${opts.providerId}: the API key was refused (HTTP ${status}); check ${opts.keyEnvName ?? 'its API key'}`, { httpStatus: status, raw });
  }
  if (status === 429) {
    throw new ProviderError('rate_limited', `${opts.providerId}: rate limited (HTTP 429)`, { httpStatus: status, raw, retryAfterMs: parseRetryAfter(headers.get('retry-after')) });
  }
  if (status >= 500) {
    throw new ProviderError('server', `${opts.providerId}: server error (HTTP ${status})`, { httpStatus: status, raw, retryAfterMs: parseRetryAfter(headers.get('retry-after')) });
  }
  if (status < 200 || status >= 300) {
    const detail = typeof raw === 'object' && raw && 'message' in raw ? `: ${String((raw as { message: unknown }).message).slice(0, 200)}` : '';
    throw new ProviderError('client', `${opts.providerId}: request refused (HTTP ${status})${detail}`, { httpStatus: status, raw });
  }
  const parsed = req.schema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new ProviderError('invalid_response', `${opts.providerId}: unexpected answer shape (${where}); the raw body is kept in the ledger`, { httpStatus: status, raw });
  }
  return { kind: 'ok', status, body: parsed.data, raw, headers };
}
