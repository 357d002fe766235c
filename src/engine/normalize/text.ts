// One way to compare free text from providers: lower case, accents removed, "&" read as "and",
// punctuation turned into spaces. "Geschäftsführer" and "geschaftsfuhrer" compare equal.
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9+]+/g, ' ')
    .trim();
}

/** A normalizer's answer: the canonical value, or why the provider's value cannot be stored. */
export type Normalized<T> = { ok: true; value: T } | { ok: false; problem: string };
export const ok = <T>(value: T): Normalized<T> => ({ ok: true, value });
export const fail = <T>(problem: string): Normalized<T> => ({ ok: false, problem });
