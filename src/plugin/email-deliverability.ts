// How a work email's status reads on a card (CLI and Slack). At a catch-all domain the mail
// server accepts every address, so no verifier can tell a real mailbox: "valid" is never shown
// there, whatever a finder said (issue 20).
import type { JobResult, RecordView } from '../engine/types.js';

export const CATCH_ALL_TEXT = 'catch-all: deliverability unknown';

function atCatchAllDomain(r: Pick<JobResult, 'person' | 'company'>): boolean {
  const email = r.person?.fields.workEmail?.value;
  const domain = r.company?.fields.domain?.value;
  if (r.company?.fields.emailCatchAll?.value !== true || typeof email !== 'string' || typeof domain !== 'string') return false;
  const host = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return host === domain || host.endsWith(`.${domain}`);
}

/** The person as a card shows them: a work email at a catch-all domain reads "catch-all: deliverability unknown". */
export function personForCard(r: Pick<JobResult, 'person' | 'company'>): RecordView | undefined {
  const person = r.person;
  const status = person?.fields.workEmailStatus;
  if (!person || !(status?.value === 'catch_all' || atCatchAllDomain(r))) return person;
  const source = status ?? r.company!.fields.emailCatchAll!;
  const { raw: _r, alternatives: _a, ...shown } = source;
  return { ...person, fields: { ...person.fields, workEmailStatus: { ...shown, value: CATCH_ALL_TEXT } } };
}
