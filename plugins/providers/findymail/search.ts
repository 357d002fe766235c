// One Findymail finder search (Bearer auth) and the reading of its answer. Findymail returns
// only addresses it verified and charges 1 finder credit per address found, nothing for a miss;
// The miss body is undocumented: `contact` null, or a contact without an email, or an empty body
// is a miss. A body with other keys and no `contact` at all is not a miss but an answer we do
// not understand: an error with the raw body kept, never cached as "nobody there".
import { type LookupContext, type LookupResult, ProviderError, workEmail } from '../../../src/sdk/index.js';
import { SearchResponseSchema } from './schemas.js';

export async function searchFindymail(ctx: LookupContext<unknown>, path: string, json: Record<string, unknown>, confidence: number): Promise<LookupResult> {
  const res = await ctx.http.request({
    method: 'POST',
    path,
    headers: { authorization: `Bearer ${ctx.settings.apiKey ?? ''}` },
    json,
    schema: SearchResponseSchema,
  });
  if (res.kind === 'no_match') return { outcome: 'no_match', reason: `Findymail answered HTTP ${res.status}`, raw: res.raw, httpStatus: res.status };
  const { contact, error } = res.body;
  // The documented "Not enough credits" body (shown with HTTP 200 on /api/verify) is a refusal, not a miss.
  if (!contact && error) throw new ProviderError('client', `findymail: ${error.slice(0, 200)}`, { httpStatus: res.status, raw: res.raw });
  const raw = res.raw as Record<string, unknown>;
  if (contact === undefined && Object.keys(raw).length > 0) {
    throw new ProviderError('invalid_response', 'findymail: the answer has no contact and is not a known miss; the raw body is kept in the ledger', { httpStatus: res.status, raw: res.raw });
  }
  const email = workEmail(contact?.email);
  if (!email) return { outcome: 'no_match', reason: 'Findymail found no verified email', raw: res.raw, httpStatus: res.status };
  // Only verified addresses are returned; an explicit verified:false (never documented) is kept as unknown.
  const unverified = contact?.verified === false;
  return {
    outcome: 'matched',
    fields: { 'person.workEmail': email, 'person.workEmailStatus': unverified ? 'unknown' : 'valid' },
    confidence: unverified ? Math.min(confidence, 0.5) : confidence,
    raw: res.raw,
    httpStatus: res.status,
  };
}
