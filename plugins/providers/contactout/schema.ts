// The shape of ContactOut's People Enrich answer, checked before anything is mapped.
// The docs disagree with themselves: the example body uses snake_case arrays (work_email: [...])
// while the field table lists camelCase strings (workEmail, workEmailStatus), so both are accepted.
import { z } from 'zod';

const stringOrList = z.union([z.string(), z.array(z.string().nullable())]).nullish();

const ExperienceSchema = z
  .object({
    title: z.string().nullish(),
    company_name: z.string().nullish(),
    is_current: z.boolean().nullish(),
  })
  .loose();

const CompanySchema = z
  .object({
    name: z.string().nullish(),
    domain: z.string().nullish(),
    email_domain: z.string().nullish(),
    website: z.string().nullish(),
  })
  .loose();

export const ProfileSchema = z
  .object({
    // snake_case, as in the documented example body
    url: z.string().nullish(),
    email: stringOrList,
    work_email: stringOrList,
    personal_email: stringOrList,
    work_email_status: z.union([z.string(), z.record(z.string(), z.string().nullable())]).nullish(),
    full_name: z.string().nullish(),
    job_function: z.string().nullish(),
    // camelCase, as in the documented field table
    workEmail: stringOrList,
    workEmailStatus: z.string().nullish(),
    fullName: z.string().nullish(),
    linkedinUrl: z.string().nullish(),
    jobFunction: z.string().nullish(),
    // both spellings agree on these
    phone: stringOrList,
    headline: z.string().nullish(),
    seniority: z.string().nullish(),
    country: z.string().nullish(),
    company: CompanySchema.nullish(),
    experience: z.array(ExperienceSchema).nullish(),
  })
  .loose();
export type ContactOutProfile = z.infer<typeof ProfileSchema>;

/**
 * A found person has a profile object; the LinkedIn endpoints answer `profile: []` for "nothing".
 * `profile` stays optional here so the plugin can tell a missing one (an error) from a miss.
 */
export const EnrichResponseSchema = z
  .object({
    status_code: z.number().int().optional(),
    profile: z.union([ProfileSchema, z.array(z.unknown()).max(0), z.null()]).optional(),
  })
  .loose();
export type EnrichResponse = z.infer<typeof EnrichResponseSchema>;

/** Documented "Empty Results" body: {"status_code":404,"message":"Not Found"}, whatever the HTTP status. */
export function isDocumentedNotFound(_status: number, body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { status_code?: unknown }).status_code === 404;
}
