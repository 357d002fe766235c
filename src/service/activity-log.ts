// The per-workspace activity log: who did what, when (enrich, batch, refresh, correct, forget,
// export, push). Read by the digest, `/enrich usage` and `enrichbot activity`.
// Writes are group-committed (src/store/group-commit.ts): while one insert is in flight, the
// entries that arrive meanwhile wait and go together in the next. A write still resolves only
// once its entry is stored, so nothing is lost or late; a busy process writes one command per
// burst, not per entry.
import type { ServiceModels } from '../store/service-models.js';
import type { ActivityEntry } from '../plugin/service.js';
import type { Clock } from '../clock.js';
import { groupCommit } from '../store/group-commit.js';

export class ActivityLog {
  constructor(
    private readonly models: ServiceModels,
    private readonly clock: Clock,
    private readonly retentionDays: number,
  ) {}

  write(entry: Omit<ActivityEntry, 'at'> & { identityKey?: string }): Promise<void> {
    const at = this.clock.now();
    const doc = {
      workspace: entry.workspace,
      at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject.slice(0, 500),
      identityKey: entry.identityKey,
      detailJson: entry.detail ? JSON.stringify(entry.detail).slice(0, 4000) : undefined,
      expireAt: new Date(at.getTime() + this.retentionDays * 86400_000),
    };
    return groupCommit(this.models.Activity).write({ insertOne: { document: doc } });
  }

  async since(workspace: string, since: Date, limit = 200): Promise<ActivityEntry[]> {
    const rows = await this.models.Activity.find({ workspace, at: { $gte: since } })
      .sort({ at: -1 })
      .limit(Math.min(Math.max(limit, 1), 5000))
      .lean();
    return rows.map((r) => ({
      workspace: r.workspace,
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      action: r.action as ActivityEntry['action'],
      subject: r.subject,
      ...(r.detailJson ? { detail: JSON.parse(r.detailJson) as Record<string, unknown> } : {}),
    }));
  }
}
