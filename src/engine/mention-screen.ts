// Applies identity evidence (identity-evidence.ts) to the answers of a run: a person's web
// mentions are screened against what the run knows about the person when they arrive.
import type { LookupInput, MatchedResult } from '../plugin/contract.js';
import { describeRejected, screenMentions, type MentionIn } from './identity-evidence.js';
import type { WaterfallRequest } from './waterfall.js';

const FIELD = 'person.webMentions';

export function mentionScreen(input: LookupInput): WaterfallRequest['screen'] {
  return (result: MatchedResult) => {
    const list = (result.fields as Record<string, unknown>)[FIELD];
    if (!Array.isArray(list)) return { result };
    const who = { fullName: input.fullName, companyName: input.companyName, domain: input.domain, linkedinUrl: input.linkedinUrl };
    const { kept, rejected } = screenMentions(list.filter((m): m is MentionIn => !!m && typeof m === 'object' && typeof (m as MentionIn).url === 'string'), who);
    const others = Object.fromEntries(Object.entries(result.fields).filter(([k]) => k !== FIELD));
    const fields = kept.length ? { ...others, [FIELD]: kept } : others;
    const screened: MatchedResult | null = Object.keys(fields).length ? { ...result, fields } : null;
    if (!rejected.length) return { result: screened };
    const note = kept.length ? `${kept.length} kept, ${describeRejected(rejected)}` : `every page ${describeRejected(rejected).replace(/^\d+ rejected/, `(${rejected.length}) rejected`)}`;
    return { result: screened, rejected: note, rejectedCount: rejected.length, rejectedReasons: [...new Set(rejected.map((r) => r.reason))] };
  };
}

/** Stored mentions that carry evidence (older records' unchecked ones are left out). */
export function onlyEvidenced(value: unknown): unknown {
  return Array.isArray(value) ? value.filter((m) => m && typeof m === 'object' && typeof (m as { evidence?: unknown }).evidence === 'string') : value;
}
