// A canonical value -> the option value a portal's dropdown takes: first by the option's internal
// value, then by its label, ignoring case and accents; an ISO country code also matches the
// country's English names ("US" -> "United States", "United States of America", "USA").
// No match means the value is not sent (HubSpot would refuse the whole batch for it).
import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };
import type { Definition } from './property-definitions.js';

countries.registerLocale(en);

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase();

function candidates(field: string, value: string): string[] {
  const out = [value];
  if (field.endsWith('.country') && /^[A-Za-z]{2}$/.test(value)) {
    const names = countries.getName(value.toUpperCase(), 'en', { select: 'all' }) as string[] | undefined;
    out.push(...(names ?? []), countries.alpha2ToAlpha3(value.toUpperCase()) ?? '');
  }
  return out.filter(Boolean).map(fold);
}

function option(def: Definition, field: string, value: string): string | undefined {
  const wanted = candidates(field, value);
  for (const w of wanted) {
    const byValue = def.options.find((o) => fold(o.value) === w);
    if (byValue) return byValue.value;
  }
  for (const w of wanted) {
    const byLabel = def.options.find((o) => fold(o.label) === w);
    if (byLabel) return byLabel.value;
  }
  return undefined;
}

/**
 * The value to send for a property, or `missing` naming the part no option matched. Properties
 * that are not dropdowns (or whose definition is unknown) take the value as it is.
 */
export function toPortalValue(def: Definition | undefined, field: string, value: string): { value?: string; missing?: string } {
  if (!def || def.type !== 'enumeration' || !def.options.length) return { value };
  // Multiple checkboxes take several options, separated by semicolons.
  const parts = def.fieldType === 'checkbox' ? value.split(';').map((p) => p.trim()).filter(Boolean) : [value];
  const mapped: string[] = [];
  for (const part of parts) {
    const v = option(def, field, part);
    if (v === undefined) return { missing: part };
    mapped.push(v);
  }
  return { value: mapped.join(';') };
}
