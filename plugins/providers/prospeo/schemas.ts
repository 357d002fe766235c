// Shapes of Prospeo's /enrich-person and /enrich-company answers, as documented at
// https://prospeo.io/api-docs/enrich-person and /enrich-company. "Any property can be null", so
// every leaf is nullish; unknown keys are kept (the raw body goes to the ledger anyway).
import { z } from 'zod';

const str = z.string().nullish();
const num = z.number().nullish();

export const LocationSchema = z
  .object({ country: str, country_code: str, state: str, city: str, raw_address: str })
  .loose()
  .nullish();

export const JobSchema = z
  .object({
    title: str,
    company_name: str,
    current: z.boolean().nullish(),
    departments: z.array(z.string()).nullish(),
    seniority: str,
    job_key: str,
  })
  .loose();

/** `status` is VERIFIED or UNAVAILABLE in the person-object docs; other values are tolerated. */
export const EmailSchema = z
  .object({ status: str, revealed: z.boolean().nullish(), email: str, verification_method: str, email_mx_provider: str })
  .loose()
  .nullish();

export const PersonSchema = z
  .object({
    person_id: str,
    first_name: str,
    last_name: str,
    full_name: str,
    linkedin_url: str,
    current_job_title: str,
    current_job_key: str,
    headline: str,
    job_history: z.array(JobSchema).nullish(),
    email: EmailSchema,
    location: LocationSchema,
  })
  .loose();

export const CompanySchema = z
  .object({
    company_id: str,
    name: str,
    website: str,
    domain: str,
    description: str,
    description_seo: str,
    description_ai: str,
    industry: str,
    employee_count: num,
    employee_range: str,
    location: LocationSchema,
    sic_codes: z.array(z.string()).nullish(),
    linkedin_url: str,
    twitter_url: str,
    facebook_url: str,
    crunchbase_url: str,
    instagram_url: str,
    youtube_url: str,
    phone_hq: z.object({ phone_hq: str, phone_hq_international: str }).loose().nullish(),
    founded: num,
    revenue_range: z.object({ min: num, max: num }).loose().nullish(),
    revenue_range_printed: str,
    technology: z.object({ technology_names: z.array(z.string()).nullish() }).loose().nullish(),
  })
  .loose();

export const EnrichPersonResponseSchema = z
  .object({ error: z.literal(false).optional(), free_enrichment: z.boolean().nullish(), person: PersonSchema, company: CompanySchema.nullish() })
  .loose();

export const EnrichCompanyResponseSchema = z
  .object({ error: z.literal(false).optional(), free_enrichment: z.boolean().nullish(), company: CompanySchema })
  .loose();

export type ProspeoPerson = z.infer<typeof PersonSchema>;
export type ProspeoCompany = z.infer<typeof CompanySchema>;
export type ProspeoJob = z.infer<typeof JobSchema>;
