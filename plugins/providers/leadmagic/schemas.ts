// Shapes of the three LeadMagic answers used here, from the OpenAPI spec (LeadMagic/leadmagic-openapi)
// and https://leadmagic.io/docs/v1/reference/*. A miss is HTTP 200 with `email: null` and
// `credits_consumed: 0`, so email is nullish; a body with none of the documented keys is refused.
import { z } from 'zod';

const str = z.string().nullish();
const credits = z.number().min(0).nullish();

const hasAnyKey = (keys: string[]) => (body: Record<string, unknown>) => keys.some((k) => k in body);
const NOT_AN_ANSWER = 'not a LeadMagic answer (none of email, message, credits_consumed)';

/** POST /v1/people/b2b-profile-email */
export const ProfileEmailSchema = z
  .object({ email: str, profile_url: str, credits_consumed: credits, message: str })
  .loose()
  .refine(hasAnyKey(['email', 'message', 'credits_consumed']), NOT_AN_ANSWER);

/** POST /v1/people/email-finder. `status`: valid, valid_catch_all, catch_all, not_found. */
export const EmailFinderSchema = z
  .object({ email: str, status: str, credits_consumed: credits, message: str, employment_verified: z.boolean().nullish() })
  .loose()
  .refine(hasAnyKey(['email', 'message', 'credits_consumed']), NOT_AN_ANSWER);

/** POST /v1/people/email-validation. `email_status`: valid, invalid, unknown (older docs add catch_all, valid_catch_all). */
export const EmailValidationSchema = z
  .object({ email: str, email_status: z.string(), credits_consumed: credits, message: str, is_domain_catch_all: z.boolean().nullish() })
  .loose();
