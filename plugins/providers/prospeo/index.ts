// Prospeo (paid): person enrichment (profile + verified work email) from a LinkedIn URL or a name
// at a company, and company enrichment from a domain or company LinkedIn page. Uses the
// /enrich-person and /enrich-company endpoints that replaced the finder endpoints removed on
// 2026-03-01. Docs: https://prospeo.io/api-docs/enrich-person, /enrich-company.
import { z } from 'zod';
import { defined, defineProvider, type LookupResult } from '../../../src/sdk/index.js';
import { callProspeo } from './prospeo-call.js';
import { EnrichCompanyResponseSchema, EnrichPersonResponseSchema } from './schemas.js';
import { mapPerson } from './map-person.js';
import { mapCompany } from './map-company.js';
import { prospeoBalance } from './balance.js';

const ConfigSchema = z.object({
  /** Prospeo's only_verified_email: answer NO_MATCH (free) unless the person has a verified email. */
  onlyVerifiedEmail: z.boolean().default(false),
  /** Prospeo gives no score. Confidence of a match found by LinkedIn URL or company website/domain. */
  matchConfidence: z.number().min(0).max(1).default(0.9),
  /** Confidence of a person matched by name + company name only (Prospeo warns names collide). */
  nameOnlyMatchConfidence: z.number().min(0).max(1).default(0.75),
  /** Field confidence of an email Prospeo marks VERIFIED. */
  verifiedEmailConfidence: z.number().min(0).max(1).default(0.95),
});

/** Re-enriching a record is free for the account's lifetime; `free_enrichment` says so. */
function billing(free: boolean | null | undefined): Pick<LookupResult, 'costUsd' | 'usage'> {
  return free ? { costUsd: 0, usage: { credits: 0 } } : { usage: { credits: 1 } };
}

export default defineProvider({
  kind: 'provider',
  id: 'prospeo',
  description: 'Prospeo person enrichment (profile, title, location, verified work email) and company enrichment (firmographics).',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.prospeo.io',
    // 1 credit per match, misses free; $0.039/credit is the Starter plan ($39 for 1,000 credits).
    costs: {
      'enrich-person': { usd: 0.039, missCharged: false },
      'enrich-company': { usd: 0.039, missCharged: false },
    },
    // Enrich endpoints on the Starter and Growth plans: 5 requests/second (Pro: 30).
    ratePerSecond: 5,
  },
  // The account's credits, read on a schedule (free endpoint).
  balance: prospeoBalance,
  operations: [
    {
      name: 'enrich-person',
      needs: [['linkedinUrl'], ['firstName', 'lastName', 'domain'], ['firstName', 'lastName', 'companyName']],
      returns: [
        'person.workEmail',
        'person.workEmailStatus',
        'person.firstName',
        'person.lastName',
        'person.fullName',
        'person.title',
        'person.seniority',
        'person.department',
        'person.linkedinUrl',
        'person.city',
        'person.region',
        'person.country',
        'person.companyName',
        'person.companyDomain',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        // Every datapoint we have is sent: Prospeo matches better with more of them.
        const data = defined({
          linkedin_url: input.linkedinUrl,
          first_name: input.firstName,
          last_name: input.lastName,
          company_website: input.domain,
          company_name: input.companyName,
        });
        const res = await callProspeo(ctx, '/enrich-person', { only_verified_email: ctx.config.onlyVerifiedEmail, data }, EnrichPersonResponseSchema);
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'Prospeo has no person matching these datapoints', raw: res.raw, httpStatus: res.status };
        const fields = mapPerson(res.body.person, res.body.company);
        if (!Object.keys(fields).length) return { outcome: 'no_match', reason: 'Prospeo matched a record without usable person fields', raw: res.raw, httpStatus: res.status, ...billing(res.body.free_enrichment) };
        const strong = Boolean(data.linkedin_url || data.company_website);
        return {
          outcome: 'matched',
          fields,
          confidence: strong ? ctx.config.matchConfidence : ctx.config.nameOnlyMatchConfidence,
          fieldConfidence: fields['person.workEmail'] ? { 'person.workEmail': ctx.config.verifiedEmailConfidence, 'person.workEmailStatus': ctx.config.verifiedEmailConfidence } : undefined,
          raw: res.raw,
          httpStatus: res.status,
          ...billing(res.body.free_enrichment),
        };
      },
    },
    {
      name: 'enrich-company',
      needs: [['domain'], ['companyLinkedinUrl']],
      returns: [
        'company.name',
        'company.domain',
        'company.description',
        'company.industry',
        'company.employeeCount',
        'company.employeeRange',
        'company.revenueRange',
        'company.foundedYear',
        'company.city',
        'company.region',
        'company.country',
        'company.address',
        'company.linkedinUrl',
        'company.socialProfiles',
        'company.phone',
        'company.technologies',
        'company.sicCode',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        const data = defined({ company_website: input.domain, company_linkedin_url: input.companyLinkedinUrl });
        const res = await callProspeo(ctx, '/enrich-company', { data }, EnrichCompanyResponseSchema);
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'Prospeo has no company matching these datapoints', raw: res.raw, httpStatus: res.status };
        const fields = mapCompany(res.body.company);
        if (!Object.keys(fields).length) return { outcome: 'no_match', reason: 'Prospeo matched a record without usable company fields', raw: res.raw, httpStatus: res.status, ...billing(res.body.free_enrichment) };
        return { outcome: 'matched', fields, confidence: ctx.config.matchConfidence, raw: res.raw, httpStatus: res.status, ...billing(res.body.free_enrichment) };
      },
    },
  ],
});
