// Every Redis connection enrichbot opens is made from one pair of settings, so TLS is the same
// on all of them: the app's ioredis client (and its duplicates, which copy its options),
// bee-queue's node_redis clients and the Arena dashboard's. rediss:// turns TLS on;
// REDIS_TLS_CA_FILE names the CA that signed the server's certificate when Node's bundled CAs
// do not (a managed Redis's own CA, or a self-signed one).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { redactUrlText } from '../redaction.js';

export interface RedisSettings {
  redisUrl: string;
  /** PEM file of the CA certificate(s) the server's certificate is checked against (rediss:// only). */
  redisTlsCaFile?: string;
}

/** The TLS options of a connection, or undefined for redis://. */
export function redisTls(s: RedisSettings): ConnectionOptions | undefined {
  const url = new URL(s.redisUrl);
  if (url.protocol !== 'rediss:') return undefined;
  return {
    // SNI takes host names only (RFC 6066); an IP address is checked against the certificate's IP names.
    ...(net.isIP(url.hostname) ? {} : { servername: url.hostname }),
    ...(s.redisTlsCaFile ? { ca: readFileSync(s.redisTlsCaFile, 'utf8') } : {}),
  };
}

/** Options for bee-queue's node_redis clients, which take TLS options only this way (a URL alone: no CA file). */
export function redisOptions(settings: RedisSettings | string): Record<string, unknown> {
  const s = typeof settings === 'string' ? { redisUrl: settings } : settings;
  const u = new URL(s.redisUrl);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const tls = redisTls(s);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db,
    // The ACL user, as managed Redis has them (without it, AUTH checks the password against "default").
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** An ioredis client, connected; refused with what to do (the TLS reason when it is one). */
export async function connectRedis(s: RedisSettings, options: RedisOptions = {}): Promise<Redis> {
  const tls = redisTls(s);
  const redis = new Redis(s.redisUrl, { ...options, ...(tls ? { tls } : {}), lazyConnect: true });
  // connect() rejects with "Connection is closed."; the reason comes as an error event.
  let reason: unknown;
  const keep = (err: unknown) => (reason ??= err);
  redis.on('error', keep);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw redisUnreachable(s.redisUrl, reason ?? err);
  } finally {
    redis.off('error', keep);
  }
  return redis;
}

/** Node's codes for a certificate it does not trust or that names another host. */
const UNTRUSTED = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|DEPTH_ZERO|ALTNAME/;

export function redisUnreachable(url: string, cause: unknown): EnrichbotError {
  const where = redactUrlText(url);
  const code = String((cause as { code?: unknown } | undefined)?.code ?? '');
  // Not `instanceof Error`: socket errors may come from another realm (a test's VM context).
  const message = (cause as { message?: unknown } | undefined)?.message;
  const why = typeof message === 'string' ? message : String(cause);
  if (UNTRUSTED.test(code)) {
    return new EnrichbotError(
      ErrorCodes.SERVICE_UNREACHABLE,
      `Redis at ${where} presented a TLS certificate this process does not trust (${why}): set REDIS_TLS_CA_FILE to the PEM file of the CA that signed it (your Redis provider's CA certificate), and check that REDIS_URL names the host the certificate is for.`,
      { cause },
    );
  }
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(why)) {
    return new EnrichbotError(ErrorCodes.SERVICE_UNREACHABLE, `Redis at ${where} refused the user or password (${why}): check them in REDIS_URL (rediss://user:password@host:port).`, { cause });
  }
  if (/^ERR_SSL_|^EPROTO$/.test(code)) {
    return new EnrichbotError(ErrorCodes.SERVICE_UNREACHABLE, `Redis at ${where} did not complete a TLS handshake (${why}): check that the port speaks TLS, or use redis:// for a plain one.`, { cause });
  }
  return new EnrichbotError(ErrorCodes.SERVICE_UNREACHABLE, `Redis is not reachable at ${where}: start it (redis-server) or set REDIS_URL.`, { cause });
}
