// Maps Prospeo's person object (and the current company it comes with) to canonical person
// fields. The work email is only taken when Prospeo marks it VERIFIED and it is not masked.
import { defined, domainOf, linkedinUrl, workEmail, type FieldPath } from '../../../src/sdk/index.js';
import type { ProspeoCompany, ProspeoJob, ProspeoPerson } from './schemas.js';
import { text } from './canonical.js';

/** The main current job: the one `current_job_key` names, else the first marked current. */
export function currentJob(person: ProspeoPerson): ProspeoJob | undefined {
  const jobs = person.job_history ?? [];
  return (person.current_job_key ? jobs.find((j) => j.job_key === person.current_job_key) : undefined) ?? jobs.find((j) => j.current);
}

/** Prospeo's email object -> the revealed, verified address, or undefined. */
export function verifiedEmail(person: ProspeoPerson): string | undefined {
  const e = person.email;
  if (!e || e.revealed === false || e.status?.toUpperCase() !== 'VERIFIED') return undefined;
  return workEmail(e.email);
}

export function mapPerson(person: ProspeoPerson, company: ProspeoCompany | null | undefined): Partial<Record<FieldPath, unknown>> {
  const job = currentJob(person);
  const workEmail = verifiedEmail(person);
  return defined({
    'person.firstName': text(person.first_name),
    'person.lastName': text(person.last_name),
    'person.fullName': text(person.full_name),
    'person.title': text(person.current_job_title) ?? text(job?.title),
    'person.seniority': text(job?.seniority),
    'person.department': text(job?.departments?.[0]),
    'person.linkedinUrl': linkedinUrl(person.linkedin_url, 'person'),
    'person.city': text(person.location?.city),
    'person.region': text(person.location?.state),
    'person.country': text(person.location?.country),
    'person.companyName': text(company?.name) ?? text(job?.company_name),
    'person.companyDomain': domainOf(company?.domain),
    'person.workEmail': workEmail,
    'person.workEmailStatus': workEmail ? 'valid' : undefined,
  });
}
