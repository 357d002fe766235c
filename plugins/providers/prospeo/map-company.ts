// Maps Prospeo's company object to canonical company fields. Descriptions fall back from the
// company's own text to Prospeo's SEO and AI summaries; revenue is printed from its min/max.
import { defined, domainOf, linkedinUrl, type FieldPath } from '../../../src/sdk/index.js';
import type { ProspeoCompany } from './schemas.js';
import { httpUrl, text, usd } from './canonical.js';

function revenueRange(company: ProspeoCompany): string | undefined {
  const min = company.revenue_range?.min;
  const max = company.revenue_range?.max;
  if (typeof min === 'number' && typeof max === 'number' && min >= 0 && max >= min) return `${usd(min)}-${usd(max)}`;
  return text(company.revenue_range_printed);
}

function socialProfiles(company: ProspeoCompany): Record<string, string> | undefined {
  const profiles = defined({
    linkedin: linkedinUrl(company.linkedin_url, 'company'),
    twitter: httpUrl(company.twitter_url),
    facebook: httpUrl(company.facebook_url),
    crunchbase: httpUrl(company.crunchbase_url),
    instagram: httpUrl(company.instagram_url),
    youtube: httpUrl(company.youtube_url),
  }) as Record<string, string>;
  return Object.keys(profiles).length ? profiles : undefined;
}

function wholeNumber(value: number | null | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

export function mapCompany(company: ProspeoCompany): Partial<Record<FieldPath, unknown>> {
  const technologies = (company.technology?.technology_names ?? []).map((t) => t.trim()).filter((t) => t && t.length <= 100);
  const sic = text(company.sic_codes?.[0]);
  return defined({
    'company.name': text(company.name),
    'company.domain': domainOf(company.domain) ?? domainOf(company.website),
    'company.description': text(company.description, 4000) ?? text(company.description_ai, 4000) ?? text(company.description_seo, 4000),
    'company.industry': text(company.industry),
    'company.employeeCount': wholeNumber(company.employee_count, 0),
    'company.employeeRange': text(company.employee_range),
    'company.revenueRange': revenueRange(company),
    'company.foundedYear': wholeNumber(company.founded, 1600, 2200),
    'company.city': text(company.location?.city),
    'company.region': text(company.location?.state),
    'company.country': text(company.location?.country),
    'company.address': text(company.location?.raw_address),
    'company.linkedinUrl': linkedinUrl(company.linkedin_url, 'company'),
    'company.socialProfiles': socialProfiles(company),
    'company.phone': text(company.phone_hq?.phone_hq ?? company.phone_hq?.phone_hq_international, 40),
    'company.technologies': technologies.length ? technologies.slice(0, 500) : undefined,
    'company.sicCode': sic && sic.length <= 10 ? sic : undefined,
  });
}
