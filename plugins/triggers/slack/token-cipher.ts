// Installation tokens at rest: AES-256-GCM (node:crypto) under a key from SLACK_TOKEN_KEYS,
// "id:base64key,id:base64key". The first key encrypts; every listed key decrypts, found by the
// key id stored beside the ciphertext, so a new key can be put first while old records still open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { EnrichbotError, ErrorCodes } from '../../../src/errors.js';

export interface Sealed {
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

const KeyEntry = z
  .string()
  .trim()
  .regex(/^[\w-]{1,32}:[A-Za-z0-9+/]+={0,2}$/, 'expected id:base64key (id: letters, digits, _ or -)')
  .transform((s) => {
    const [id, b64] = s.split(':') as [string, string];
    return { id, key: Buffer.from(b64, 'base64') };
  })
  .refine((k) => k.key.length === 32, 'each key must be 32 bytes, base64 (openssl rand -base64 32)');

/** SLACK_TOKEN_KEYS as a list of { id, key }: comma-separated text or a YAML list. */
export const TokenKeysSchema = z
  .union([z.array(z.string()), z.string().transform((s) => s.split(',').filter((x) => x.trim()))])
  .pipe(z.array(KeyEntry).min(1))
  .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be distinct');

export type TokenKey = z.output<typeof KeyEntry>;

export class TokenCipher {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: TokenKey[]) {
    if (!keys.length) throw new EnrichbotError(ErrorCodes.PLUGIN_CONFIG_INVALID, 'no token encryption key: set SLACK_TOKEN_KEYS');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The id of the key new records are sealed with. */
  get currentKid(): string {
    return this.keys[0]!.id;
  }

  seal(plain: string, aad: string): Sealed {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { kid: id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** `aad` binds the ciphertext to its record (a sealed token copied onto another team's record does not open). */
  open(sealed: Sealed, aad: string): string {
    const key = this.byId.get(sealed.kid);
    if (!key) throw new EnrichbotError(ErrorCodes.SLACK_TOKEN_KEY_MISSING, `a Slack installation is sealed with key "${sealed.kid}", which SLACK_TOKEN_KEYS no longer lists: add that key back (after the current one)`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  }
}
