// Lookalike companies: candidates from every source in the lookalikes waterfall (Exa
// find-similar, Claude) are joined by domain, then each is checked by company providers (dns,
// website by default) through the same call path as any lookup (cache, ledger, caps). A
// candidate no provider could confirm stays marked unverified: nothing is shown as fact
// without a source.
import { normalizeDomain, registrableDomain } from './identity.js';
import { callProvider, type CallServices, type ProviderRuntime } from './provider-call.js';
import { chooseNeeds, inputFor, type Contribution } from './waterfall.js';
import type { ProviderOutcome } from './types.js';

export interface Lookalike {
  domain: string;
  name?: string;
  reason: string;
  verified: boolean;
  sources: string[];
}

export interface LookalikeSettings {
  max: number;
  verifyWith: string[];
}

export function joinCandidates(contributions: Contribution[], ownDomain: string | undefined, max: number): Lookalike[] {
  const byDomain = new Map<string, Lookalike>();
  for (const c of contributions) {
    const list = c.result.fields['company.lookalikes'];
    if (!Array.isArray(list)) continue;
    for (const item of list as Partial<Lookalike>[]) {
      let domain: string;
      try {
        domain = registrableDomain(normalizeDomain(String(item.domain ?? '')));
      } catch {
        continue;
      }
      if (domain === ownDomain || !item.reason) continue;
      const prev = byDomain.get(domain);
      if (prev) {
        for (const s of item.sources ?? [c.provider]) if (!prev.sources.includes(s)) prev.sources.push(s);
        prev.name ??= item.name;
      } else {
        byDomain.set(domain, { domain, name: item.name, reason: String(item.reason), verified: false, sources: [...(item.sources ?? [c.provider])] });
      }
    }
  }
  // Candidates two sources agree on come first.
  return [...byDomain.values()].sort((a, b) => b.sources.length - a.sources.length).slice(0, max);
}

export async function verifyCandidates(
  candidates: Lookalike[],
  settings: LookalikeSettings,
  providers: Map<string, ProviderRuntime>,
  ctx: { workspace: string; jobId?: string; runTag?: string; signal: AbortSignal },
  svc: CallServices,
): Promise<ProviderOutcome[]> {
  const outcomes: ProviderOutcome[] = [];
  const verifiers = settings.verifyWith.map((id) => providers.get(id)).filter((p): p is ProviderRuntime => !!p?.enabled);
  await Promise.all(
    candidates.map(async (cand) => {
      for (const provider of verifiers) {
        const op = provider.plugin.operations.find((o) => chooseNeeds(o, { domain: cand.domain }));
        if (!op) continue;
        const call = await callProvider({ provider, operation: op, input: inputFor(op, { domain: cand.domain }), group: 'lookalikes', workspace: ctx.workspace, jobId: ctx.jobId, runTag: ctx.runTag, signal: ctx.signal }, svc);
        outcomes.push({ ...call.outcome, reason: `verify ${cand.domain}${call.outcome.reason ? `: ${call.outcome.reason}` : ''}` });
        const r = call.result;
        if (r?.outcome !== 'matched') continue;
        // A domain that receives mail, or serves a homepage with company facts, exists as a company.
        const confirms = r.fields['company.acceptsMail'] === true || Object.keys(r.fields).some((f) => f !== 'company.acceptsMail' && f !== 'company.mxHosts' && f !== 'company.mailProvider');
        if (!confirms) continue;
        cand.verified = true;
        if (!cand.sources.includes(`verified:${provider.id}`)) cand.sources.push(`verified:${provider.id}`);
        const name = r.fields['company.name'];
        if (!cand.name && typeof name === 'string') cand.name = name;
        break;
      }
    }),
  );
  return outcomes;
}
