// LeadMagic's credit balance: GET /v1/credits with X-API-Key answers { "credits": number }, free
// and not rate limited (https://leadmagic.io/docs/reference/check-credits).
import { z } from 'zod';
import { ProviderError, type CreditBalance, type LookupContext } from '../../../src/sdk/index.js';

const CreditsSchema = z.object({ credits: z.number() });

export async function leadMagicBalance(ctx: LookupContext<{ usdPerCredit: number }>): Promise<CreditBalance> {
  const res = await ctx.http.request({ method: 'GET', path: '/v1/credits', headers: { 'X-API-Key': ctx.settings.apiKey ?? '' }, schema: CreditsSchema });
  if (res.kind === 'no_match') throw new ProviderError('client', 'LeadMagic answered 404 to GET /v1/credits', { httpStatus: res.status, raw: res.raw });
  return { credits: res.body.credits, usdPerCredit: ctx.config.usdPerCredit };
}
