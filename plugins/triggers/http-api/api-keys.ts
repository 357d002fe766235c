// API keys: `ebk_` + 32 random bytes (base64url), shown once at creation. Only the key's SHA-256
// is stored, as the document's _id, so a request is checked with one lookup by _id (FerretDB's
// fastest path) and a database leak yields no usable key; a plain hash is enough for a key this
// random (no password to brute-force). Revoking sets revokedAt, effective on the next request.
// A key carries scopes (what it may do), an optional expiry and optional limits of its own.
import { createHash, randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { z } from 'zod';
import { EnrichbotError, ErrorCodes } from '../../../src/sdk/index.js';
import { CallbackUrlSchema } from './request-schemas.js';
import { HttpApiErrors } from './errors.js';

/** The plugin collection (plugin_http_api_api_keys) the keys are kept in, hashed. */
export const API_KEYS_COLLECTION = 'api_keys';

/** enrich: POST enrich and batch, cancel; read: GET jobs, batches, usage; privacy: forget; admin: all. */
export const SCOPES = ['enrich', 'read', 'privacy', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
/** New keys without --scope, and keys made before scopes existed. */
export const DEFAULT_SCOPES: Scope[] = ['enrich', 'read'];

const limit = (max: number) => z.number().int().min(1).max(max).optional();
/** Per-key limits; unset ones are the trigger's settings. */
export const KeyLimitsSchema = z.strictObject({
  ratePerMinute: limit(1_000_000),
  ratePerDay: limit(100_000_000),
  itemsPerMinute: limit(10_000_000),
  itemsPerDay: limit(1_000_000_000),
});
export type KeyLimits = z.infer<typeof KeyLimitsSchema>;

export interface ApiKeyDoc {
  /** sha256(key), hex. */
  _id: string;
  /** Public id for listing and revoking: `key_` + 12 hex. */
  id: string;
  workspace: string;
  name: string;
  /** Absent on keys made before scopes: DEFAULT_SCOPES. */
  scopes?: Scope[];
  expiresAt?: Date | null;
  limits?: KeyLimits;
  /** Where completion events go when a request names no callbackUrl. */
  callbackUrl?: string;
  /** Signs this key's webhook deliveries (HMAC-SHA256); shown once, at creation. Absent on keys made before webhooks. */
  webhookSecret?: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export type ApiKeyView = Omit<ApiKeyDoc, '_id' | 'scopes' | 'expiresAt' | 'limits' | 'webhookSecret'> & { scopes: Scope[]; expiresAt: Date | null; limits: KeyLimits };

const WORKSPACE = /^[\w.:-]{1,100}$/;
const KEY = /^ebk_[A-Za-z0-9_-]{43}$/;

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

const view = ({ _id, scopes, expiresAt, limits, webhookSecret: _secret, ...rest }: ApiKeyDoc): ApiKeyView => ({ ...rest, scopes: scopes ?? DEFAULT_SCOPES, expiresAt: expiresAt ?? null, limits: limits ?? {} });

export function hasScope(key: Pick<ApiKeyView, 'scopes'>, scope: Scope): boolean {
  return key.scopes.includes(scope) || key.scopes.includes('admin');
}

export interface CreateKeyOptions {
  workspace: string;
  name?: string;
  scopes?: Scope[];
  expiresAt?: Date | null;
  limits?: KeyLimits;
  /** The key's default callbackUrl. */
  callbackUrl?: string;
  now?: Date;
}

export async function createApiKey(keys: Collection, opts: CreateKeyOptions): Promise<{ key: string; webhookSecret: string; record: ApiKeyView }> {
  if (!WORKSPACE.test(opts.workspace)) {
    throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Invalid workspace "${opts.workspace}": use 1-100 letters, digits, _ . : - only.`);
  }
  const name = (opts.name ?? '').trim() || 'unnamed';
  if (name.length > 100) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, 'The key name is longer than 100 characters: shorten it.');
  const scopes = [...new Set(opts.scopes?.length ? opts.scopes : DEFAULT_SCOPES)];
  const unknown = scopes.filter((s) => !SCOPES.includes(s));
  if (unknown.length) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}: use ${SCOPES.join(', ')}.`);
  const now = opts.now ?? new Date();
  if (opts.expiresAt && opts.expiresAt.getTime() <= now.getTime()) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `The expiry ${opts.expiresAt.toISOString()} is not in the future: give a later date or a duration such as 90d.`);
  const limits = KeyLimitsSchema.safeParse(opts.limits ?? {});
  if (!limits.success) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Invalid key limits: ${limits.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
  if (opts.callbackUrl !== undefined && !CallbackUrlSchema.safeParse(opts.callbackUrl).success) {
    throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Invalid callback URL "${opts.callbackUrl}": give an absolute http(s) URL of at most 2,000 characters.`);
  }
  const key = `ebk_${randomBytes(32).toString('base64url')}`;
  const webhookSecret = `whsec_${randomBytes(32).toString('base64url')}`;
  const doc: ApiKeyDoc = { _id: hashKey(key), id: `key_${randomBytes(6).toString('hex')}`, workspace: opts.workspace, name, scopes, expiresAt: opts.expiresAt ?? null, limits: limits.data, ...(opts.callbackUrl ? { callbackUrl: opts.callbackUrl } : {}), webhookSecret, createdAt: now, revokedAt: null };
  await (keys as unknown as Collection<ApiKeyDoc>).insertOne(doc);
  return { key, webhookSecret, record: view(doc) };
}

export async function listApiKeys(keys: Collection, workspace?: string): Promise<ApiKeyView[]> {
  const docs = await (keys as unknown as Collection<ApiKeyDoc>).find(workspace ? { workspace } : {}).toArray();
  return docs.map(view).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

export async function revokeApiKey(keys: Collection, id: string, now = new Date()): Promise<ApiKeyView> {
  const coll = keys as unknown as Collection<ApiKeyDoc>;
  const doc = await coll.findOne({ id });
  if (!doc) throw new EnrichbotError(HttpApiErrors.API_KEY_NOT_FOUND.code, `No API key ${id}: \`enrichbot api-key list\` shows the ids.`);
  if (!doc.revokedAt) await coll.updateOne({ _id: doc._id }, { $set: { revokedAt: now } });
  return view({ ...doc, revokedAt: doc.revokedAt ?? now });
}

/** The key's record when the presented key is well-formed, known, not revoked and not expired. */
export async function findActiveKey(keys: Collection, presented: string, now = new Date()): Promise<ApiKeyView | { problem: 'malformed' | 'unknown' | 'revoked' | 'expired'; expiresAt?: Date }> {
  if (!KEY.test(presented)) return { problem: 'malformed' };
  const doc = await (keys as unknown as Collection<ApiKeyDoc>).findOne({ _id: hashKey(presented) });
  if (!doc) return { problem: 'unknown' };
  if (doc.revokedAt) return { problem: 'revoked' };
  if (doc.expiresAt && doc.expiresAt.getTime() <= now.getTime()) return { problem: 'expired', expiresAt: doc.expiresAt };
  return view(doc);
}

/** `--expires`: a duration from now ("90d", "12h") or an ISO date or date-time. */
export function parseExpiry(text: string, now = new Date()): Date {
  const d = /^(\d{1,5})([dh])$/.exec(text.trim());
  if (d) return new Date(now.getTime() + Number(d[1]) * (d[2] === 'd' ? 86_400_000 : 3_600_000));
  const iso = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).safeParse(text.trim());
  if (iso.success) return new Date(iso.data);
  throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Invalid expiry "${text}": give a duration such as 90d or 12h, or a date such as 2027-01-31.`);
}

/** `--scope enrich,read --scope privacy` as a list of scopes. */
export function parseScopes(values: string[]): Scope[] {
  const scopes = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}: use ${SCOPES.join(', ')}.`);
  return scopes as Scope[];
}

/** The signing secret of a key's webhooks (undefined: no such key, or made before webhooks). */
export async function webhookSecretOf(keys: Collection, id: string): Promise<string | undefined> {
  const doc = await (keys as unknown as Collection<ApiKeyDoc>).findOne({ id }, { projection: { webhookSecret: 1 } });
  return doc?.webhookSecret;
}

/** Whether the key can sign webhooks. */
export async function hasWebhookSecret(keys: Collection, id: string): Promise<boolean> {
  return !!(await webhookSecretOf(keys, id));
}
