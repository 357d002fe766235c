// Findymail (paid): verified work email from a LinkedIn profile (/api/search/business-profile,
// which replaced /api/search/linkedin) or from a full name at a company (/api/search/name).
// 1 finder credit per email found, misses free. Docs: https://app.findymail.com/docs/
import { z } from 'zod';
import { defineProvider, type LookupResult } from '../../../src/sdk/index.js';
import { searchFindymail } from './search.js';

const ConfigSchema = z.object({
  /**
   * Findymail gives no score but returns only addresses it verified by SMTP, so a found address
   * gets this documented default confidence.
   */
  confidence: z.number().min(0).max(1).default(0.9),
  /** When only a company name (no domain) was sent, Findymail guesses the domain itself. */
  companyNameConfidence: z.number().min(0).max(1).default(0.75),
});

export default defineProvider({
  kind: 'provider',
  id: 'findymail',
  description: 'Findymail verified work-email finder, by LinkedIn profile or by name at a company; misses are free.',
  configSchema: ConfigSchema,
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://app.findymail.com',
    // Starter plan: $99/month for 5,000 finder credits = $0.0198 per email found; misses free.
    costs: {
      'search-business-profile': { usd: 0.0198, missCharged: false },
      'search-name': { usd: 0.0198, missCharged: false },
    },
    // No requests-per-second limit is published: 300 concurrent requests (30 for business-profile).
  },
  // A LinkedIn profile identifies the person exactly, so it is tried first when both are known.
  operations: [
    {
      name: 'search-business-profile',
      needs: [['linkedinUrl']],
      returns: ['person.workEmail', 'person.workEmailStatus'],
      lookup(input, ctx): Promise<LookupResult> {
        return searchFindymail(ctx, '/api/search/business-profile', { linkedin_url: input.linkedinUrl }, ctx.config.confidence);
      },
    },
    {
      name: 'search-name',
      needs: [['fullName', 'domain'], ['fullName', 'companyName']],
      returns: ['person.workEmail', 'person.workEmailStatus'],
      lookup(input, ctx): Promise<LookupResult> {
        // `domain` takes "company domain (preferred) or company name".
        const company = input.domain ?? input.companyName;
        const confidence = input.domain ? ctx.config.confidence : ctx.config.companyNameConfidence;
        return searchFindymail(ctx, '/api/search/name', { name: input.fullName, domain: company }, confidence);
      },
    },
  ],
});
