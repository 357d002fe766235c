// AI Ark People Search (POST /api/developer-portal/v1/people) used as a lookup of one person, by
// LinkedIn URL or by name at a company domain. It returns the profile without email or phone
// (those are separate, asynchronous export calls). Shapes follow the official ark-cli and the docs.
import { z } from 'zod';
import { clean, domainOf, dropEmpty, type Fields, linkedinUrl, type LookupInput } from '../../../src/sdk/index.js';

const stringOrList = z.union([z.string(), z.array(z.string())]).nullish();

export const PersonSchema = z
  .object({
    id: z.string().nullish(),
    profile: z
      .object({
        first_name: z.string().nullish(),
        last_name: z.string().nullish(),
        full_name: z.string().nullish(),
        headline: z.string().nullish(),
        title: z.string().nullish(),
      })
      .loose()
      .nullish(),
    link: z.object({ linkedin: z.string().nullish() }).loose().nullish(),
    location: z
      .union([z.string(), z.object({ short: z.string().nullish(), city: z.string().nullish(), state: z.string().nullish(), country: z.string().nullish() }).loose()])
      .nullish(),
    company: z
      .object({
        summary: z.object({ name: z.string().nullish() }).loose().nullish(),
        link: z.object({ domain: z.string().nullish(), website: z.string().nullish() }).loose().nullish(),
      })
      .loose()
      .nullish(),
    department: z.object({ departments: stringOrList, functions: stringOrList, seniority: stringOrList }).loose().nullish(),
  })
  .loose();
export type AiArkPerson = z.infer<typeof PersonSchema>;

export const PeoplePageSchema = z.object({ content: z.array(PersonSchema), totalElements: z.number().nullish() }).loose();

export type NameMatchMode = 'SMART' | 'WORD' | 'STRICT';

/** The person's name as one string, from whichever name inputs we have. */
export function inputName(input: LookupInput): string | undefined {
  if (input.firstName && input.lastName) return `${input.firstName} ${input.lastName}`;
  return input.fullName;
}

/**
 * contact.linkedin is a plain filter of full profile URLs; contact.fullName is a matched filter
 * ({mode, content}); account.domain is plain (ark-cli docs/FILTERS.md, from the OpenAPI spec).
 */
export function personBody(input: LookupInput, nameMode: NameMatchMode): Record<string, unknown> {
  if (input.linkedinUrl) return { page: 0, size: 1, contact: { linkedin: { any: { include: [input.linkedinUrl] } } } };
  return {
    page: 0,
    size: 1,
    account: { domain: { any: { include: [input.domain] } } },
    contact: { fullName: { any: { include: { mode: nameMode, content: [inputName(input)] } } } },
  };
}

const firstOf = (v: string | string[] | null | undefined) => (Array.isArray(v) ? v.map(clean).find(Boolean) : clean(v));

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();

/** Every word of the name we asked for appears in the name AI Ark answered with. */
export function nameAgrees(asked: string, person: AiArkPerson): boolean {
  const p = person.profile;
  const answered = fold(clean(p?.full_name) ?? `${p?.first_name ?? ''} ${p?.last_name ?? ''}`);
  const words = answered.split(/[^\p{L}\p{N}'-]+/u).filter(Boolean);
  return fold(asked)
    .split(/[^\p{L}\p{N}'-]+/u)
    .filter(Boolean)
    .every((w) => words.includes(w));
}

export function mapPerson(p: AiArkPerson): Fields {
  const loc = p.location && typeof p.location === 'object' ? p.location : undefined;
  return dropEmpty({
    'person.firstName': clean(p.profile?.first_name),
    'person.lastName': clean(p.profile?.last_name),
    'person.fullName': clean(p.profile?.full_name),
    'person.title': clean(p.profile?.title),
    'person.seniority': firstOf(p.department?.seniority),
    'person.department': firstOf(p.department?.departments),
    'person.linkedinUrl': linkedinUrl(p.link?.linkedin, 'person'),
    'person.city': clean(loc?.city),
    'person.region': clean(loc?.state),
    'person.country': clean(loc?.country),
    'person.companyName': clean(p.company?.summary?.name),
    'person.companyDomain': domainOf(p.company?.link?.domain) ?? domainOf(p.company?.link?.website),
  });
}
