// Fetching user-supplied hosts (a company's homepage) without becoming an SSRF hole: every hop
// (the first URL and each redirect) is resolved first, refused if any address is private,
// loopback, link-local or otherwise not public unicast, and then connected to that exact
// address (no second lookup, so no DNS rebinding). Body size and time are capped.
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';

export interface SafeFetchOptions {
  /** POST (webhooks) sends `body` and never follows a redirect: a 3xx is the answer. */
  method?: 'GET' | 'HEAD' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  maxBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}
export interface SafeFetchResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
  redirects: string[];
  text(): string;
}
export type SafeFetch = ((url: string, options?: SafeFetchOptions) => Promise<SafeFetchResponse>) & {
  /**
   * The same check without fetching, for a host another service will fetch for us (a
   * self-hosted Firecrawl): resolves it and throws URL_REFUSED if any address is not public,
   * FETCH_FAILED if it does not resolve. Returns the address that was checked.
   */
  checkHost(host: string): Promise<string>;
};

export interface SafeFetchConfig {
  allowPrivateHosts: string[];
  maxBodyBytes: number;
  fetchTimeoutMs: number;
  maxRedirects: number;
  userAgent: string;
  /** host:port of DNS servers to ask instead of the system resolver (tests use a local one). */
  dnsServers?: string[];
  /** Told once, at creation, when the allowlist opens private addresses. */
  logger?: { warn(obj: object, msg: string): void };
}

// IPv6: only global unicast (2000::/3), less the special-purpose blocks inside it. Everything
// else is refused, including the IPv4-compatible (::a9fe:a9fe), IPv4-mapped, NAT64 and 6to4
// forms that smuggle an IPv4 address (169.254.169.254, 10.x) past a check made on "IPv6".
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const SPECIAL_V6 = [
  '2001::/23', // IETF protocol assignments: Teredo, ORCHID, benchmarking, AMT...
  '2001:db8::/32', // documentation
  '2002::/16', // 6to4 (embeds an IPv4 address)
  '2620:4f:8000::/48', // AS112
  '3fff::/20', // documentation
].map((c) => ipaddr.parseCIDR(c));

export function isPublicAddress(address: string): boolean {
  if (!net.isIP(address)) return false; // only canonical literals: no 0x7f000001, no "127.1"
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (ip.kind() === 'ipv4') return ip.range() === 'unicast';
  const v6 = ip as ipaddr.IPv6;
  if (!v6.match(GLOBAL_UNICAST_V6)) return false;
  return v6.range() === 'unicast' && !SPECIAL_V6.some((c) => v6.match(c));
}

/** The allowlist holds IP addresses only (a host name could be re-pointed by its owner). */
export function normalizeAllowedAddress(entry: string): string {
  const bare = entry.trim().replace(/^\[|\]$/g, '');
  if (!net.isIP(bare)) throw new EnrichbotError(ErrorCodes.URL_REFUSED, `allowPrivateHosts accepts IP addresses only; got ${JSON.stringify(entry)}.`);
  return ipaddr.parse(bare).toNormalizedString();
}

const refused = (message: string) => new EnrichbotError(ErrorCodes.URL_REFUSED, message);

export function createSafeFetch(config: SafeFetchConfig): SafeFetch {
  const allowed = new Set(config.allowPrivateHosts.map(normalizeAllowedAddress));
  if (allowed.size) {
    config.logger?.warn({ allowPrivateHosts: [...allowed] }, 'the SSRF guard lets user-supplied hosts reach these private addresses (ENRICHBOT_ALLOW_PRIVATE_HOSTS / net.allowPrivateHosts); for local test sites only');
  }
  const resolveHost = hostResolver(config.dnsServers);
  const checkedAddress = (url: URL) => checkAddress(url, { resolveHost, allowed });
  const safeFetch = (rawUrl: string, options: SafeFetchOptions = {}) => fetchFollowingRedirects(rawUrl, options, { config, checkedAddress });
  return Object.assign(safeFetch, {
    checkHost: (host: string) => checkedAddress(new URL(`http://${net.isIPv6(host) ? `[${host}]` : host}/`)),
  });
}

/** A host's addresses, from the DNS servers given (tests use a local one) or the system resolver. */
function hostResolver(dnsServers: string[] | undefined): (host: string) => Promise<string[]> {
  const resolver = dnsServers?.length ? new dns.promises.Resolver({ timeout: 3000, tries: 2 }) : null;
  if (resolver) resolver.setServers(dnsServers!);
  return async (host) => {
    if (net.isIP(host)) return [host];
    if (resolver) {
      const [v4, v6] = await Promise.all([resolver.resolve4(host).catch(() => [] as string[]), resolver.resolve6(host).catch(() => [] as string[])]);
      return [...v4, ...v6];
    }
    const found = await dns.promises.lookup(host, { all: true }).catch(() => []);
    return found.map((a) => a.address);
  };
}

/** The address to connect to: the URL's host resolved, refused if any of its addresses is not public (or allowed). */
async function checkAddress(url: URL, guard: { resolveHost: (host: string) => Promise<string[]>; allowed: ReadonlySet<string> }): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const addresses = await guard.resolveHost(host);
  if (addresses.length === 0) {
    throw new EnrichbotError(ErrorCodes.FETCH_FAILED, `${host} does not resolve to any address.`);
  }
  for (const a of addresses) {
    if (!isPublicAddress(a) && !(net.isIP(a) && guard.allowed.has(ipaddr.parse(a).toNormalizedString()))) {
      throw refused(`Refused to fetch ${url.origin}: ${host} resolves to ${a}, a private, loopback or link-local address.`);
    }
  }
  return addresses[0];
}

/** Each hop checked and fetched in turn; a redirect (not for POST) is followed up to config.maxRedirects. */
async function fetchFollowingRedirects(
  rawUrl: string,
  options: SafeFetchOptions,
  ctx: { config: SafeFetchConfig; checkedAddress: (url: URL) => Promise<string> },
): Promise<SafeFetchResponse> {
  const { config } = ctx;
  const timeoutMs = options.timeoutMs ?? config.fetchTimeoutMs;
  const maxBytes = options.maxBytes ?? config.maxBodyBytes;
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  const redirects: string[] = [];
  let url = new URL(rawUrl);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(`Refused to fetch ${url.href}: only http and https are allowed.`);
    if (url.username || url.password) throw refused(`Refused to fetch ${url.origin}: URLs with credentials are not fetched.`);
    const address = await ctx.checkedAddress(url);
    let res: HopResponse;
    try {
      res = await sendOnce({ url, address, options, maxBytes, signal, userAgent: config.userAgent });
    } catch (err) {
      if (signal.aborted) throw new EnrichbotError(ErrorCodes.FETCH_FAILED, `Fetching ${url.origin} took longer than ${timeoutMs} ms.`, { cause: err });
      throw new EnrichbotError(ErrorCodes.FETCH_FAILED, `Could not fetch ${url.origin}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status >= 300 && res.status < 400 && res.headers.location && options.method !== 'POST') {
      if (hop >= config.maxRedirects) throw new EnrichbotError(ErrorCodes.FETCH_FAILED, `${rawUrl} redirected more than ${config.maxRedirects} times.`);
      url = new URL(res.headers.location, url);
      redirects.push(url.href);
      continue;
    }
    const body = res.body;
    return { url: url.href, status: res.status, headers: res.headers, body, truncated: res.truncated, redirects, text: () => body.toString('utf8') };
  }
}

/** One request of a fetch: to this URL, connected to this already checked address. */
interface Hop {
  url: URL;
  address: string;
  options: SafeFetchOptions;
  maxBytes: number;
  signal: AbortSignal;
  userAgent: string;
}

interface HopResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
}

function sendOnce(hop: Hop): Promise<HopResponse> {
  return new Promise<HopResponse>((resolve, reject) => {
    const mod = hop.url.protocol === 'https:' ? https : http;
    const req = mod.request(requestOptions(hop), (res) => readCapped(res, hop.maxBytes).then(resolve, reject));
    req.on('error', reject);
    req.end(hop.options.body);
  });
}

/** The request, pinned to the checked address: the lookup answers with it, so no second DNS query is made. */
function requestOptions(hop: Hop): https.RequestOptions {
  const { url, address, options } = hop;
  return {
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    method: options.method ?? 'GET',
    headers: { 'user-agent': hop.userAgent, accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5', ...options.headers },
    servername: net.isIP(url.hostname) ? undefined : url.hostname,
    lookup: ((_h: string, opts: unknown, cb: (...args: unknown[]) => void) => {
      const family = net.isIP(address);
      if ((opts as { all?: boolean })?.all) cb(null, [{ address, family }]);
      else cb(null, address, family);
    }) as unknown as http.RequestOptions['lookup'],
    signal: hop.signal,
  };
}

/** The body up to `maxBytes`; past that the response is dropped and what was read is kept, marked truncated. */
function readCapped(res: http.IncomingMessage, maxBytes: number): Promise<HopResponse> {
  return new Promise<HopResponse>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const finish = () =>
      resolve({
        status: res.statusCode ?? 0,
        headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')])),
        body: Buffer.concat(chunks),
        truncated,
      });
    res.on('data', (chunk: Buffer) => {
      if (truncated) return;
      size += chunk.length;
      if (size > maxBytes) {
        chunks.push(chunk.subarray(0, chunk.length - (size - maxBytes)));
        truncated = true;
        res.destroy();
        finish();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', finish);
    res.on('error', (err) => (truncated ? undefined : reject(err)));
  });
}
