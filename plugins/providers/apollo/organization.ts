// Apollo Organization Enrichment (GET /api/v1/organizations/enrich?domain=): schema and mapping
// to company fields. An unknown domain answers 200 without an `organization` (or with null).
import { z } from 'zod';
import { clean, domainOf, dropEmpty, type Fields, httpUrl, linkedinUrl } from '../../../src/sdk/index.js';

export const OrganizationSchema = z
  .object({
    name: z.string().nullish(),
    website_url: z.string().nullish(),
    primary_domain: z.string().nullish(),
    linkedin_url: z.string().nullish(),
    twitter_url: z.string().nullish(),
    facebook_url: z.string().nullish(),
    phone: z.string().nullish(),
    sanitized_phone: z.string().nullish(),
    primary_phone: z.object({ number: z.string().nullish() }).loose().nullish(),
    founded_year: z.number().nullish(),
    publicly_traded_symbol: z.string().nullish(),
    industry: z.string().nullish(),
    estimated_num_employees: z.number().nullish(),
    raw_address: z.string().nullish(),
    city: z.string().nullish(),
    state: z.string().nullish(),
    country: z.string().nullish(),
    short_description: z.string().nullish(),
    seo_description: z.string().nullish(),
    annual_revenue_printed: z.string().nullish(),
    annual_revenue: z.number().nullish(),
    technology_names: z.array(z.string()).nullish(),
  })
  .loose();
export type ApolloOrganization = z.infer<typeof OrganizationSchema>;

export const OrganizationEnrichResponseSchema = z.object({ organization: OrganizationSchema.nullish() }).loose();

/** Apollo masks digits it has not unlocked ("202374XXXX"): a masked number is no number. */
const unmaskedPhone = (raw: string | null | undefined) => {
  const v = clean(raw);
  return v && !/[xX*•]/.test(v) ? v : undefined;
};

const wholeYear = (n: number | null | undefined) => (typeof n === 'number' && Number.isInteger(n) && n >= 1600 && n <= 2200 ? n : undefined);
const count = (n: number | null | undefined) => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined);

function socialProfiles(o: ApolloOrganization): Record<string, string> {
  const out: Record<string, string> = {};
  const li = linkedinUrl(o.linkedin_url, 'company');
  if (li) out.linkedin = li;
  const tw = httpUrl(o.twitter_url);
  if (tw) out.twitter = tw;
  const fb = httpUrl(o.facebook_url);
  if (fb) out.facebook = fb;
  return out;
}

export function mapOrganization(o: ApolloOrganization): Fields {
  const technologies = [...new Set((o.technology_names ?? []).map((t) => clean(t)).filter((t): t is string => !!t && t.length <= 100))].slice(0, 500);
  // Apollo gives one revenue estimate ("10M", USD), not a band; it is stored as text in revenueRange.
  const revenue = clean(o.annual_revenue_printed);
  return dropEmpty({
    'company.name': clean(o.name),
    'company.domain': domainOf(o.primary_domain) ?? domainOf(o.website_url),
    'company.description': clean(o.short_description) ?? clean(o.seo_description),
    'company.industry': clean(o.industry),
    'company.employeeCount': count(o.estimated_num_employees),
    'company.revenueRange': revenue ? `$${revenue}` : undefined,
    'company.foundedYear': wholeYear(o.founded_year),
    'company.city': clean(o.city),
    'company.region': clean(o.state),
    'company.country': clean(o.country),
    'company.address': clean(o.raw_address),
    'company.phone': unmaskedPhone(o.sanitized_phone) ?? unmaskedPhone(o.primary_phone?.number) ?? unmaskedPhone(o.phone),
    'company.linkedinUrl': linkedinUrl(o.linkedin_url, 'company'),
    'company.socialProfiles': socialProfiles(o),
    'company.technologies': technologies,
    'company.ticker': clean(o.publicly_traded_symbol)?.slice(0, 10),
  });
}
