// Forgotten identities: a salted hash per workspace and identity key, so nothing readable about
// the person stays, yet every trigger can tell it must not enrich them again. The salt comes from
// config or is generated once and kept in the settings collection.
import { createHash, randomBytes } from 'node:crypto';
import type { ServiceModels } from '../store/service-models.js';

export class Tombstones {
  private salt?: Promise<string>;

  constructor(
    private readonly models: ServiceModels,
    private readonly configuredSalt?: string,
  ) {}

  private getSalt(): Promise<string> {
    this.salt ??= (async () => {
      if (this.configuredSalt) return this.configuredSalt;
      const { Setting } = this.models;
      const found = await Setting.findById('tombstone-salt').lean();
      if (found) return found.value;
      try {
        await Setting.create({ _id: 'tombstone-salt', value: randomBytes(32).toString('hex') });
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
      // Whoever won the insert, everyone reads the same stored value.
      return (await Setting.findById('tombstone-salt').lean())!.value;
    })();
    this.salt.catch(() => (this.salt = undefined));
    return this.salt;
  }

  async idFor(workspace: string, identityKey: string): Promise<string> {
    const h = createHash('sha256').update(`${await this.getSalt()}\n${workspace}\n${identityKey}`).digest('hex');
    return `${workspace}|${h}`;
  }

  async isForgotten(workspace: string, identityKey: string): Promise<boolean> {
    return (await this.models.Tombstone.exists({ _id: await this.idFor(workspace, identityKey) })) !== null;
  }

  /** All of a workspace's tombstone ids, for checking a whole batch with one read. */
  async all(workspace: string): Promise<Set<string>> {
    const rows = await this.models.Tombstone.find({ workspace }, { _id: 1 }).lean();
    return new Set(rows.map((r) => String(r._id)));
  }

  async add(workspace: string, identityKey: string, by: string, at: Date): Promise<void> {
    const _id = await this.idFor(workspace, identityKey);
    await this.models.Tombstone.updateOne({ _id }, { $set: { workspace, by, at } }, { upsert: true });
  }

  async remove(workspace: string, identityKey: string): Promise<boolean> {
    const r = await this.models.Tombstone.deleteOne({ _id: await this.idFor(workspace, identityKey) });
    return r.deletedCount > 0;
  }
}
