// Job-change detection (issue 21 item 2): a refresh whose providers say, confidently, that a
// person now works at another company or holds another title records a jobChange event with
// the old and new values, the sources and the date. Conservative on purpose: a confident source
// that still reports the stored value vetoes it, and `minSources` providers must agree.
import type { Contribution } from './waterfall.js';
import type { JobChange, StoredField } from './types.js';
import { normalizeDomain, registrableDomain } from './identity.js';
import { MANUAL_PROVIDER } from './merge.js';

export interface JobChangeSettings {
  enabled: boolean;
  /** Confidence a provider's answer needs to count (default: engine.minConfidence). */
  minConfidence: number;
  /** Providers that must agree on the new value (1: one confident source is enough). */
  minSources: number;
}

type Fields = Record<string, StoredField>;
type Aspect = 'companyDomain' | 'companyName' | 'title';

const LEGAL = /[\s,]+(inc|llc|ltd|limited|gmbh|ag|sa|sas|bv|plc|corp|corporation|co|company)\.?$/i;

function canon(aspect: Aspect, value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.trim()) return undefined;
  if (aspect === 'companyDomain') {
    try {
      return registrableDomain(normalizeDomain(value));
    } catch {
      return undefined;
    }
  }
  const s = value.toLowerCase().replace(/\s+/g, ' ').trim();
  return aspect === 'companyName' ? s.replace(LEGAL, '').replace(/[^\p{L}\p{N} ]/gu, '').trim() : s;
}

/** What the run's confident answers say about one stored value: unchanged, changed (to what, by whom) or unknown. */
function compare(aspect: Aspect, stored: StoredField | undefined, contributions: Contribution[], s: JobChangeSettings): { value: string; sources: string[] } | undefined {
  if (!stored || stored.provider === MANUAL_PROVIDER) return undefined;
  const old = canon(aspect, stored.value);
  if (!old) return undefined;
  const votes = new Map<string, { value: string; sources: Set<string> }>();
  for (const c of contributions) {
    const raw = (c.result.fields as Record<string, unknown>)[`person.${aspect}`];
    const confidence = c.result.fieldConfidence?.[`person.${aspect}` as keyof typeof c.result.fieldConfidence] ?? c.result.confidence;
    const value = canon(aspect, raw);
    if (!value || confidence < s.minConfidence) continue;
    // A confident source that still reports the stored value: no change.
    if (value === old) return undefined;
    const vote = votes.get(value) ?? { value: String(raw).trim(), sources: new Set<string>() };
    vote.sources.add(c.provider);
    votes.set(value, vote);
  }
  const best = [...votes.values()].sort((a, b) => b.sources.size - a.sources.size)[0];
  return best && best.sources.size >= s.minSources ? { value: best.value, sources: [...best.sources] } : undefined;
}

/**
 * The job change this run's answers show against the stored person, if any. `stored` must be
 * the record as it was before the run (an earlier enrichment), never this run's own answers.
 */
export function detectJobChange(stored: Fields, contributions: Contribution[], settings: JobChangeSettings, now: Date, jobId: string): JobChange | undefined {
  if (!settings.enabled) return undefined;
  // The company by its domain when both sides know one, else by its name.
  const byDomain = compare('companyDomain', stored.companyDomain, contributions, settings);
  const domainKnown = !!stored.companyDomain && contributions.some((c) => canon('companyDomain', (c.result.fields as Record<string, unknown>)['person.companyDomain']));
  const byName = domainKnown ? undefined : compare('companyName', stored.companyName, contributions, settings);
  // Providers word the same job differently ("VP Marketing", "Vice President, Marketing"): a new
  // title alone counts only from the provider that gave the stored one.
  const titleFrom = byDomain || byName ? contributions : contributions.filter((c) => c.provider === stored.title?.provider);
  const title = compare('title', stored.title, titleFrom, settings);
  if (!byDomain && !byName && !title) return undefined;
  const change: JobChange = { at: now.toISOString(), jobId, old: {}, new: {}, sources: [] };
  const add = (aspect: Aspect, found: { value: string; sources: string[] }) => {
    change.old[aspect] = String(stored[aspect]!.value);
    change.new[aspect] = found.value;
    for (const p of found.sources) if (!change.sources.includes(p)) change.sources.push(p);
  };
  if (byDomain) {
    add('companyDomain', byDomain);
    // The new employer's name, when a source that moved them gives one.
    const name = contributions.find((c) => byDomain.sources.includes(c.provider) && typeof (c.result.fields as Record<string, unknown>)['person.companyName'] === 'string');
    if (name) {
      if (stored.companyName) change.old.companyName = String(stored.companyName.value);
      change.new.companyName = String((name.result.fields as Record<string, unknown>)['person.companyName']);
    }
  }
  if (byName) add('companyName', byName);
  if (title) add('title', title);
  return change;
}

/** The stored fields a job change replaces: the person's company and title now read as the sources say. */
export function fieldsMovedBy(change: JobChange): string[] {
  const out: string[] = [];
  if (change.new.companyDomain) out.push('companyDomain');
  if (change.new.companyName) out.push('companyName');
  if (change.new.title) out.push('title', 'seniority', 'department');
  return out;
}
