// Prospeo's credit balance: POST /account-information with X-KEY, free, answers
// { error: false, response: { current_plan, remaining_credits, next_quota_renewal_date, ... } }
// (https://prospeo.io/api/account-information).
import { z } from 'zod';
import { ProviderError, type CreditBalance, type LookupContext } from '../../../src/sdk/index.js';

const AccountSchema = z.object({
  error: z.boolean().optional(),
  response: z.object({ remaining_credits: z.number(), current_plan: z.string().optional(), next_quota_renewal_date: z.string().optional() }),
});

export async function prospeoBalance(ctx: LookupContext<unknown>): Promise<CreditBalance> {
  const res = await ctx.http.request({ method: 'POST', path: '/account-information', headers: { 'X-KEY': ctx.settings.apiKey ?? '' }, json: {}, schema: AccountSchema });
  if (res.kind === 'no_match') throw new ProviderError('client', 'Prospeo answered 404 to /account-information', { httpStatus: res.status, raw: res.raw });
  const r = res.body.response;
  const renews = r.next_quota_renewal_date ? new Date(r.next_quota_renewal_date.replace(' ', 'T')) : undefined;
  return { credits: r.remaining_credits, plan: r.current_plan, renewsAt: renews && !Number.isNaN(renews.getTime()) ? renews.toISOString() : undefined };
}
