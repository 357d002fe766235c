// One MX query through node:dns's c-ares resolver, on the configured servers (or the system's),
// with its own time limit and the engine's abort signal. DNS answer codes become either an
// answer (records / no MX / no such domain) or a ProviderError the engine's retry policy reads.
import dns from 'node:dns';
import { ProviderError } from '../../../src/sdk/index.js';

export interface ResolveOptions {
  /** "host" or "host:port" ("[v6]:port"); empty = the system resolvers from /etc/resolv.conf. */
  servers: string[];
  timeoutMs: number;
  tries: number;
  signal: AbortSignal;
}

export type MxAnswer =
  | { kind: 'records'; records: dns.MxRecord[] }
  /** The name exists but publishes no MX record (NOERROR, empty answer). */
  | { kind: 'no_mx' }
  /** NXDOMAIN: there is no such name. */
  | { kind: 'nxdomain' };

function errorFor(domain: string, code: string | undefined, err: unknown): ProviderError {
  const msg = (what: string) => `dns: MX lookup for ${domain} ${what} (${code ?? 'unknown error'})`;
  switch (code) {
    case dns.TIMEOUT:
    case dns.CANCELLED:
      return new ProviderError('timeout', msg('got no answer in time'), { cause: err, raw: { code } });
    case dns.SERVFAIL:
    case dns.REFUSED:
    case dns.NOTIMP:
      return new ProviderError('server', msg('failed at the DNS server'), { cause: err, raw: { code } });
    case dns.CONNREFUSED:
      return new ProviderError('network', msg('could not reach a DNS server'), { cause: err, raw: { code } });
    case dns.BADRESP:
    case dns.FORMERR:
    case dns.EOF:
      return new ProviderError('invalid_response', msg('got an answer that cannot be read'), { cause: err, raw: { code } });
    case dns.BADNAME:
    case dns.BADQUERY:
      return new ProviderError('client', msg('was refused as malformed'), { cause: err, raw: { code } });
    default:
      return new ProviderError('network', msg('failed'), { cause: err, raw: { code } });
  }
}

export async function resolveMx(domain: string, opts: ResolveOptions): Promise<MxAnswer> {
  // c-ares' timeout is per try and doubles on each retry; `tries` counts attempts per server.
  const resolver = new dns.promises.Resolver({ timeout: opts.timeoutMs, tries: opts.tries });
  if (opts.servers.length) {
    try {
      resolver.setServers(opts.servers);
    } catch (err) {
      throw new ProviderError('client', `dns: invalid servers setting ${JSON.stringify(opts.servers)} (${(err as Error).message})`, { cause: err });
    }
  }
  if (opts.signal.aborted) throw new ProviderError('timeout', `dns: MX lookup for ${domain} cancelled before it started`);
  const onAbort = () => resolver.cancel();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const records = await resolver.resolveMx(domain);
    return records.length ? { kind: 'records', records } : { kind: 'no_mx' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === dns.NODATA) return { kind: 'no_mx' };
    if (code === dns.NOTFOUND) return { kind: 'nxdomain' };
    throw errorFor(domain, code, err);
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
}
