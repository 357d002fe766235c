// LeadMagic's email statuses -> the canonical person.workEmailStatus, with how much each is
// worth. Meanings from https://leadmagic.io/docs/v1/reference/email-finder and /email-validation:
// valid (<1% bounce), valid_catch_all (catch-all domain, engagement data says the address is
// real, 3-5% bounce), catch_all (risky, unverified), unknown (the server did not answer).
type CanonicalStatus = 'valid' | 'catch_all' | 'risky' | 'invalid' | 'unknown';

/** Confidence that a *found* address is right, by the status the finder gave it. */
const FOUND_EMAIL: Record<string, { status: CanonicalStatus; confidence: number }> = {
  valid: { status: 'valid', confidence: 0.95 },
  valid_catch_all: { status: 'catch_all', confidence: 0.8 },
  catch_all: { status: 'catch_all', confidence: 0.5 },
  unknown: { status: 'unknown', confidence: 0.3 },
};

/** Confidence in a validation *verdict*; unknown is no verdict at all (the caller makes it a miss). */
const VERDICT: Record<string, { status: CanonicalStatus; confidence: number }> = {
  valid: { status: 'valid', confidence: 0.95 },
  invalid: { status: 'invalid', confidence: 0.95 },
  valid_catch_all: { status: 'catch_all', confidence: 0.8 },
  catch_all: { status: 'catch_all', confidence: 0.8 },
};

const key = (status: string | null | undefined) => (status ?? '').trim().toLowerCase();

/** A status the docs do not list is kept as "unknown" at the lowest confidence. */
export function foundEmailStatus(status: string | null | undefined): { status: CanonicalStatus; confidence: number } {
  return FOUND_EMAIL[key(status)] ?? FOUND_EMAIL.unknown;
}

export function validationVerdict(status: string): { status: CanonicalStatus; confidence: number } | undefined {
  return VERDICT[key(status)];
}

/** Finder statuses that mean "nothing usable was found". */
export function isMissStatus(status: string | null | undefined): boolean {
  return ['not_found', 'invalid'].includes(key(status));
}
