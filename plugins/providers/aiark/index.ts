// AI Ark: company profile by domain (Company Search) and person profile by LinkedIn URL or name at
// a domain (People Search). Authenticated by the `X-TOKEN` header; the credits a call used come
// back in the `X-Credit` header. Docs: https://docs.ai-ark.com/ (reference/company-search-1,
// reference/people-search-1, docs/authentication, docs/rate-limits) and github.com/ai-ark-com/ark-cli.
import { z } from 'zod';
import { defineProvider, linkedinUrl, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { creditsFromHeader, costFromCredits } from './credits.js';
import { CompanyPageSchema, answeredDomain, companyByDomainBody, mapCompany } from './company.js';
import { PeoplePageSchema, inputName, mapPerson, nameAgrees, personBody } from './people.js';

const API = '/api/developer-portal/v1';

const ConfigSchema = z.object({
  /** AI Ark sells credits per plan; when set, each call's X-Credit is turned into its dollar cost. */
  usdPerCredit: z.number().min(0).optional(),
  /** How AI Ark matches the name: SMART also finds related terms, WORD needs the words, STRICT is exact. */
  nameMatchMode: z.enum(['SMART', 'WORD', 'STRICT']).default('WORD'),
  /** AI Ark reports no match score: documented defaults. */
  companyConfidence: z.number().min(0).max(1).default(0.8),
  linkedinConfidence: z.number().min(0).max(1).default(0.85),
  nameMatchConfidence: z.number().min(0).max(1).default(0.75),
});

function headers(apiKey: string | undefined): Record<string, string> {
  if (!apiKey) throw new ProviderError('auth', 'aiark: no API key; set AIARK_API_KEY');
  return { 'X-TOKEN': apiKey };
}

export default defineProvider({
  kind: 'provider',
  id: 'aiark',
  description: 'AI Ark: company profile (headcount, industry, founded year, HQ, technologies) by domain, and person profile by LinkedIn URL or name + domain.',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.ai-ark.com',
    // Billed per returned result (company 0.1 credit, person 0.5 credit, per ark-cli), so an empty
    // answer costs nothing. Dollar prices per credit are not published: placeholders to override.
    costs: {
      'company-search': { usd: 0.01, missCharged: false },
      'people-search': { usd: 0.05, missCharged: false },
    },
    // Documented: 5 requests/second, 300/minute, 18,000/hour per token.
    ratePerSecond: 5,
  },
  operations: [
    {
      name: 'company-search',
      needs: [['domain']],
      returns: [
        'company.name',
        'company.description',
        'company.industry',
        'company.employeeCount',
        'company.employeeRange',
        'company.foundedYear',
        'company.city',
        'company.region',
        'company.country',
        'company.address',
        'company.linkedinUrl',
        'company.socialProfiles',
        'company.technologies',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        const res = await ctx.http.request({
          method: 'POST',
          path: `${API}/companies`,
          headers: headers(ctx.settings.apiKey),
          json: companyByDomainBody(input.domain!),
          schema: CompanyPageSchema,
        });
        const credits = creditsFromHeader(res.headers);
        const billing = { usage: credits === undefined ? undefined : { credits }, costUsd: costFromCredits(credits, ctx.config.usdPerCredit) };
        if (res.kind === 'no_match' || !res.body.content.length) {
          return { outcome: 'no_match', reason: `AI Ark knows no company at ${input.domain}`, raw: res.raw, httpStatus: res.status, ...billing };
        }
        const company = res.body.content[0];
        // A filter AI Ark does not apply returns unfiltered rows with HTTP 200 (seen with
        // `industries`), so the answer must name the domain we asked about when it names one.
        const domain = answeredDomain(company);
        if (domain && domain !== input.domain && !domain.endsWith(`.${input.domain}`)) {
          return { outcome: 'no_match', reason: `AI Ark answered with ${domain}, not ${input.domain}`, raw: res.raw, httpStatus: res.status, ...billing };
        }
        const fields = mapCompany(company);
        if (fields['company.domain'] !== input.domain) delete fields['company.domain'];
        if (!Object.keys(fields).length) return { outcome: 'no_match', reason: 'AI Ark company holds no usable field', raw: res.raw, httpStatus: res.status, ...billing };
        return { outcome: 'matched', fields, confidence: ctx.config.companyConfidence, raw: res.raw, httpStatus: res.status, ...billing };
      },
    },
    {
      name: 'people-search',
      needs: [['linkedinUrl'], ['firstName', 'lastName', 'domain'], ['fullName', 'domain']],
      returns: [
        'person.fullName',
        'person.firstName',
        'person.lastName',
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
        const byLinkedin = Boolean(input.linkedinUrl);
        const res = await ctx.http.request({
          method: 'POST',
          path: `${API}/people`,
          headers: headers(ctx.settings.apiKey),
          json: personBody(input, ctx.config.nameMatchMode),
          schema: PeoplePageSchema,
        });
        const credits = creditsFromHeader(res.headers);
        const billing = { usage: credits === undefined ? undefined : { credits }, costUsd: costFromCredits(credits, ctx.config.usdPerCredit) };
        const miss = (reason: string): LookupResult => ({ outcome: 'no_match', reason, raw: res.raw, httpStatus: res.status, ...billing });
        if (res.kind === 'no_match' || !res.body.content.length) return miss('AI Ark found no such person');

        const person = res.body.content[0];
        if (byLinkedin) {
          const answered = linkedinUrl(person.link?.linkedin, 'person');
          if (answered && answered !== input.linkedinUrl) return miss(`AI Ark answered with another profile (${answered})`);
        } else {
          const total = res.body.totalElements ?? res.body.content.length;
          // Only a single match is an identification; the first of several is a guess.
          if (total > 1) return miss(`ambiguous: ${total} people named "${inputName(input)}" at ${input.domain}`);
          if (!nameAgrees(inputName(input)!, person)) return miss('AI Ark answered with a person of another name');
        }
        const fields = mapPerson(person);
        if (!Object.keys(fields).length) return miss('AI Ark person holds no usable field');
        return {
          outcome: 'matched',
          fields,
          confidence: byLinkedin ? ctx.config.linkedinConfidence : ctx.config.nameMatchConfidence,
          raw: res.raw,
          httpStatus: res.status,
          ...billing,
        };
      },
    },
  ],
});
