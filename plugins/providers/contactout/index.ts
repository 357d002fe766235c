// ContactOut People Enrich: personal email, work email, phone and profile for one person, found
// by LinkedIn URL, email, or name plus company. One POST, authenticated by a header named `token`.
// Docs: https://api.contactout.com/ (sections "People Enrich API", "Errors", "Rate limits").
import { z } from 'zod';
import { defineProvider, type LookupInput, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { EnrichResponseSchema, isDocumentedNotFound, type ContactOutProfile } from './schema.js';
import { mapProfile } from './map.js';

const IncludeSchema = z.enum(['work_email', 'personal_email', 'phone']);

const ConfigSchema = z.object({
  /** What contact data to ask for; each found kind costs its own credit (email or phone). */
  include: z.array(IncludeSchema).default(['work_email', 'personal_email', 'phone']),
  /** ContactOut reports no usable match score (confidenceLevel is documented only as a string, example ""). */
  confidence: z.number().min(0).max(1).default(0.8),
  /** Lower default when only a name and a company identified the person. */
  nameMatchConfidence: z.number().min(0).max(1).default(0.7),
  /** Dollars per credit of your plan: when set, a call's cost is its counted credits times this. */
  usdPerCredit: z.number().min(0).optional(),
  /** Keep work emails ContactOut marks "Unverified" (they would stop the workEmail waterfall). */
  acceptUnverifiedWorkEmail: z.boolean().default(false),
});
type Config = z.infer<typeof ConfigSchema>;

/** The request body: every identifier we have, as the docs' example sends them together. */
export function buildBody(input: LookupInput, config: Config): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (input.linkedinUrl) body.linkedin_url = input.linkedinUrl;
  // "The match rate is typically higher with a personal email address" (docs, email enrich).
  const email = input.personalEmail ?? input.workEmail;
  if (email) body.email = email;
  if (input.firstName && input.lastName) {
    body.first_name = input.firstName;
    body.last_name = input.lastName;
  } else if (input.fullName) {
    body.full_name = input.fullName;
  }
  // Documented as arrays (max 10), although the curl example shows company_domain as a string.
  if (input.companyName) body.company = [input.companyName];
  if (input.domain) body.company_domain = [input.domain];
  if (config.include.length) body.include = config.include;
  return body;
}

/**
 * Credits: 1 search credit per found profile, 1 email credit per email address returned (two
 * addresses bill two), 1 phone credit if a phone is returned.
 */
export function creditsUsed(p: ContactOutProfile): number {
  const values = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  const loose = p as Record<string, unknown>;
  const emails = new Set(
    [p.email, p.work_email, p.personal_email, p.workEmail, loose.personalEmail].flatMap(values).map((e) => e.trim().toLowerCase()),
  );
  return 1 + emails.size + (values(p.phone).length ? 1 : 0);
}

function billing(credits: number, config: Config): { usage: { credits: number }; costUsd?: number } {
  return config.usdPerCredit === undefined ? { usage: { credits } } : { usage: { credits }, costUsd: credits * config.usdPerCredit };
}

export default defineProvider({
  kind: 'provider',
  id: 'contactout',
  description: 'ContactOut People Enrich: personal email, work email, phone and profile by LinkedIn URL, email, or name + company.',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.contactout.com',
    // ContactOut publishes no API price (keys are sold through sales); this is a placeholder to
    // override, and a reservation: set usdPerCredit to record what each answer's credits cost.
    // Misses are free: credits are only consumed "if a profile was found".
    costs: { 'enrich-person': { usd: 0.3, missCharged: false } },
    // Documented: 1000 requests per minute for this API family (older docs said 1200/min).
    ratePerSecond: 15,
  },
  operations: [
    {
      name: 'enrich-person',
      needs: [['linkedinUrl'], ['personalEmail'], ['workEmail'], ['firstName', 'lastName', 'domain'], ['fullName', 'domain'], ['firstName', 'lastName', 'companyName'], ['fullName', 'companyName']],
      returns: [
        'person.workEmail',
        'person.workEmailStatus',
        'person.personalEmail',
        'person.phone',
        'person.fullName',
        'person.firstName',
        'person.lastName',
        'person.title',
        'person.seniority',
        'person.department',
        'person.linkedinUrl',
        'person.country',
        'person.companyName',
        'person.companyDomain',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        if (!ctx.settings.apiKey) throw new ProviderError('auth', 'contactout: no API key; set CONTACTOUT_API_KEY');
        const res = await ctx.http.request({
          method: 'POST',
          path: '/v1/people/enrich',
          headers: { token: ctx.settings.apiKey },
          json: buildBody(input, ctx.config),
          schema: EnrichResponseSchema,
          isNoMatch: isDocumentedNotFound,
        });
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'ContactOut found no profile', raw: res.raw, httpStatus: res.status };
        const profile = res.body.profile;
        if (profile === undefined) {
          // Neither a profile nor the documented "Not Found" body: an answer we do not understand
          // must not be recorded (and cached) as "ContactOut knows nobody".
          throw new ProviderError('invalid_response', 'contactout: the answer has no profile and is not the documented not-found body; the raw body is kept in the ledger', { httpStatus: res.status, raw: res.raw });
        }
        if (!profile || Array.isArray(profile)) return { outcome: 'no_match', reason: 'ContactOut answered without a profile', raw: res.raw, httpStatus: res.status };

        const mapped = mapProfile(profile, ctx.config);
        if (!Object.keys(mapped.fields).length) {
          return { outcome: 'no_match', reason: 'ContactOut profile holds no usable field', raw: res.raw, httpStatus: res.status, ...billing(creditsUsed(profile), ctx.config) };
        }
        const strongId = Boolean(input.linkedinUrl || input.workEmail || input.personalEmail);
        return {
          outcome: 'matched',
          fields: mapped.fields,
          confidence: strongId ? ctx.config.confidence : ctx.config.nameMatchConfidence,
          raw: res.raw,
          httpStatus: res.status,
          ...billing(creditsUsed(profile), ctx.config),
        };
      },
    },
  ],
});
