// Canonical values field by field: industries (HubSpot options, LinkedIn names, SIC codes, free
// text), countries from names in several languages, phones from 20 countries, size and revenue
// buckets, and every email-status word the provider plugins use.
import hubspot from '../../../src/engine/normalize/data/hubspot-industries.json' with { type: 'json' };
import linkedin from '../../../src/engine/normalize/data/linkedin-industries.json' with { type: 'json' };
import sic from '../../../src/engine/normalize/data/sic-industries.json' with { type: 'json' };
import {
  EMPLOYEE_RANGES,
  employeeRangeOf,
  industryFromSic,
  normalizeCountry,
  normalizeEmailStatus,
  normalizeEmployeeRange,
  normalizeField,
  normalizeIndustry,
  normalizePhone,
  normalizeRevenueRange,
  normalizeSeniority,
  normalizeDepartment,
  revenueRangeOf,
  normalizeStoredFields,
} from '../../../src/engine/normalize/index.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; problem: string }) => (r.ok ? r.value : `FAIL: ${r.problem}`);

describe('industry', () => {
  test('every HubSpot industry option is reachable from its own label and value', () => {
    for (const o of hubspot.options) {
      expect(value(normalizeIndustry(o.label))).toBe(o.value);
      expect(value(normalizeIndustry(o.value))).toBe(o.value);
    }
  });

  test('every HubSpot industry option is reachable from at least one LinkedIn industry name, and most from a SIC code', () => {
    const fromLinkedin = new Set(Object.keys(linkedin.map).map((n) => value(normalizeIndustry(n))));
    for (const o of hubspot.options) expect([o.value, fromLinkedin.has(o.value)]).toEqual([o.value, true]);
    const fromSic = new Set(sic.ranges.map((r) => industryFromSic(r.from)));
    expect(fromSic.size).toBeGreaterThanOrEqual(110);
  });

  test('LinkedIn 2022 names and Apollo/Prospeo lower-case names map onto HubSpot options', () => {
    expect(value(normalizeIndustry('Software Development'))).toBe('COMPUTER_SOFTWARE');
    expect(value(normalizeIndustry('IT Services and IT Consulting'))).toBe('INFORMATION_TECHNOLOGY_AND_SERVICES');
    expect(value(normalizeIndustry('Hospitals and Health Care'))).toBe('HOSPITAL_HEALTH_CARE');
    expect(value(normalizeIndustry('Business Consulting and Services'))).toBe('MANAGEMENT_CONSULTING');
    expect(value(normalizeIndustry('information technology & services'))).toBe('INFORMATION_TECHNOLOGY_AND_SERVICES');
    expect(value(normalizeIndustry('computer software'))).toBe('COMPUTER_SOFTWARE');
    expect(value(normalizeIndustry('nonprofit organization management'))).toBe('NON_PROFIT_ORGANIZATION_MANAGEMENT');
    expect(value(normalizeIndustry('health, wellness & fitness'))).toBe('HEALTH_WELLNESS_AND_FITNESS');
  });

  test('SIC codes map by their narrowest range; the code beats the SEC description', () => {
    expect(industryFromSic('7372')).toBe('COMPUTER_SOFTWARE');
    expect(industryFromSic('2834')).toBe('PHARMACEUTICALS');
    expect(industryFromSic('2836')).toBe('BIOTECHNOLOGY');
    expect(industryFromSic('3674')).toBe('SEMICONDUCTORS');
    expect(industryFromSic('6022')).toBe('BANKING');
    expect(industryFromSic('3711')).toBe('AUTOMOTIVE');
    expect(industryFromSic('5812')).toBe('RESTAURANTS');
    expect(industryFromSic('9999')).toBeUndefined();
    expect(value(normalizeIndustry('SERVICES-PREPACKAGED SOFTWARE', { sicCode: '7372' }))).toBe('COMPUTER_SOFTWARE');
    expect(value(normalizeIndustry('PHARMACEUTICAL PREPARATIONS', { sicCode: '2834' }))).toBe('PHARMACEUTICALS');
    expect(value(normalizeIndustry('SERVICES-PREPACKAGED SOFTWARE'))).toBe('COMPUTER_SOFTWARE');
  });

  test('free text from a website reader falls back to keywords, and text with no industry in it is dropped with the reason', () => {
    expect(value(normalizeIndustry('B2B SaaS'))).toBe('COMPUTER_SOFTWARE');
    expect(value(normalizeIndustry('Fintech / payments'))).toBe('FINANCIAL_SERVICES');
    expect(value(normalizeIndustry('Industrial robotics'))).toBe('INDUSTRIAL_AUTOMATION');
    expect(value(normalizeIndustry('Versicherung'))).toBe('INSURANCE');
    const r = normalizeIndustry('We make people happy');
    expect(r.ok).toBe(false);
  });
});

describe('country', () => {
  test.each([
    ['Germany', 'DE'], ['Deutschland', 'DE'], ['Allemagne', 'DE'], ['Alemania', 'DE'], ['Germania', 'DE'], ['Duitsland', 'DE'], ['Alemanha', 'DE'],
    ['France', 'FR'], ['Frankreich', 'FR'], ['Francia', 'FR'], ['Frankrijk', 'FR'], ['França', 'FR'],
    ['United States', 'US'], ['United States of America', 'US'], ['USA', 'US'], ['États-Unis', 'US'], ['Vereinigte Staaten', 'US'], ['Estados Unidos', 'US'],
    ['United Kingdom', 'GB'], ['UK', 'GB'], ['England', 'GB'], ['Royaume-Uni', 'GB'],
    ['Spain', 'ES'], ['España', 'ES'], ['Espagne', 'ES'], ['Italia', 'IT'], ['Nederland', 'NL'], ['The Netherlands', 'NL'], ['Schweiz', 'CH'], ['Suisse', 'CH'],
    ['Brasil', 'BR'], ['Japan', 'JP'], ['日本', 'JP'], ['Россия', 'RU'], ['Sverige', 'SE'], ['Polska', 'PL'],
    ['de', 'DE'], ['us', 'US'], ['DEU', 'DE'], ['GBR', 'GB'], ['Paris, France', 'FR'],
  ])('%s -> %s', (name, code) => {
    expect(value(normalizeCountry(name))).toBe(code);
  });

  test('a place that is not a country is refused', () => {
    expect(normalizeCountry('Atlantis').ok).toBe(false);
    expect(normalizeCountry('XX').ok).toBe(false);
  });
});

describe('phone', () => {
  // One real-format number per country (public switchboards or the numbering plan's example
  // ranges), written with and without the international prefix.
  const phones: [string, string, string, string][] = [
    ['US', '+1 (212) 736-5000', '(212) 736-5000', '+12127365000'],
    ['CA', '+1 416-555-0199', '416 555 0199', '+14165550199'],
    ['GB', '+44 20 7946 0958', '020 7946 0958', '+442079460958'],
    ['DE', '+49 30 901820', '030 901820', '+4930901820'],
    ['FR', '+33 1 42 68 53 00', '01 42 68 53 00', '+33142685300'],
    ['ES', '+34 912 34 56 78', '912 34 56 78', '+34912345678'],
    ['IT', '+39 06 6982 0000', '06 6982 0000', '+390669820000'],
    ['NL', '+31 20 123 4567', '020 123 4567', '+31201234567'],
    ['BE', '+32 2 501 02 11', '02 501 02 11', '+3225010211'],
    ['CH', '+41 44 668 18 00', '044 668 18 00', '+41446681800'],
    ['AT', '+43 1 5125 8000', '01 5125 8000', '+43151258000'],
    ['PT', '+351 21 123 4567', '21 123 4567', '+351211234567'],
    ['SE', '+46 8 123 456 78', '08-123 456 78', '+46812345678'],
    ['PL', '+48 22 123 45 67', '22 123 45 67', '+48221234567'],
    ['IE', '+353 1 234 5678', '01 234 5678', '+35312345678'],
    ['AU', '+61 2 9374 4000', '(02) 9374 4000', '+61293744000'],
    ['IN', '+91 22 2266 5555', '022 2266 5555', '+912222665555'],
    ['JP', '+81 3-3224-1111', '03-3224-1111', '+81332241111'],
    ['BR', '+55 11 3003-1234', '(11) 3003-1234', '+551130031234'],
    ['MX', '+52 55 1234 5678', '55 1234 5678', '+525512345678'],
  ];

  test.each(phones)('%s: with and without the prefix both become E.164', (country, withPrefix, national, e164) => {
    expect(value(normalizePhone(withPrefix))).toBe(e164);
    expect(value(normalizePhone(national, country))).toBe(e164);
  });

  test('"00" international prefix, and a prefixed number read in the wrong country keeps its own', () => {
    expect(value(normalizePhone('0049 30 901820'))).toBe('+4930901820');
    expect(value(normalizePhone('+44 20 7946 0958', 'US'))).toBe('+442079460958');
  });

  test('an invalid number, or a national number with no country to read it in, is dropped with the reason', () => {
    const invalid = normalizePhone('+1 555 12', 'US');
    expect(invalid.ok).toBe(false);
    const noCountry = normalizePhone('030 901820');
    expect(noCountry).toEqual({ ok: false, problem: expect.stringContaining('no country') });
    expect(normalizePhone('call me maybe', 'DE').ok).toBe(false);
  });
});

describe('company size and revenue buckets', () => {
  test.each([
    [1, '1-10'], [10, '1-10'], [11, '11-50'], [50, '11-50'], [51, '51-200'], [200, '51-200'], [201, '201-500'], [500, '201-500'],
    [501, '501-1000'], [1000, '501-1000'], [1001, '1001-5000'], [5000, '1001-5000'], [5001, '5001-10000'], [10000, '5001-10000'], [10001, '10001+'], [250000, '10001+'],
  ])('%d employees -> %s', (n, bucket) => {
    expect(employeeRangeOf(n)).toBe(bucket);
  });

  test('provider ranges become buckets', () => {
    expect(value(normalizeEmployeeRange('51-200'))).toBe('51-200');
    expect(value(normalizeEmployeeRange('51 - 200 employees'))).toBe('51-200');
    expect(value(normalizeEmployeeRange('2-10'))).toBe('1-10');
    expect(value(normalizeEmployeeRange('1001-2000'))).toBe('1001-5000');
    expect(value(normalizeEmployeeRange('10,001+'))).toBe('10001+');
    expect(value(normalizeEmployeeRange('10000+'))).toBe('10001+');
    expect(value(normalizeEmployeeRange(240))).toBe('201-500');
    expect(EMPLOYEE_RANGES).toHaveLength(8);
    expect(normalizeEmployeeRange('a few').ok).toBe(false);
  });

  test('revenue buckets: lower bound inclusive, upper exclusive; printed amounts and ranges', () => {
    expect(revenueRangeOf(999_999)).toBe('<1M');
    expect(revenueRangeOf(1_000_000)).toBe('1M-10M');
    expect(revenueRangeOf(10_000_000)).toBe('10M-50M');
    expect(revenueRangeOf(1e9)).toBe('1B-10B');
    expect(revenueRangeOf(1e10)).toBe('10B+');
    expect(value(normalizeRevenueRange('$10M'))).toBe('10M-50M');
    expect(value(normalizeRevenueRange('$1M-$10M'))).toBe('1M-10M');
    expect(value(normalizeRevenueRange('$250M-$500M'))).toBe('250M-500M');
    expect(value(normalizeRevenueRange('$1.5B'))).toBe('1B-10B');
    expect(value(normalizeRevenueRange('Less than $1M'))).toBe('<1M');
  });
});

describe('email status', () => {
  // Every word the provider plugins emit or read (plugins/providers/*): Apollo's email_status,
  // LeadMagic's finder and validation statuses, ContactOut's, Findymail's and Prospeo's.
  test.each([
    ['valid', 'valid'], ['verified', 'valid'], ['Verified', 'valid'], ['deliverable', 'valid'],
    ['catch_all', 'catch_all'], ['catch-all', 'catch_all'], ['valid_catch_all', 'catch_all'], ['accept_all', 'catch_all'], ['accept all', 'catch_all'],
    ['risky', 'risky'], ['likely to engage', 'risky'],
    ['invalid', 'invalid'], ['bounced', 'invalid'], ['undeliverable', 'invalid'],
    ['unknown', 'unknown'], ['unverified', 'unknown'], ['unavailable', 'unknown'], ['not_found', 'unknown'], ['something new', 'unknown'],
  ])('%s -> %s', (word, status) => {
    expect(value(normalizeEmailStatus(word))).toBe(status);
  });

  test('the provider word is kept as raw beside the canonical status', () => {
    expect(normalizeField('person.workEmailStatus', 'verified')).toEqual({ ok: true, value: 'valid', raw: 'verified' });
    expect(normalizeField('person.workEmailStatus', 'valid')).toEqual({ ok: true, value: 'valid' });
  });
});

describe('provider words for seniority and department', () => {
  test('Apollo, Prospeo and LinkedIn vocabularies', () => {
    expect(normalizeSeniority('vp')).toBe('vp');
    expect(normalizeSeniority('Vice President')).toBe('vp');
    expect(normalizeSeniority('C-Suite')).toBe('c_suite');
    expect(normalizeSeniority('c_suite')).toBe('c_suite');
    expect(normalizeSeniority('Entry level')).toBe('entry');
    expect(normalizeSeniority('Training')).toBe('intern');
    expect(normalizeDepartment('master_sales')).toBe('sales');
    expect(normalizeDepartment('engineering_technical')).toBe('engineering');
    expect(normalizeDepartment('Human Resources')).toBe('hr');
    expect(normalizeDepartment('information_technology')).toBe('it');
  });
});

describe('stored records read as canonical', () => {
  test('old free-text values are normalized on read, with the original kept; unplaceable values are left as stored', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const f = (value: unknown) => ({ value, provider: 'apollo', fetchedAt: at, confidence: 0.9 });
    const { fields, changed } = normalizeStoredFields({ seniority: f('Vice President'), country: f('Deutschland'), phone: f('030 901820'), title: f('VP Sales'), department: f('Wizardry') });
    expect(fields.seniority).toMatchObject({ value: 'vp', raw: 'Vice President' });
    expect(fields.country).toMatchObject({ value: 'DE', raw: 'Deutschland' });
    expect(fields.phone).toMatchObject({ value: '+4930901820', raw: '030 901820' });
    expect(fields.department.value).toBe('Wizardry');
    expect(changed.sort()).toEqual(['country', 'phone', 'seniority']);
    expect(normalizeStoredFields(fields).changed).toEqual([]);
  });
});
