// Phone numbers in E.164 (+14155550123) with libphonenumber-js's full metadata, so a number is
// checked against the real numbering plan, not only its length. A number written without an
// international prefix is read in the country of the person or company; without that country
// it cannot be placed and is dropped with the reason.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { fail, ok, type Normalized } from './text.js';

export function normalizePhone(value: string, country?: string): Normalized<string> {
  const raw = value.trim();
  // "00" is the international prefix in most of Europe; libphonenumber reads it only with a country.
  const text = raw.replace(/^00(?=[1-9])/, '+');
  const region = country && /^[A-Z]{2}$/.test(country) ? (country as CountryCode) : undefined;
  if (!text.startsWith('+') && !region) return fail(`"${raw.slice(0, 40)}" has no country prefix and the record has no country to read it in`);
  const parsed = parsePhoneNumberFromString(text, region ? { defaultCountry: region } : undefined);
  if (!parsed) return fail(`"${raw.slice(0, 40)}" is not a phone number`);
  if (!parsed.isValid()) return fail(`"${raw.slice(0, 40)}" is not a valid number${region && !text.startsWith('+') ? ` in ${region}` : ''}`);
  return ok(parsed.number);
}
