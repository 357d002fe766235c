// Hands a job change a refresh found (engine/job-change.ts) to every trigger that takes one
// (`jobChanged`), each with the address it last asked about the person from. A trigger that
// fails is logged; the change stays on the record and in the digest either way.
import type { Logger } from '../logger.js';
import type { Models } from '../store/models.js';
import { recordId } from '../store/models.js';
import type { JobResult } from '../engine/types.js';
import type { TriggerContext, TriggerPlugin } from '../plugin/contract.js';

export interface JobChangeNoticeDeps {
  models: Models;
  logger: Logger;
  /** Enabled triggers running in this process. */
  triggers: () => { plugin: TriggerPlugin; ctx: TriggerContext }[];
}

export async function announceJobChange(deps: JobChangeNoticeDeps, result: JobResult): Promise<void> {
  const change = result.jobChange;
  const key = result.person?.key;
  if (!change || !key) return;
  const takers = deps.triggers().filter((t) => t.plugin.jobChanged);
  if (!takers.length) return;
  const doc = await deps.models.Person.findById(recordId(result.workspace, key), { askedBy: 1, display: 1 }).lean();
  const askedBy = (doc?.askedBy ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const t of takers) {
    const askedHere = Object.hasOwn(askedBy, t.plugin.id) ? askedBy[t.plugin.id] : undefined;
    try {
      await t.plugin.jobChanged!({ workspace: result.workspace, person: { key, display: doc?.display ?? result.display }, change, ...(askedHere ? { askedHere } : {}) }, t.ctx);
    } catch (err) {
      deps.logger.error({ err, jobId: result.jobId, trigger: t.plugin.id }, 'could not deliver a job change (it stays on the record)');
    }
  }
}
