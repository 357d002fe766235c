// Benchmark providers: stand-ins with the real plugins' ids, operations, inputs ("needs"),
// fields ("returns") and prices, whose lookups POST to the fake provider and answer a match with
// valid values for every field they return. So a request runs through the default waterfalls
// exactly as it would with every provider answering at once. Pacing is off unless asked for.
import { z } from 'zod';
import { defineProvider, type LookupResult, type ProviderPlugin } from '../../src/plugin/contract.js';
import type { FieldPath } from '../../src/engine/fields.js';

/** One valid value per canonical field. */
const SAMPLE: Record<FieldPath, unknown> = {
  'person.firstName': 'Jane',
  'person.lastName': 'Doe',
  'person.fullName': 'Jane Doe',
  'person.title': 'Head of Operations',
  'person.seniority': 'head',
  'person.department': 'operations',
  'person.workEmail': 'jane.doe@acme.example',
  'person.workEmailStatus': 'valid',
  'person.personalEmail': 'jane.doe@mail.example',
  'person.phone': '+1 415 555 0100',
  'person.linkedinUrl': 'https://www.linkedin.com/in/jane-doe-acme',
  'person.city': 'San Francisco',
  'person.region': 'California',
  'person.country': 'US',
  'person.companyName': 'Acme Robotics',
  'person.companyDomain': 'acme.example',
  'person.webMentions': [{ title: 'Jane Doe joins Acme', url: 'https://news.example/jane' }],
  'person.summary': 'Jane Doe runs operations at Acme Robotics.',
  'company.name': 'Acme Robotics',
  'company.domain': 'acme.example',
  'company.description': 'Acme Robotics builds warehouse robots.',
  'company.industry': 'Robotics',
  'company.employeeCount': 42,
  'company.employeeRange': '11-50',
  'company.revenueRange': '$1M-$10M',
  'company.foundedYear': 2015,
  'company.city': 'San Francisco',
  'company.region': 'California',
  'company.country': 'US',
  'company.linkedinUrl': 'https://www.linkedin.com/company/acme-robotics',
  'company.socialProfiles': { twitter: 'https://x.com/acme' },
  'company.contactEmails': ['hello@acme.example'],
  'company.phone': '+1 415 555 0199',
  'company.technologies': ['Kubernetes', 'PostgreSQL'],
  'company.ticker': 'ACME',
  'company.secCik': '0000123456',
  'company.sicCode': '3569',
  'company.address': '1 Market St, San Francisco, CA',
  'company.recentFilings': [{ form: '10-K', filedAt: '2026-03-01', accession: '0000123456-26-000001' }],
  'company.insiderFilingCount90d': 3,
  'company.acceptsMail': true,
  'company.emailCatchAll': false,
  'company.mailProvider': 'Google Workspace',
  'company.mxHosts': ['aspmx.l.google.com'],
  'company.webMentions': [{ title: 'Acme raises a round', url: 'https://news.example/acme' }],
  'company.lookalikes': [{ domain: 'rival.example', reason: 'also builds warehouse robots', verified: true, sources: ['bench'] }],
  'company.summary': 'Acme Robotics builds warehouse robots in San Francisco.',
};

const Answer = z.object({ found: z.boolean() }).loose();

/** A stand-in for `real`: same id, operations, needs, returns and prices; answers from `path`. */
export function standIn(real: ProviderPlugin, opts: { path?: string; ratePerSecond?: number } = {}): ProviderPlugin {
  return defineProvider({
    kind: 'provider',
    id: real.id,
    description: `benchmark stand-in for ${real.id}`,
    configSchema: z.object({}).loose(),
    requiresApiKey: false,
    defaults: { costs: real.defaults.costs, ratePerSecond: opts.ratePerSecond },
    operations: real.operations.map((op) => ({
      name: op.name,
      needs: op.needs,
      returns: op.returns,
      async lookup(input, ctx): Promise<LookupResult> {
        const res = await ctx.http.request({ method: 'POST', path: opts.path ?? `/instant/${real.id}/${op.name}`, json: input, schema: Answer });
        if (res.kind === 'no_match' || !res.body.found) return { outcome: 'no_match', raw: res.raw, httpStatus: res.status };
        return { outcome: 'matched', fields: Object.fromEntries(op.returns.map((f) => [f, SAMPLE[f]])), confidence: 0.95, raw: res.raw, httpStatus: res.status };
      },
    })),
  }) as ProviderPlugin;
}

/** A one-operation company provider (the company case and the pacing case). */
export function companyProvider(id: string, opts: { path?: string; ratePerSecond?: number } = {}): ProviderPlugin {
  return standIn(
    defineProvider({
      kind: 'provider',
      id,
      description: id,
      configSchema: z.object({}).loose(),
      requiresApiKey: false,
      defaults: { costs: { lookup: { usd: 0, missCharged: false } } },
      operations: [{ name: 'lookup', needs: [['domain']], returns: ['company.name'], lookup: async () => ({ outcome: 'no_match' }) }],
    }) as ProviderPlugin,
    opts,
  );
}

/** The real provider plugins (compiled alongside this script), by id. */
export async function realProviders(ids: string[]): Promise<ProviderPlugin[]> {
  return Promise.all(ids.map(async (id) => (await import(`../../plugins/providers/${id}/index.js`)).default as ProviderPlugin));
}
