// A job change a refresh found (issue 21) written onto the HubSpot contacts enrichbot knows for
// the person (the objects it enriched or pushed): `enrichbot_job_change_date` (YYYY-MM-DD) and,
// when the company changed, `enrichbot_previous_company`. Only these two properties are written.
import type { JobChangeNotice } from '../../../src/sdk/index.js';
import type { Hubspot } from './state.js';

export async function writeJobChange(h: Hubspot, notice: JobChangeNotice): Promise<string[]> {
  if (notice.workspace !== h.config.workspace) return [];
  const inputs = [...new Set([notice.person.display, notice.person.display.toLowerCase()])];
  const docs = await h.objects.find({ input: { $in: inputs } }).toArray();
  const ids = docs.map((d) => String(d._id)).filter((id) => id.startsWith('contacts:')).map((id) => id.slice('contacts:'.length));
  const { change } = notice;
  const moved = change.new.companyDomain || change.new.companyName;
  const previous = moved ? (change.old.companyName ?? change.old.companyDomain) : undefined;
  const properties: Record<string, string> = { enrichbot_job_change_date: change.at.slice(0, 10), ...(previous ? { enrichbot_previous_company: previous } : {}) };
  for (const id of ids) await h.api.call(`job change of contact ${id}`, (c) => c.crm.objects.basicApi.update('contacts', id, { properties }));
  return ids;
}
