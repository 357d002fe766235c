// Turns Prospeo's raw values into the canonical field formats, or undefined when a value
// would not survive the engine's field schemas (better no value than a dropped one). Email,
// domain and LinkedIn values go through the SDK's shared cleaners; these are Prospeo's own.

export function text(value: string | null | undefined, max = 2000): string | undefined {
  const t = value?.trim();
  return t ? t.slice(0, max) : undefined;
}

export function httpUrl(value: string | null | undefined): string | undefined {
  const t = value?.trim();
  if (!t || t.length > 500) return undefined;
  try {
    const u = new URL(t);
    return u.protocol === 'https:' || u.protocol === 'http:' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** 100000000 -> "$100M", 2500000000 -> "$2.5B". */
export function usd(amount: number): string {
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (amount >= size) return `$${Number((amount / size).toFixed(1))}${suffix}`;
  }
  return `$${amount}`;
}
