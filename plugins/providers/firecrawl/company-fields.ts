// Turns the JSON Firecrawl's LLM extracted into canonical company fields. Each value is
// checked on its own: an LLM can return a wrong type for one key, which drops that key only.
import { z } from 'zod';
import { type FieldPath, normalizeLinkedinUrl } from '../../../src/sdk/index.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const thisYear = () => new Date().getUTCFullYear();

function pick<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

/** Only linkedin.com/company|school URLs, in the canonical https://www.linkedin.com/company/<slug> form. */
function companyLinkedin(value: unknown): string | undefined {
  const raw = pick(text(500), value);
  if (!raw || !/linkedin\.com\/(company|school)\//i.test(raw)) return undefined;
  try {
    return normalizeLinkedinUrl(raw).url;
  } catch {
    return undefined;
  }
}

export function companyFieldsFrom(extracted: Record<string, unknown>): Partial<Record<FieldPath, unknown>> {
  const fields: Partial<Record<FieldPath, unknown>> = {
    'company.name': pick(text(200), extracted.name),
    'company.description': pick(text(4000), extracted.description),
    'company.industry': pick(text(200), extracted.industry),
    'company.employeeCount': pick(z.number().int().min(1).max(5_000_000), extracted.employeeCount),
    'company.employeeRange': pick(text(40), extracted.employeeRange),
    'company.foundedYear': pick(z.number().int().min(1600).max(thisYear()), extracted.foundedYear),
    'company.city': pick(text(200), extracted.city),
    'company.region': pick(text(200), extracted.region),
    'company.country': pick(text(200), extracted.country),
    'company.linkedinUrl': companyLinkedin(extracted.linkedinUrl),
  };
  for (const key of Object.keys(fields) as FieldPath[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}
