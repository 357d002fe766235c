// Free provider: public-company facts from SEC EDGAR. Ticker and CIK come from the SEC's
// tickers file (www.sec.gov), the rest from data.sec.gov/submissions. No key, but the SEC
// requires a User-Agent naming the client with a contact email, and at most 10 requests a
// second (sec.gov/os/accessing-edgar-data); it answers 403 to clients that break either rule.
import { z } from 'zod';
import { defineProvider, type LookupResult, ProviderError } from '../../../src/sdk/index.js';
import { tickerIndex } from './tickers.js';
import { matchByCik, matchInIndex, type CompanyMatch, type MatchedBy } from './match.js';
import { SubmissionsSchema, submissionFields } from './submissions.js';

const USER_AGENT_HELP = 'the SEC requires a User-Agent naming you with a contact email, e.g. "Acme Sales Ops ops@acme.com" (sec.gov/os/accessing-edgar-data)';

const ConfigSchema = z.object({
  userAgent: z
    .string({ error: `required: ${USER_AGENT_HELP}` })
    .trim()
    .regex(/[^\s@]+@[^\s@]+\.[^\s@]+/, `must contain a contact email: ${USER_AGENT_HELP}`),
  /** The ticker -> CIK file; on www.sec.gov, not on the baseUrl host (data.sec.gov). */
  tickersUrl: z.url().default('https://www.sec.gov/files/company_tickers.json'),
  /** The tickers file is kept in memory this long before it is downloaded again. */
  tickersRefreshMinutes: z.number().min(0).default(1440),
  /** Links in company.recentFilings point here (nothing is fetched from it). */
  archivesUrl: z.url().default('https://www.sec.gov/Archives/edgar/data'),
  recentFilingsLimit: z.number().int().min(0).max(50).default(10),
  /** Insider forms are counted in company.insiderFilingCount90d instead of listed. */
  recentFilingsSkipForms: z.array(z.string()).default(['3', '4', '5', '3/A', '4/A', '5/A']),
  confidence: z
    .object({
      cik: z.number().min(0).max(1).default(0.99),
      ticker: z.number().min(0).max(1).default(0.95),
      name: z.number().min(0).max(1).default(0.85),
      domain: z.number().min(0).max(1).default(0.4),
    })
    .prefault({}),
});

/** The HTTP layer words a 403 as a refused API key; for the SEC it means the User-Agent or the rate. */
function explainRefusal(err: unknown): never {
  if (err instanceof ProviderError && err.kind === 'auth') {
    throw new ProviderError('auth', `sec-edgar: the SEC refused the request (HTTP ${err.httpStatus}); ${USER_AGENT_HELP}, and keep under 10 requests a second`, {
      httpStatus: err.httpStatus,
      raw: err.raw,
    });
  }
  throw err;
}

export default defineProvider({
  kind: 'provider',
  id: 'sec-edgar',
  description: 'Ticker, CIK, SIC industry, business address, recent filings and insider-filing count of US public companies from SEC EDGAR (free).',
  configSchema: ConfigSchema,
  requiresApiKey: false,
  defaults: {
    baseUrl: 'https://data.sec.gov',
    costs: { company: { usd: 0, missCharged: false } },
    ratePerSecond: 8,
  },
  operations: [
    {
      name: 'company',
      needs: [['secCik'], ['ticker'], ['companyName'], ['domain']],
      returns: [
        'company.secCik',
        'company.ticker',
        'company.name',
        'company.industry',
        'company.sicCode',
        'company.address',
        'company.recentFilings',
        'company.insiderFilingCount90d',
      ],
      async lookup(input, ctx): Promise<LookupResult> {
        const userAgent = ctx.config.userAgent;
        try {
          let match: CompanyMatch | undefined = matchByCik(input);
          if (!match) {
            const index = await tickerIndex(ctx, ctx.config.tickersUrl, userAgent, ctx.config.tickersRefreshMinutes * 60_000);
            const attempt = matchInIndex(input, index);
            if (!attempt.match) return { outcome: 'no_match', reason: attempt.reason, raw: { matchedBy: null, reason: attempt.reason } };
            match = attempt.match;
          }
          const res = await ctx.http.request({
            path: `/submissions/CIK${match.cik}.json`,
            headers: { 'user-agent': userAgent },
            schema: SubmissionsSchema,
          });
          if (res.kind === 'no_match') {
            return { outcome: 'no_match', reason: `EDGAR has no submissions for CIK ${match.cik}`, raw: res.raw, httpStatus: res.status };
          }
          const fields = submissionFields(res.body, match.ticker, ctx.config);
          const by: MatchedBy = match.matchedBy;
          return {
            outcome: 'matched',
            fields,
            confidence: ctx.config.confidence[by],
            raw: { matchedBy: by, submissions: res.raw },
            httpStatus: res.status,
          };
        } catch (err) {
          explainRefusal(err);
        }
      },
    },
  ],
});
