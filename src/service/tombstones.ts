// Forgotten identities: a salted hash per workspace and identity key, so nothing readable about
// the person stays, yet every trigger can tell it must not enrich them again. The salt comes from
// config or is generated once and kept in the settings collection.
// Every submit asks "is this identity forgotten?", so each process keeps a workspace's tombstone
// ids in memory, tagged with the workspace's generation in Redis: adding or removing a tombstone
// writes MongoDB first and then a new generation, and a process whose tag differs reads the set
// again. A generation Redis lost is replaced by a new one, so a lost key means a re-read, never a
// stale answer. One Redis GET per check instead of a database read.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ServiceModels } from '../store/service-models.js';
import { isDuplicateKey } from '../store/group-commit.js';

/** Above this many tombstones in one workspace, each check reads the database instead. */
const MAX_CACHED = 50_000;

export class Tombstones {
  private salt?: Promise<string>;
  private readonly cached = new Map<string, { generation: string; ids: Set<string> | null }>();

  constructor(
    private readonly models: ServiceModels,
    private readonly configuredSalt?: string,
    private readonly redis?: Redis,
    private readonly prefix = 'enrichbot',
  ) {}

  private generationKey(workspace: string): string {
    return `${this.prefix}:tombstones:generation:${workspace}`;
  }

  /** The workspace's current generation; a new one when Redis has none (first use, or lost). */
  private async generation(workspace: string): Promise<string> {
    const key = this.generationKey(workspace);
    const current = await this.redis!.get(key);
    if (current) return current;
    const fresh = randomBytes(8).toString('hex');
    const set = await this.redis!.set(key, fresh, 'NX');
    return set === 'OK' ? fresh : ((await this.redis!.get(key)) ?? fresh);
  }

  /** After a change in MongoDB: every process reads the workspace's set again. */
  private async bump(workspace: string): Promise<void> {
    this.cached.delete(workspace);
    await this.redis?.set(this.generationKey(workspace), randomBytes(8).toString('hex'));
  }

  private getSalt(): Promise<string> {
    this.salt ??= (async () => {
      if (this.configuredSalt) return this.configuredSalt;
      const { Setting } = this.models;
      const found = await Setting.findById('tombstone-salt').lean();
      if (found) return found.value;
      try {
        await Setting.create({ _id: 'tombstone-salt', value: randomBytes(32).toString('hex') });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
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
    const id = await this.idFor(workspace, identityKey);
    if (this.redis) {
      const generation = await this.generation(workspace);
      let hit = this.cached.get(workspace);
      if (hit?.generation !== generation) {
        const ids = await this.read(workspace);
        hit = { generation, ids: ids.size > MAX_CACHED ? null : ids };
        this.cached.set(workspace, hit);
        if (this.cached.size > 1000) this.cached.delete(this.cached.keys().next().value!);
        if (!hit.ids) return ids.has(id);
      }
      if (hit.ids) return hit.ids.has(id);
    }
    return (await this.models.Tombstone.exists({ _id: id })) !== null;
  }

  private async read(workspace: string): Promise<Set<string>> {
    const rows = await this.models.Tombstone.find({ workspace }, { _id: 1 }).lean();
    return new Set(rows.map((r) => String(r._id)));
  }

  /** All of a workspace's tombstone ids, for checking a whole batch with one read. */
  async all(workspace: string): Promise<Set<string>> {
    return this.read(workspace);
  }

  async add(workspace: string, identityKey: string, by: string, at: Date): Promise<void> {
    const _id = await this.idFor(workspace, identityKey);
    await this.models.Tombstone.updateOne({ _id }, { $set: { workspace, by, at } }, { upsert: true });
    await this.bump(workspace);
  }

  async remove(workspace: string, identityKey: string): Promise<boolean> {
    const r = await this.models.Tombstone.deleteOne({ _id: await this.idFor(workspace, identityKey) });
    await this.bump(workspace);
    return r.deletedCount > 0;
  }
}
