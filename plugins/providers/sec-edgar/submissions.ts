// data.sec.gov/submissions/CIK##########.json -> canonical company fields: name, SIC code and
// description, business address, recent filings and the number of Form 4 (insider) filings in
// the last 90 days. "recent" holds at least the last year or 1,000 filings (SEC EDGAR API docs).
import { z } from 'zod';
import type { FieldPath } from '../../../src/sdk/index.js';
import { padCik } from './tickers.js';

const str = z.string().nullable().optional();
const AddressSchema = z
  .object({ street1: str, street2: str, city: str, stateOrCountry: str, zipCode: str, stateOrCountryDescription: str, country: str })
  .loose();

export const SubmissionsSchema = z
  .object({
    cik: z.union([z.string(), z.number()]),
    name: z.string().min(1),
    sic: str,
    sicDescription: str,
    tickers: z.array(z.string()).optional(),
    addresses: z.object({ business: AddressSchema.nullable().optional() }).loose().optional(),
    filings: z
      .object({
        recent: z
          .object({
            accessionNumber: z.array(z.string()),
            filingDate: z.array(z.string()),
            form: z.array(z.string()),
            primaryDocument: z.array(z.string()).optional(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();
export type Submissions = z.infer<typeof SubmissionsSchema>;

export interface FilingSettings {
  archivesUrl: string;
  recentFilingsLimit: number;
  recentFilingsSkipForms: string[];
}

const INSIDER_WINDOW_DAYS = 90;
const clean = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();

/** "ONE APPLE PARK WAY, CUPERTINO, CA 95014"; foreign addresses end with the country. */
export function formatAddress(a: z.infer<typeof AddressSchema> | null | undefined): string | undefined {
  if (!a) return undefined;
  const country = clean(a.country);
  const region = country ? clean(a.zipCode) : [clean(a.stateOrCountry), clean(a.zipCode)].filter(Boolean).join(' ');
  const parts = [clean(a.street1), clean(a.street2), clean(a.city), region, country].filter(Boolean);
  return parts.length >= 2 ? parts.join(', ') : undefined;
}

/** YYYY-MM-DD of `days` days before now, in UTC: filingDate strings compare as text. */
function dayBefore(now: number, days: number): string {
  return new Date(now - days * 86_400_000).toISOString().slice(0, 10);
}

export function submissionFields(s: Submissions, matchedTicker: string | undefined, settings: FilingSettings, now = Date.now()): Partial<Record<FieldPath, unknown>> {
  const cik = padCik(s.cik);
  const recent = s.filings.recent;
  const since = dayBefore(now, INSIDER_WINDOW_DAYS);
  const skip = new Set(settings.recentFilingsSkipForms.map((f) => f.toUpperCase()));
  let insider = 0;
  const filings: { form: string; filedAt: string; accession: string; url?: string }[] = [];
  for (let i = 0; i < recent.form.length; i++) {
    const form = recent.form[i];
    const filedAt = recent.filingDate[i];
    const accession = recent.accessionNumber[i];
    if (!form || !filedAt || !accession) continue;
    if (form === '4' && filedAt >= since) insider++;
    if (filings.length < settings.recentFilingsLimit && !skip.has(form.toUpperCase())) {
      const doc = recent.primaryDocument?.[i];
      const url = doc ? `${settings.archivesUrl.replace(/\/+$/, '')}/${Number(cik)}/${accession.replace(/-/g, '')}/${doc}` : undefined;
      filings.push({ form, filedAt, accession, ...(url ? { url } : {}) });
    }
  }
  const ticker = matchedTicker ?? s.tickers?.[0];
  const fields: Partial<Record<FieldPath, unknown>> = {
    'company.secCik': cik,
    'company.name': clean(s.name),
    'company.ticker': ticker && ticker.length <= 10 ? ticker : undefined,
    'company.industry': clean(s.sicDescription) || undefined,
    'company.sicCode': clean(s.sic) || undefined,
    'company.address': formatAddress(s.addresses?.business),
    'company.recentFilings': filings.length ? filings : undefined,
    'company.insiderFilingCount90d': insider,
  };
  for (const key of Object.keys(fields) as FieldPath[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}
