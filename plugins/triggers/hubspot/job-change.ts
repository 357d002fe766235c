// A job change a refresh found (issue 21) written onto the HubSpot contacts enrichbot knows for
// the person (the objects it enriched or pushed): `enrichbot_job_change_date` (YYYY-MM-DD) and,
// when the company changed, `enrichbot_previous_company`. Only these two properties are written.
import type { JobChangeNotice } from '../../../src/sdk/index.js';
import { forPortal, type Hubspot } from './state.js';

export async function writeJobChange(h: Hubspot, notice: JobChangeNotice): Promise<string[]> {
  if (notice.workspace !== h.config.workspace) return [];
  const inputs = [...new Set([notice.person.display, notice.person.display.toLowerCase()])];
  const docs = await h.objects.find({ input: { $in: inputs } }).toArray();
  // `<portal>:contacts:<id>`, or `contacts:<id>` from before keys carried a portal (the first portal's).
  const found = docs
    .map((d) => /^(?:(\d+):)?contacts:(.+)$/.exec(String(d._id)))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ portalId: m[1] ?? h.config.portalIds[0], id: m[2] }));
  const { change } = notice;
  const moved = change.new.companyDomain || change.new.companyName;
  const previous = moved ? (change.old.companyName ?? change.old.companyDomain) : undefined;
  const properties: Record<string, string> = { enrichbot_job_change_date: change.at.slice(0, 10), ...(previous ? { enrichbot_previous_company: previous } : {}) };
  for (const { portalId, id } of found) await forPortal(h, portalId).api.call(`job change of contact ${id}`, (c) => c.crm.objects.basicApi.update('contacts', id, { properties }));
  return found.map((f) => f.id);
}
