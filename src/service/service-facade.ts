// What a trigger holds of the service: the EnrichService's methods bound to the one service, and
// nothing else, so no plugin can walk from its context to the config (and another plugin's API
// key), the store, or the service's internals (validate, cancelJob, jobFinished, close).
import type { EnrichService } from '../plugin/service.js';

/**
 * Every method of EnrichService, once. The mapped type ties this list to the interface: a method
 * added to EnrichService and not here fails the type check, and so does one here that it lacks.
 */
const METHODS: { readonly [K in keyof EnrichService]-?: true } = {
  submit: true,
  submitBatch: true,
  estimate: true,
  keepEstimate: true,
  batchConfirmAboveUsd: true,
  status: true,
  cancel: true,
  waitFor: true,
  waitForBatch: true,
  onBatchProgress: true,
  results: true,
  ageingRecords: true,
  record: true,
  correct: true,
  forget: true,
  unforget: true,
  isForgotten: true,
  spend: true,
  activity: true,
  logActivity: true,
  push: true,
  conflicts: true,
  notify: true,
  alert: true,
  dailyReport: true,
  spendSeries: true,
  queueHealth: true,
  providerOutages: true,
  providerStatus: true,
  breakerStates: true,
  capUsage: true,
  listJobs: true,
  listBatches: true,
  usage: true,
};

export const SERVICE_METHODS = Object.freeze(Object.keys(METHODS) as (keyof EnrichService)[]);

/** A frozen object with no prototype holding each EnrichService method, called on `service`. */
export function serviceFacade(service: EnrichService): EnrichService {
  const facade = Object.create(null) as Record<string, unknown>;
  for (const m of SERVICE_METHODS) {
    const fn = service[m] as (...args: unknown[]) => unknown;
    facade[m] = (...args: unknown[]) => fn.apply(service, args);
  }
  return Object.freeze(facade) as unknown as EnrichService;
}
