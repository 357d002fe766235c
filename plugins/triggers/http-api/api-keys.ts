// API keys: `ebk_` + 32 random bytes (base64url), shown once at creation. Only the key's SHA-256
// is stored, as the document's _id, so a request is checked with one lookup by _id (FerretDB's
// fastest path) and a database leak yields no usable key; a plain hash is enough for a key this
// random (no password to brute-force). Revoking sets revokedAt, effective on the next request.
import { createHash, randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { EnrichbotError, ErrorCodes } from '../../../src/sdk/index.js';

export interface ApiKeyDoc {
  /** sha256(key), hex. */
  _id: string;
  /** Public id for listing and revoking: `key_` + 12 hex. */
  id: string;
  workspace: string;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export type ApiKeyView = Omit<ApiKeyDoc, '_id'>;

const WORKSPACE = /^[\w.:-]{1,100}$/;
const KEY = /^ebk_[A-Za-z0-9_-]{43}$/;

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

const view = ({ _id, ...rest }: ApiKeyDoc): ApiKeyView => rest;

export async function createApiKey(keys: Collection, opts: { workspace: string; name?: string; now?: Date }): Promise<{ key: string; record: ApiKeyView }> {
  if (!WORKSPACE.test(opts.workspace)) {
    throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `Invalid workspace "${opts.workspace}": use 1-100 letters, digits, _ . : - only.`);
  }
  const name = (opts.name ?? '').trim() || 'unnamed';
  if (name.length > 100) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, 'The key name is longer than 100 characters: shorten it.');
  const key = `ebk_${randomBytes(32).toString('base64url')}`;
  const doc: ApiKeyDoc = { _id: hashKey(key), id: `key_${randomBytes(6).toString('hex')}`, workspace: opts.workspace, name, createdAt: opts.now ?? new Date(), revokedAt: null };
  await (keys as unknown as Collection<ApiKeyDoc>).insertOne(doc);
  return { key, record: view(doc) };
}

export async function listApiKeys(keys: Collection, workspace?: string): Promise<ApiKeyView[]> {
  const docs = await (keys as unknown as Collection<ApiKeyDoc>).find(workspace ? { workspace } : {}).toArray();
  return docs.map(view).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

export async function revokeApiKey(keys: Collection, id: string, now = new Date()): Promise<ApiKeyView> {
  const coll = keys as unknown as Collection<ApiKeyDoc>;
  const doc = await coll.findOne({ id });
  if (!doc) throw new EnrichbotError(ErrorCodes.API_KEY_NOT_FOUND, `No API key ${id}: \`enrichbot api-key list\` shows the ids.`);
  if (!doc.revokedAt) await coll.updateOne({ _id: doc._id }, { $set: { revokedAt: now } });
  return view({ ...doc, revokedAt: doc.revokedAt ?? now });
}

/** The key's record when the presented key is well-formed, known and not revoked. */
export async function findActiveKey(keys: Collection, presented: string): Promise<ApiKeyView | { problem: 'malformed' | 'unknown' | 'revoked' }> {
  if (!KEY.test(presented)) return { problem: 'malformed' };
  const doc = await (keys as unknown as Collection<ApiKeyDoc>).findOne({ _id: hashKey(presented) });
  if (!doc) return { problem: 'unknown' };
  if (doc.revokedAt) return { problem: 'revoked' };
  return view(doc);
}
