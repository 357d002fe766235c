// Tokens at rest (Slack installations, HubSpot OAuth tokens): AES-256-GCM (node:crypto) under keys
// from a setting such as SLACK_TOKEN_KEYS, "id:base64key,id:base64key". The first key encrypts;
// every listed key decrypts, found by the key id stored beside the ciphertext, so a new key can be
// put first while old records still open. One implementation; each plugin names its setting.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { EnrichbotError, ErrorCodes, type ErrorCode } from '../errors.js';

export interface Sealed {
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

const ENTRY = /^([\w-]{1,32}):([A-Za-z0-9+/]+={0,2})$/;

/**
 * A token-keys setting (e.g. SLACK_TOKEN_KEYS) as a list of { id, key }: comma-separated text or a YAML list. Problems are
 * reported on the whole setting, never on one entry, so no message ever quotes a key.
 */
export const TokenKeysSchema = z
  .union([z.array(z.string()), z.string().transform((s) => s.split(',').filter((x) => x.trim()))])
  .transform((entries, ctx) => {
    const keys: TokenKey[] = [];
    entries.forEach((raw, i) => {
      const m = ENTRY.exec(raw.trim());
      if (!m) return void ctx.addIssue({ code: 'custom', message: `entry ${i + 1} is not id:base64key (id: letters, digits, _ or -)` });
      const key = Buffer.from(m[2]!, 'base64');
      if (key.length !== 32) return void ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ("${m[1]}"): each key must be 32 bytes, base64 (openssl rand -base64 32)` });
      keys.push({ id: m[1]!, key });
    });
    if (!entries.length) ctx.addIssue({ code: 'custom', message: 'list at least one id:base64key' });
    if (new Set(keys.map((k) => k.id)).size !== keys.length) ctx.addIssue({ code: 'custom', message: 'key ids must be distinct' });
    return keys;
  });

export interface TokenKey {
  id: string;
  key: Buffer;
}

/** What a plugin's messages name: its setting, what it seals, and the code of a key no longer listed. */
export interface TokenCipherLabels {
  /** e.g. "SLACK_TOKEN_KEYS" */
  setting: string;
  /** e.g. "a Slack installation" */
  sealed: string;
  missingKeyCode: ErrorCode;
}

export class TokenCipher {
  private readonly byId: Map<string, Buffer>;

  constructor(
    private readonly keys: TokenKey[],
    private readonly labels: TokenCipherLabels,
  ) {
    if (!keys.length) throw new EnrichbotError(ErrorCodes.PLUGIN_CONFIG_INVALID, `no token encryption key: set ${labels.setting}`);
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

  /** `aad` binds the ciphertext to its record (a sealed token copied onto another team's or portal's record does not open). */
  open(sealed: Sealed, aad: string): string {
    const key = this.byId.get(sealed.kid);
    if (!key) throw new EnrichbotError(this.labels.missingKeyCode, `${this.labels.sealed} is sealed with key "${sealed.kid}", which ${this.labels.setting} no longer lists: add that key back (after the current one)`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  }
}
