// AI Ark Company Search (POST /api/developer-portal/v1/companies) used as a lookup by domain:
// request body, response schema and mapping to company fields. The answer is a Spring page
// ({content: [...], totalElements}); no company is an empty page. Field places follow the official
// ark-cli (top-level `link`, `location.headquarter`), with a fallback to the same keys under `summary`.
import { z } from 'zod';
import { clean, domainOf, dropEmpty, type Fields, httpUrl, linkedinUrl } from '../../../src/sdk/index.js';

const LinkSchema = z
  .object({
    website: z.string().nullish(),
    domain: z.string().nullish(),
    linkedin: z.string().nullish(),
    twitter: z.string().nullish(),
    facebook: z.string().nullish(),
    crunchbase: z.string().nullish(),
  })
  .loose();

const HeadquarterSchema = z.union([
  z.string(),
  z.object({ city: z.string().nullish(), state: z.string().nullish(), country: z.string().nullish(), raw_address: z.string().nullish() }).loose(),
]);
const LocationSchema = z.object({ headquarter: HeadquarterSchema.nullish() }).loose();
const TechnologySchema = z.object({ name: z.string().nullish(), category: z.string().nullish() }).loose();

const StaffSchema = z
  .object({
    total: z.number().nullish(),
    range: z.union([z.string(), z.object({ start: z.number().nullish(), end: z.number().nullish() }).loose()]).nullish(),
  })
  .loose();

export const CompanySchema = z
  .object({
    id: z.string().nullish(),
    summary: z
      .object({
        name: z.string().nullish(),
        legal_name: z.string().nullish(),
        description: z.string().nullish(),
        founded_year: z.number().nullish(),
        type: z.string().nullish(),
        industry: z.string().nullish(),
        staff: StaffSchema.nullish(),
        link: LinkSchema.nullish(),
        location: LocationSchema.nullish(),
        technologies: z.array(TechnologySchema).nullish(),
      })
      .loose()
      .nullish(),
    link: LinkSchema.nullish(),
    location: LocationSchema.nullish(),
    technologies: z.array(TechnologySchema).nullish(),
  })
  .loose();
export type AiArkCompany = z.infer<typeof CompanySchema>;

export const CompanyPageSchema = z.object({ content: z.array(CompanySchema), totalElements: z.number().nullish() }).loose();

/** One company by exact domain. `domain` is a plain filter: {"any": {"include": [...]}} (ark-cli FILTERS.md). */
export function companyByDomainBody(domain: string): Record<string, unknown> {
  return { page: 0, size: 1, account: { domain: { any: { include: [domain] } } } };
}

export function companyLink(c: AiArkCompany) {
  return c.link ?? c.summary?.link ?? undefined;
}

/** The domain the answer says the company has, from link.domain or else the website host. */
export function answeredDomain(c: AiArkCompany): string | undefined {
  const link = companyLink(c);
  return domainOf(link?.domain) ?? domainOf(link?.website);
}

function employeeRange(range: z.infer<typeof StaffSchema>['range']): string | undefined {
  if (typeof range === 'string') return clean(range);
  if (range && typeof range.start === 'number' && typeof range.end === 'number') return `${range.start}-${range.end}`;
  if (range && typeof range.start === 'number') return `${range.start}+`;
  return undefined;
}

function socialProfiles(link: z.infer<typeof LinkSchema> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const li = linkedinUrl(link?.linkedin, 'company');
  if (li) out.linkedin = li;
  for (const key of ['twitter', 'facebook', 'crunchbase'] as const) {
    const url = httpUrl(link?.[key]);
    if (url) out[key] = url;
  }
  return out;
}

export function mapCompany(c: AiArkCompany): Fields {
  const s = c.summary ?? {};
  const link = companyLink(c);
  const hq = (c.location ?? s.location)?.headquarter;
  const hqObject = hq && typeof hq === 'object' ? hq : undefined;
  const founded = s.founded_year;
  const total = s.staff?.total;
  const technologies = [...new Set((c.technologies ?? s.technologies ?? []).map((t) => clean(t.name)).filter((t): t is string => !!t && t.length <= 100))].slice(0, 500);
  return dropEmpty({
    'company.name': clean(s.name) ?? clean(s.legal_name),
    'company.domain': answeredDomain(c),
    'company.description': clean(s.description)?.slice(0, 4000),
    'company.industry': clean(s.industry),
    'company.employeeCount': typeof total === 'number' && Number.isFinite(total) && total >= 0 ? Math.round(total) : undefined,
    'company.employeeRange': employeeRange(s.staff?.range),
    'company.foundedYear': typeof founded === 'number' && Number.isInteger(founded) && founded >= 1600 && founded <= 2200 ? founded : undefined,
    'company.city': clean(hqObject?.city),
    'company.region': clean(hqObject?.state),
    'company.country': clean(hqObject?.country),
    'company.address': typeof hq === 'string' ? clean(hq) : clean(hqObject?.raw_address),
    'company.linkedinUrl': linkedinUrl(link?.linkedin, 'company'),
    'company.socialProfiles': socialProfiles(link ?? undefined),
    'company.technologies': technologies,
  });
}
