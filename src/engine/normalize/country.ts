// Country as ISO 3166-1 alpha-2, from a code (alpha-2 or alpha-3) or a name in any of the
// registered languages (i18n-iso-countries knows official and common names per language).
import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };
import fr from 'i18n-iso-countries/langs/fr.json' with { type: 'json' };
import de from 'i18n-iso-countries/langs/de.json' with { type: 'json' };
import es from 'i18n-iso-countries/langs/es.json' with { type: 'json' };
import it from 'i18n-iso-countries/langs/it.json' with { type: 'json' };
import nl from 'i18n-iso-countries/langs/nl.json' with { type: 'json' };
import pt from 'i18n-iso-countries/langs/pt.json' with { type: 'json' };
import sv from 'i18n-iso-countries/langs/sv.json' with { type: 'json' };
import da from 'i18n-iso-countries/langs/da.json' with { type: 'json' };
import pl from 'i18n-iso-countries/langs/pl.json' with { type: 'json' };
import ja from 'i18n-iso-countries/langs/ja.json' with { type: 'json' };
import zh from 'i18n-iso-countries/langs/zh.json' with { type: 'json' };
import ru from 'i18n-iso-countries/langs/ru.json' with { type: 'json' };
import { fail, fold, ok, type Normalized } from './text.js';

const LOCALES = [en, fr, de, es, it, nl, pt, sv, da, pl, ja, zh, ru];
for (const l of LOCALES) countries.registerLocale(l as countries.LocaleData);
const LANGS = LOCALES.map((l) => (l as { locale: string }).locale);

// Names people write that are not a country's name in any locale's list.
const ALIASES: Record<string, string> = {
  usa: 'US', us: 'US', 'u s a': 'US', 'u s': 'US', america: 'US', 'united states of america': 'US', 'etats unis': 'US', 'estados unidos': 'US', 'stati uniti': 'US', 'vereinigte staaten': 'US',
  uk: 'GB', 'u k': 'GB', england: 'GB', scotland: 'GB', wales: 'GB', 'northern ireland': 'GB', 'great britain': 'GB', britain: 'GB', 'royaume uni': 'GB', 'reino unido': 'GB', 'regno unito': 'GB', grossbritannien: 'GB',
  holland: 'NL', 'the netherlands': 'NL', 'south korea': 'KR', korea: 'KR', 'north korea': 'KP', russia: 'RU', 'czech republic': 'CZ', czechia: 'CZ', uae: 'AE', 'hong kong sar': 'HK', 'ivory coast': 'CI', turkey: 'TR', turkiye: 'TR', vietnam: 'VN', taiwan: 'TW',
};

export function normalizeCountry(value: string): Normalized<string> {
  const raw = value.trim();
  if (/^[A-Za-z]{2}$/.test(raw) && countries.isValid(raw.toUpperCase())) return ok(raw.toUpperCase());
  if (/^[A-Za-z]{3}$/.test(raw)) {
    const a2 = countries.alpha3ToAlpha2(raw.toUpperCase());
    if (a2) return ok(a2);
  }
  const key = fold(raw);
  if (ALIASES[key]) return ok(ALIASES[key]);
  for (const lang of LANGS) {
    const code = countries.getAlpha2Code(raw, lang) ?? countries.getSimpleAlpha2Code(raw, lang);
    if (code) return ok(code);
  }
  // "Germany (DE)", "Paris, France": the last part is usually the country.
  const last = raw.split(/[,(/]/).map((s) => s.replace(/\)/g, '').trim()).filter(Boolean);
  if (last.length > 1) {
    for (const part of [...last].reverse()) {
      const r = normalizeCountry(part);
      if (r.ok) return r;
    }
  }
  return fail(`"${raw.slice(0, 60)}" is not a country name or ISO code`);
}
