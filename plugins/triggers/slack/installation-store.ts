// Bolt's InstallationStore backed by the trigger's own MongoDB collection. One document per
// team, or per Enterprise Grid org for an org-wide install, looked up by _id. The installation
// (bot token, refresh token) is sealed with AES-256-GCM (token-cipher.ts): the document holds the
// key id, iv, tag and ciphertext, never a token. Teams seen under an org-wide install get a small
// alias document, so a delivery that knows only the team finds the org's token.
import { createHash } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import { EnrichbotError } from '../../../src/sdk/index.js';
import type { TokenCipher } from './token-cipher.js';
import { SlackErrors } from './errors.js';

interface InstallationDoc {
  _id: string;
  teamId?: string;
  enterpriseId?: string;
  /** Key id beside the ciphertext: rotation re-seals under the first key on the next read. */
  kid?: string;
  iv?: string;
  tag?: string;
  data?: string;
  /** Alias: a team under an org-wide install points at the org's document. */
  aliasOf?: string;
  updatedAt: Date;
}

export interface TokenQuery {
  teamId?: string;
  enterpriseId?: string;
  isEnterpriseInstall?: boolean;
}

export const installationKey = (q: TokenQuery) => (q.isEnterpriseInstall && q.enterpriseId ? `enterprise:${q.enterpriseId}` : `team:${q.teamId}`);

/** A revoked single-workspace token is remembered by its hash, never by its text. */
const revokedKey = (token: string) => `revoked:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;

export const notInstalled = (q: TokenQuery) =>
  new EnrichbotError(SlackErrors.SLACK_NOT_INSTALLED.code, `enrichbot is not installed in Slack ${q.isEnterpriseInstall ? `org ${q.enterpriseId}` : `team ${q.teamId ?? q.enterpriseId}`}: install it from /slack/install`);

export class MongoInstallationStore implements InstallationStore {
  constructor(
    private readonly collection: Collection,
    private readonly cipher?: TokenCipher,
  ) {}

  private get docs(): Collection<InstallationDoc> {
    return this.collection as unknown as Collection<InstallationDoc>;
  }

  private sealer(): TokenCipher {
    if (!this.cipher) throw new EnrichbotError(SlackErrors.SLACK_TOKEN_KEY_MISSING.code, 'Slack installations are stored encrypted: set SLACK_TOKEN_KEYS');
    return this.cipher;
  }

  async storeInstallation(installation: Installation): Promise<void> {
    const _id = installationKey({ teamId: installation.team?.id, enterpriseId: installation.enterprise?.id, isEnterpriseInstall: installation.isEnterpriseInstall });
    await this.docs.replaceOne({ _id }, this.sealed(_id, installation), { upsert: true });
  }

  private sealed(_id: string, installation: Installation): Omit<InstallationDoc, '_id'> {
    const s = this.sealer().seal(JSON.stringify(installation), _id);
    return { teamId: installation.team?.id, enterpriseId: installation.enterprise?.id, ...s, updatedAt: new Date() };
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation> {
    const found = await this.find(query);
    if (!found) throw notInstalled(query);
    return found;
  }

  /** The installation, or undefined; a team under an org-wide install finds the org's. */
  async find(query: TokenQuery): Promise<Installation | undefined> {
    let doc = await this.docs.findOne({ _id: installationKey(query) });
    if (doc?.aliasOf) doc = await this.docs.findOne({ _id: doc.aliasOf });
    if (!doc?.data) return undefined;
    const cipher = this.sealer();
    const installation = JSON.parse(cipher.open({ kid: doc.kid!, iv: doc.iv!, tag: doc.tag!, data: doc.data }, doc._id)) as Installation;
    // Key rotation: a record sealed with an older key is re-sealed under the current one.
    if (doc.kid !== cipher.currentKid) await this.docs.updateOne({ _id: doc._id, data: doc.data }, { $set: this.sealed(doc._id, installation) });
    return installation;
  }

  /** The key of the document holding a query's installation (the org's for an aliased team). */
  async keyOf(query: TokenQuery): Promise<string> {
    const doc = await this.docs.findOne({ _id: installationKey(query) });
    return doc?.aliasOf ?? installationKey(query);
  }

  /** A team seen under an org-wide install: later lookups by that team alone find the org. */
  async rememberMember(teamId: string, enterpriseId: string): Promise<void> {
    const _id = `team:${teamId}`;
    const existing = await this.docs.findOne({ _id });
    if (existing && !existing.aliasOf) return;
    if (existing?.aliasOf === `enterprise:${enterpriseId}`) return;
    // Two processes may upsert the same alias at once: the loser's duplicate key means it is there.
    await this.docs.replaceOne({ _id }, { teamId, enterpriseId, aliasOf: `enterprise:${enterpriseId}`, updatedAt: new Date() }, { upsert: true }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 11000) throw err;
    });
  }

  async deleteInstallation(query: InstallationQuery<boolean> | TokenQuery): Promise<void> {
    const _id = await this.keyOf(query);
    await this.docs.deleteOne({ _id });
    await this.docs.deleteMany({ aliasOf: _id });
  }

  async revokeToken(token: string): Promise<void> {
    await this.docs.replaceOne({ _id: revokedKey(token) }, { updatedAt: new Date() }, { upsert: true });
  }

  async isRevoked(token: string): Promise<boolean> {
    return (await this.docs.countDocuments({ _id: revokedKey(token) }, { limit: 1 })) > 0;
  }
}
