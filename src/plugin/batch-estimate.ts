// What a batch would cost before it runs (src/service/estimate.ts computes it): the shape
// triggers show (CLI, Slack's Run/Cancel, the API's dryRun), part of the plugin contract.
import type { FieldGroup } from '../engine/fields.js';

export interface GroupEstimate {
  group: FieldGroup;
  /** Rows whose request runs this group (duplicates and fresh records excluded). */
  rows: number;
  /** Provider answers that would come from the cache, at $0. */
  cachedAnswers: number;
  /** Calls that may be paid (at most one per provider per row). */
  paidCalls: number;
  expectedUsd: number;
  worstUsd: number;
}

export interface ProviderRate {
  provider: string;
  hitRate: number;
  /** Matches and misses seen in this workspace's ledger in the last 30 days; 0 means the prior. */
  calls: number;
}

export interface CapShare {
  capUsd: number | null;
  spentTodayUsd: number;
  /** Shares of the cap (0..): expected and worst case. Null without a cap. */
  expectedShare: number | null;
  worstShare: number | null;
}

export interface BatchEstimate {
  workspace: string;
  rows: number;
  rejected: number;
  duplicates: number;
  fresh: number;
  toRun: number;
  groups: GroupEstimate[];
  expectedUsd: number;
  worstUsd: number;
  providers: ProviderRate[];
  workspaceCap: CapShare;
  globalCap: CapShare;
}
