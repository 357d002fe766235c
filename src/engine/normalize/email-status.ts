// Email status: every provider's word mapped onto valid, catch_all, risky, invalid, unknown; the
// provider's own word is kept beside it (StoredField.raw). Words from the providers' docs:
// Apollo (verified, unverified, likely to engage, unavailable, bounced...), LeadMagic (valid,
// valid_catch_all, catch_all, invalid, unknown, not_found), ContactOut, Findymail, Prospeo.
import { fail, fold, ok, type Normalized } from './text.js';

export const EMAIL_STATUSES = ['valid', 'catch_all', 'risky', 'invalid', 'unknown'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

const WORDS: Record<string, EmailStatus> = {
  valid: 'valid', verified: 'valid', deliverable: 'valid', ok: 'valid', safe: 'valid', 'safe to send': 'valid',
  'catch all': 'catch_all', catchall: 'catch_all', 'accept all': 'catch_all', 'accept all unverifiable': 'catch_all', 'valid catch all': 'catch_all', 'catch all valid': 'catch_all', 'domain catch all': 'catch_all',
  risky: 'risky', 'likely to engage': 'risky', unverified: 'unknown', 'do not send': 'risky', disposable: 'risky', role: 'risky', 'role based': 'risky', spamtrap: 'risky', 'spam trap': 'risky', abuse: 'risky',
  invalid: 'invalid', bounced: 'invalid', bounce: 'invalid', undeliverable: 'invalid', 'not valid': 'invalid', 'does not exist': 'invalid', rejected: 'invalid',
  unknown: 'unknown', unavailable: 'unknown', 'not found': 'unknown', 'no status': 'unknown', pending: 'unknown', unverifiable: 'unknown', 'accept all unknown': 'unknown',
};

export function normalizeEmailStatus(value: string): Normalized<EmailStatus> {
  const key = fold(value.replace(/[_-]/g, ' '));
  if (!key) return fail('empty email status');
  // A word no provider documents is no verdict: unknown, with the word kept as raw.
  return ok(WORDS[key] ?? 'unknown');
}
