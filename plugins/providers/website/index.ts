// Free provider: company facts from the company's own homepage. Tries https://<domain> and
// falls back to http://. Every fetch goes through the core's safeFetch, which refuses private,
// loopback and link-local addresses (also after redirects and via DNS) and caps size and time.
// Every failure here is the target site's (hostFault): it may be retried, but it never opens the
// website circuit, which would switch homepage lookups off for every workspace.
import { z } from 'zod';
import { defineProvider, ErrorCodes, isEnrichbotError, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { extractHomepage } from './extract.js';

const ConfigSchema = z.object({
  /** Ports to try; tests point these at a local fixture site. */
  httpsPort: z.number().int().positive().default(443),
  httpPort: z.number().int().positive().default(80),
  maxBytes: z.number().int().positive().default(1_000_000),
  /**
   * Time for each of the two attempts (https, then http). Kept under the engine's per-call limit
   * so a slow site ends as this site's failure, not as a provider time-out for the breaker.
   */
  attemptTimeoutMs: z.number().int().positive().default(4000),
  /** Confidence of facts a company states about itself on its homepage. */
  confidence: z.number().min(0).max(1).default(0.6),
});

export default defineProvider({
  kind: 'provider',
  id: 'website',
  description: "Company name, description, social profiles and contact emails from the company's own homepage (free).",
  configSchema: ConfigSchema,
  requiresApiKey: false,
  defaults: { costs: { homepage: { usd: 0, missCharged: false } } },
  operations: [
    {
      name: 'homepage',
      needs: [['domain']],
      returns: ['company.name', 'company.description', 'company.socialProfiles', 'company.linkedinUrl', 'company.contactEmails'],
      async lookup(input, ctx): Promise<LookupResult> {
        const domain = input.domain!;
        const attempts = [
          `https://${domain}${ctx.config.httpsPort === 443 ? '' : `:${ctx.config.httpsPort}`}/`,
          `http://${domain}${ctx.config.httpPort === 80 ? '' : `:${ctx.config.httpPort}`}/`,
        ];
        const failures: string[] = [];
        for (const url of attempts) {
          let res;
          try {
            res = await ctx.safeFetch(url, { maxBytes: ctx.config.maxBytes, signal: ctx.signal, timeoutMs: ctx.config.attemptTimeoutMs });
          } catch (err) {
            if (isEnrichbotError(err, ErrorCodes.URL_REFUSED)) throw new ProviderError('client', err.message, { hostFault: true });
            failures.push(isEnrichbotError(err) ? err.message : String(err));
            continue;
          }
          if (res.status === 404 || res.status === 410) return { outcome: 'no_match', reason: `${url} answered HTTP ${res.status}`, httpStatus: res.status };
          if (res.status >= 500) throw new ProviderError('server', `${res.url} answered HTTP ${res.status}`, { httpStatus: res.status, hostFault: true });
          if (res.status >= 400) {
            failures.push(`${res.url} answered HTTP ${res.status}`);
            continue;
          }
          const type = res.headers['content-type'] ?? '';
          if (type && !/html|xml|text\/plain/i.test(type)) return { outcome: 'no_match', reason: `${res.url} is not an HTML page (${type})`, httpStatus: res.status };
          const facts = extractHomepage(res.text(), domain);
          const fields = {
            'company.name': facts.name,
            'company.description': facts.description,
            'company.socialProfiles': Object.keys(facts.socialProfiles).length ? facts.socialProfiles : undefined,
            'company.linkedinUrl': facts.socialProfiles.linkedin,
            'company.contactEmails': facts.contactEmails.length ? facts.contactEmails : undefined,
          };
          const raw = { url: res.url, redirects: res.redirects, status: res.status, truncated: res.truncated, facts };
          if (!Object.values(fields).some((v) => v !== undefined)) return { outcome: 'no_match', reason: `${res.url} shows no company facts`, httpStatus: res.status, raw };
          return { outcome: 'matched', fields, confidence: ctx.config.confidence, raw, httpStatus: res.status };
        }
        return { outcome: 'no_match', reason: `no website answered: ${failures.join('; ')}` };
      },
    },
  ],
});
