// Apollo.io: person match (email, LinkedIn URL, or name + company) and organization enrichment by
// domain. Both authenticate with the `x-api-key` header. Docs: https://docs.apollo.io/reference
// (people-enrichment, organization-enrichment, rate-limits) and https://docs.apollo.io/docs/api-pricing.
import { z } from 'zod';
import { defineProvider, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { PeopleMatchResponseSchema, buildMatchParams, mapPerson } from './people.js';
import { OrganizationEnrichResponseSchema, mapOrganization } from './organization.js';

const ConfigSchema = z.object({
  /** Personal emails cost extra credits and are withheld in GDPR regions (Apollo docs). */
  revealPersonalEmails: z.boolean().default(false),
  /**
   * Apollo email_status values whose address is kept as person.workEmail. Anything else (unverified,
   * guessed, an echo of the input with status null) would stop the workEmail waterfall on a guess.
   */
  acceptEmailStatuses: z.array(z.string()).default(['verified']),
  /** Apollo reports no match score: documented defaults. */
  confidence: z.number().min(0).max(1).default(0.85),
  nameMatchConfidence: z.number().min(0).max(1).default(0.75),
  organizationConfidence: z.number().min(0).max(1).default(0.85),
});

function headers(apiKey: string | undefined): Record<string, string> {
  if (!apiKey) throw new ProviderError('auth', 'apollo: no API key; set APOLLO_API_KEY');
  return { 'x-api-key': apiKey, 'cache-control': 'no-cache' };
}

export default defineProvider({
  kind: 'provider',
  id: 'apollo',
  description: 'Apollo.io: person match (title, seniority, location, verified work email) and organization enrichment by domain.',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.apollo.io',
    // Apollo meters credits, not dollars, and prices credits per plan: placeholders to override.
    // Misses are free: "If no credit-consuming data is found, the request consumes 0 credits".
    costs: {
      'people-match': { usd: 0.1, missCharged: false },
      'organization-enrich': { usd: 0.05, missCharged: false },
    },
    // Enrichment endpoints: 1,000 requests/minute on paid plans (Free: 50/min, 200/hour).
    ratePerSecond: 15,
  },
  operations: [
    {
      name: 'people-match',
      needs: [['workEmail'], ['personalEmail'], ['linkedinUrl'], ['firstName', 'lastName', 'domain'], ['fullName', 'domain'], ['firstName', 'lastName', 'companyName'], ['fullName', 'companyName']],
      returns: [
        'person.title',
        'person.seniority',
        'person.department',
        'person.fullName',
        'person.firstName',
        'person.lastName',
        'person.linkedinUrl',
        'person.city',
        'person.region',
        'person.country',
        'person.companyName',
        'person.companyDomain',
        'person.workEmail',
        'person.workEmailStatus',
        'person.personalEmail',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        const res = await ctx.http.request({
          method: 'POST',
          path: '/api/v1/people/match',
          headers: headers(ctx.settings.apiKey),
          query: buildMatchParams(input, ctx.config.revealPersonalEmails),
          schema: PeopleMatchResponseSchema,
        });
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'Apollo answered not found', raw: res.raw, httpStatus: res.status };
        if (!res.body.person) return { outcome: 'no_match', reason: 'Apollo matched no person', raw: res.raw, httpStatus: res.status };
        const fields = mapPerson(res.body.person, ctx.config);
        if (!Object.keys(fields).length) return { outcome: 'no_match', reason: 'Apollo person holds no usable field', raw: res.raw, httpStatus: res.status };
        const strongId = Boolean(input.workEmail || input.personalEmail || input.linkedinUrl);
        return { outcome: 'matched', fields, confidence: strongId ? ctx.config.confidence : ctx.config.nameMatchConfidence, raw: res.raw, httpStatus: res.status };
      },
    },
    {
      name: 'organization-enrich',
      needs: [['domain']],
      returns: [
        'company.name',
        'company.description',
        'company.industry',
        'company.employeeCount',
        'company.revenueRange',
        'company.foundedYear',
        'company.city',
        'company.region',
        'company.country',
        'company.address',
        'company.phone',
        'company.linkedinUrl',
        'company.socialProfiles',
        'company.technologies',
        'company.ticker',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        const res = await ctx.http.request({
          method: 'GET',
          path: '/api/v1/organizations/enrich',
          query: { domain: input.domain },
          headers: headers(ctx.settings.apiKey),
          schema: OrganizationEnrichResponseSchema,
        });
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'Apollo answered not found', raw: res.raw, httpStatus: res.status };
        if (res.body.organization === undefined && Object.keys(res.body).length > 0) {
          // The documented miss is an empty object (or organization: null); anything else without
          // an organization is an answer we do not understand, not a miss to cache.
          throw new ProviderError('invalid_response', 'apollo: the answer has no organization and is not the documented empty miss; the raw body is kept in the ledger', { httpStatus: res.status, raw: res.raw });
        }
        if (!res.body.organization) return { outcome: 'no_match', reason: `Apollo knows no organization at ${input.domain}`, raw: res.raw, httpStatus: res.status };
        const fields = mapOrganization(res.body.organization);
        // Apollo may answer with a parent company under another primary domain: keep its facts,
        // but never let it rename the subject's domain.
        if (fields['company.domain'] !== input.domain) delete fields['company.domain'];
        if (!Object.keys(fields).length) return { outcome: 'no_match', reason: 'Apollo organization holds no usable field', raw: res.raw, httpStatus: res.status };
        return { outcome: 'matched', fields, confidence: ctx.config.organizationConfidence, raw: res.raw, httpStatus: res.status };
      },
    },
  ],
});
