// LeadMagic (paid): work email from a name at a company (email-finder, 1 credit), from a LinkedIn
// profile (b2b-profile-email, 5 credits), and email validation (0.25 credit). Misses are free
// and every answer reports `credits_consumed`, which becomes the call's actual cost.
// Docs: https://leadmagic.io/docs/v1/reference/ (email-finder, profile-to-email, email-validation).
import { z } from 'zod';
import { defineProvider, type LookupResult, workEmail } from '../../../src/sdk/index.js';
import { EmailFinderSchema, EmailValidationSchema, ProfileEmailSchema } from './schemas.js';
import { foundEmailStatus, isMissStatus, validationVerdict } from './status.js';
import { billing, defined, postLeadMagic } from './leadmagic-call.js';
import { leadMagicBalance } from './balance.js';

const ConfigSchema = z.object({
  /** Your plan's price per credit; Basic is $0.024 (2,500 credits), Ultimate $0.008. */
  usdPerCredit: z.number().min(0).default(0.024),
  /**
   * b2b-profile-email answers an address without a status ("every email found is automatically
   * validated for deliverability"), so it gets this documented default confidence.
   */
  profileEmailConfidence: z.number().min(0).max(1).default(0.85),
});

export default defineProvider({
  kind: 'provider',
  id: 'leadmagic',
  description: 'LeadMagic work-email finder (by name + company or LinkedIn profile) and email validation; misses are free.',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.leadmagic.io',
    // Basic plan, $0.024/credit: email-finder 1 credit, b2b-profile-email 5, email-validation 0.25.
    costs: {
      'email-finder': { usd: 0.024, missCharged: false },
      'b2b-profile-email': { usd: 0.12, missCharged: false },
      'email-validation': { usd: 0.006, missCharged: false },
    },
    // The per-endpoint pages publish 300 requests/minute with bursts of ~5/second.
    ratePerSecond: 5,
  },
  // Order matters: when a person has both a name at a domain and a LinkedIn URL, the waterfall
  // uses the first operation whose inputs are present, so the 1-credit finder goes first.
  // The account's credits, read on a schedule (free endpoint).
  balance: leadMagicBalance,
  operations: [
    {
      name: 'email-finder',
      needs: [['firstName', 'lastName', 'domain'], ['fullName', 'domain'], ['firstName', 'lastName', 'companyName']],
      returns: ['person.workEmail', 'person.workEmailStatus'],
      async lookup(input, ctx): Promise<LookupResult> {
        const body = defined({ first_name: input.firstName, last_name: input.lastName, full_name: input.fullName, domain: input.domain, company_name: input.companyName });
        const res = await postLeadMagic(ctx, '/v1/people/email-finder', body, EmailFinderSchema);
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'LeadMagic answered 404', raw: res.raw, httpStatus: res.status };
        const cost = billing(res.body.credits_consumed, ctx.config.usdPerCredit);
        const email = workEmail(res.body.email);
        if (!email || isMissStatus(res.body.status)) {
          return { outcome: 'no_match', reason: res.body.message ?? 'LeadMagic found no email for this person', raw: res.raw, httpStatus: res.status, ...cost };
        }
        const found = foundEmailStatus(res.body.status);
        return { outcome: 'matched', fields: { 'person.workEmail': email, 'person.workEmailStatus': found.status }, confidence: found.confidence, raw: res.raw, httpStatus: res.status, ...cost };
      },
    },
    {
      name: 'b2b-profile-email',
      needs: [['linkedinUrl']],
      returns: ['person.workEmail', 'person.workEmailStatus'],
      async lookup(input, ctx): Promise<LookupResult> {
        // The documented path; the older alias b2b-profile-to-email is not in the current OpenAPI spec.
        const res = await postLeadMagic(ctx, '/v1/people/b2b-profile-email', { profile_url: input.linkedinUrl }, ProfileEmailSchema);
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'LeadMagic has no such profile (404)', raw: res.raw, httpStatus: res.status };
        const cost = billing(res.body.credits_consumed, ctx.config.usdPerCredit);
        const email = workEmail(res.body.email);
        if (!email) return { outcome: 'no_match', reason: res.body.message ?? 'LeadMagic found no email for this profile', raw: res.raw, httpStatus: res.status, ...cost };
        // No status in this answer; LeadMagic validates every address it returns, so "valid".
        return { outcome: 'matched', fields: { 'person.workEmail': email, 'person.workEmailStatus': 'valid' }, confidence: ctx.config.profileEmailConfidence, raw: res.raw, httpStatus: res.status, ...cost };
      },
    },
    {
      name: 'email-validation',
      needs: [['workEmail']],
      returns: ['person.workEmailStatus', 'company.emailCatchAll'],
      async lookup(input, ctx): Promise<LookupResult> {
        const res = await postLeadMagic(ctx, '/v1/people/email-validation', { email: input.workEmail }, EmailValidationSchema);
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: 'LeadMagic answered 404', raw: res.raw, httpStatus: res.status };
        const cost = billing(res.body.credits_consumed, ctx.config.usdPerCredit);
        const verdict = validationVerdict(res.body.email_status);
        // is_domain_catch_all is about the domain, not the address: the engine keeps it on the company.
        const domain = typeof res.body.is_domain_catch_all === 'boolean' ? { 'company.emailCatchAll': res.body.is_domain_catch_all } : {};
        // "unknown" (free) is no verdict: storing it would block a later validator from filling the field.
        if (!verdict && domain['company.emailCatchAll'] === true) return { outcome: 'matched', fields: domain, confidence: 0.8, raw: res.raw, httpStatus: res.status, ...cost };
        if (!verdict) return { outcome: 'no_match', reason: `LeadMagic could not decide (${res.body.email_status})`, raw: res.raw, httpStatus: res.status, ...cost };
        return { outcome: 'matched', fields: { 'person.workEmailStatus': verdict.status, ...domain }, confidence: verdict.confidence, raw: res.raw, httpStatus: res.status, ...cost };
      },
    },
  ],
});
