// AI Ark reports what a call cost in the `X-Credit` response header, as a negative number such
// as "-0.5" (source: the official ark-cli, internal/client/client.go). Absent on some answers.
export function creditsFromHeader(headers: Headers): number | undefined {
  const raw = headers.get('x-credit');
  if (raw === null || raw.trim() === '') return undefined;
  const n = Number(raw.trim());
  return Number.isFinite(n) ? Math.abs(n) : undefined;
}

/** The cost in dollars when the operator told us what one credit costs; otherwise the engine's configured price applies. */
export function costFromCredits(credits: number | undefined, usdPerCredit: number | undefined): number | undefined {
  if (credits === undefined || usdPerCredit === undefined) return undefined;
  return Math.round(credits * usdPerCredit * 1e6) / 1e6;
}
