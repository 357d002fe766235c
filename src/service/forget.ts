// Forgetting a person or company: every document that holds something about the identity is
// deleted or scrubbed. The ledger keeps amounts and outcomes (spend figures stay right) but
// loses the raw answer, the input hash and the error text. Queued or paused jobs are cancelled
// first so no worker writes the record back.
import type { Identity } from '../engine/identity.js';
import type { Models } from '../store/models.js';
import type { ServiceModels } from '../store/service-models.js';
import { recordId } from '../store/models.js';
import type { Jobs } from './jobs.js';

export interface ForgetDeps {
  models: Models & ServiceModels;
  workspace: string;
  identity: Identity;
  /** Queued or paused jobs about the identity are cancelled first. */
  jobs: Pick<Jobs, 'cancel'>;
}

export async function forgetIdentity({ models, workspace, identity, jobs: cancelling }: ForgetDeps): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  const key = identity.key;
  const jobs = await models.Job.find({ workspace, identityKey: key }, { _id: 1, status: 1 }).lean();
  for (const j of jobs) if (['queued', 'paused'].includes(j.status)) await cancelling.cancel(String(j._id));
  const jobIds = jobs.map((j) => String(j._id));

  const ledgerRows = jobIds.length ? await models.Ledger.find({ jobId: { $in: jobIds } }, { _id: 1 }).lean() : [];
  const ledgerIds = ledgerRows.map((r) => String(r._id));
  removed.ledger = ledgerIds.length
    ? (await models.Ledger.updateMany({ _id: { $in: ledgerIds } }, { $unset: { raw: 1, inputHash: 1, error: 1, usage: 1, rawTruncated: 1, jobId: 1 } })).modifiedCount
    : 0;
  const cacheFilters: Record<string, unknown>[] = [{ workspace, identityKey: key }, { workspace, identityKeys: key }];
  if (ledgerIds.length) cacheFilters.push({ workspace, ledgerId: { $in: ledgerIds } });
  removed.provider_cache = (await models.Cache.deleteMany({ $or: cacheFilters })).deletedCount;

  if (identity.subject === 'person') removed.companies_scrubbed = await scrubCompanies(models, workspace, identity);
  removed.people = identity.subject === 'person' ? (await models.Person.deleteOne({ _id: recordId(workspace, key) })).deletedCount : 0;
  removed.companies = identity.subject === 'company' ? (await models.Company.deleteOne({ _id: recordId(workspace, key) })).deletedCount : 0;
  removed.enrich_jobs = jobIds.length ? (await models.Job.deleteMany({ _id: { $in: jobIds } })).deletedCount : 0;
  removed.batch_items = (
    await models.BatchItem.updateMany(
      { workspace, identityKey: key },
      { $set: { input: null, columnsJson: '{}', reason: 'forgotten at their request' }, $unset: { result: 1, identityKey: 1, jobId: 1 } },
    )
  ).modifiedCount;
  removed.activity = (await models.Activity.updateMany({ workspace, identityKey: key }, { $set: { subject: '[forgotten]' }, $unset: { identityKey: 1, detailJson: 1 } })).modifiedCount;
  return removed;
}

/**
 * A person's traces in company records: a record first filed while enriching them (named by their
 * input before that was fixed) and their address among the company's contact emails.
 */
async function scrubCompanies(models: Models, workspace: string, identity: Identity): Promise<number> {
  let n = 0;
  for (const c of await models.Company.find({ workspace, display: identity.display }, { _id: 1, key: 1 }).lean()) {
    await models.Company.updateOne({ _id: c._id }, { $set: { display: String(c.key).replace(/^company:(linkedin:|name:)?/, '') } });
    n++;
  }
  const emails = [identity.person?.workEmail, identity.person?.personalEmail].filter((e): e is string => !!e);
  for (const email of emails) {
    for (const c of await models.Company.find({ workspace, 'fields.contactEmails.value': email }).lean()) {
      const f = (c.fields as unknown as Record<string, { value: unknown }>).contactEmails;
      const list = Array.isArray(f?.value) ? (f.value as string[]).filter((e) => e.toLowerCase() !== email) : [];
      await models.Company.updateOne({ _id: c._id }, list.length ? { $set: { 'fields.contactEmails.value': list } } : { $unset: { 'fields.contactEmails': 1 } });
      n++;
    }
  }
  return n;
}
