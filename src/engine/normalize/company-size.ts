// Company size and revenue as fixed buckets, so records compare and filter. Employee buckets are
// LinkedIn's (1-10 ... 10001+); revenue buckets are in USD. A provider's range that straddles
// buckets ("1000-5000") goes to the bucket holding its middle; "10000+" to the open bucket.
import { fail, ok, type Normalized } from './text.js';

export const EMPLOYEE_RANGES = ['1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000', '5001-10000', '10001+'] as const;
export type EmployeeRange = (typeof EMPLOYEE_RANGES)[number];
const EMPLOYEE_UPPER = [10, 50, 200, 500, 1000, 5000, 10000, Infinity];

export const REVENUE_RANGES = ['<1M', '1M-10M', '10M-50M', '50M-100M', '100M-250M', '250M-500M', '500M-1B', '1B-10B', '10B+'] as const;
export type RevenueRange = (typeof REVENUE_RANGES)[number];
const REVENUE_UPPER = [1e6, 1e7, 5e7, 1e8, 2.5e8, 5e8, 1e9, 1e10, Infinity];

export function employeeRangeOf(count: number): EmployeeRange {
  const n = Math.max(1, Math.round(count));
  return EMPLOYEE_RANGES[EMPLOYEE_UPPER.findIndex((u) => n <= u)];
}

export function revenueRangeOf(usd: number): RevenueRange {
  // Upper bounds are exclusive for revenue: $10M is in 10M-50M, as the bucket names read.
  return REVENUE_RANGES[REVENUE_UPPER.findIndex((u) => usd < u)];
}

const MULT: Record<string, number> = { k: 1e3, thousand: 1e3, m: 1e6, mm: 1e6, million: 1e6, mio: 1e6, b: 1e9, bn: 1e9, billion: 1e9, md: 1e9, mrd: 1e9, t: 1e12, trillion: 1e12 };

/** Numbers in a provider's range text: "$1M-$10M", "51 - 200", "10,001+", "1.5B", "250 employees". */
function amounts(text: string): { values: number[]; open: boolean } {
  const values: number[] = [];
  const re = /(\d+(?:[.,]\d+)*)\s*(k|thousand|mm|m|million|mio|bn|b|billion|mrd|md|t|trillion)?\b/gi;
  for (const m of text.matchAll(re)) {
    let digits = m[1];
    // "10,001" and "1.000" are thousands separators; "1.5" is a decimal.
    digits = /^\d{1,3}([.,]\d{3})+$/.test(digits) ? digits.replace(/[.,]/g, '') : digits.replace(',', '.');
    const n = Number.parseFloat(digits) * (m[2] ? MULT[m[2].toLowerCase()] : 1);
    if (Number.isFinite(n)) values.push(n);
  }
  return { values, open: /\+|or more|and above|plus\b|over|more than|>/i.test(text) };
}

function middle(text: string): number | undefined {
  const { values, open } = amounts(text);
  if (!values.length) return undefined;
  if (values.length === 1) return open ? values[0] + 1 : values[0];
  return (values[0] + values[1]) / 2;
}

export function normalizeEmployeeRange(value: string | number): Normalized<EmployeeRange> {
  if (typeof value === 'number') return ok(employeeRangeOf(value));
  if ((EMPLOYEE_RANGES as readonly string[]).includes(value.trim())) return ok(value.trim() as EmployeeRange);
  const m = middle(value);
  return m === undefined ? fail(`"${value.slice(0, 40)}" is not an employee count or range`) : ok(employeeRangeOf(m));
}

export function normalizeRevenueRange(value: string | number): Normalized<RevenueRange> {
  if (typeof value === 'number') return ok(revenueRangeOf(value));
  if ((REVENUE_RANGES as readonly string[]).includes(value.trim())) return ok(value.trim() as RevenueRange);
  const { values, open } = amounts(value);
  if (!values.length) return fail(`"${value.slice(0, 40)}" is not a revenue amount or range`);
  if (/^\s*(<|less than|under|below)/i.test(value)) return ok(revenueRangeOf(values[0] - 1));
  if (values.length === 1) return ok(revenueRangeOf(open ? values[0] : values[0]));
  return ok(revenueRangeOf((values[0] + values[1]) / 2));
}
