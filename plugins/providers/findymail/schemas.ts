// Shape of Findymail's finder answers (/api/search/business-profile and /api/search/name): both
// return {"contact": {name, domain, email}} (https://app.findymail.com/docs/). The not-found body
// is not documented, so `contact` is nullish and extra keys are tolerated; `error` carries the
// {"error": "..."} messages Findymail uses for credit and subscription problems.
import { z } from 'zod';

const str = z.string().nullish();

export const ContactSchema = z
  .object({ name: str, domain: str, email: str, verified: z.boolean().nullish() })
  .loose();

export const SearchResponseSchema = z
  .object({ contact: ContactSchema.nullish(), error: str, message: str })
  .loose();

export type FindymailSearchResponse = z.infer<typeof SearchResponseSchema>;
