// The SEC's ticker -> CIK file (about 10,000 companies, ~1 MB), fetched once per process and
// kept in memory, refreshed after a configurable age. Keyed by URL so a test server or mirror
// never shares an index with the real file. Concurrent lookups share one download.
import { z } from 'zod';
import { type LookupContext, ProviderError } from '../../../src/sdk/index.js';
import { compactCompanyName, normalizeCompanyName } from './company-names.js';

// Format of https://www.sec.gov/files/company_tickers.json: {"0":{"cik_str":320193,"ticker":"AAPL","title":"Apple Inc."},...}
const TickersFileSchema = z.record(
  z.string(),
  z.object({ cik_str: z.number().int().nonnegative(), ticker: z.string().min(1), title: z.string() }).loose(),
);

export interface TickerEntry {
  /** 10 digits, zero padded. */
  cik: string;
  ticker: string;
  title: string;
}

export interface TickerIndex {
  byTicker: Map<string, TickerEntry>;
  byName: Map<string, TickerEntry[]>;
  byCompactName: Map<string, TickerEntry[]>;
}

export const padCik = (cik: string | number) => String(cik).replace(/\D/g, '').padStart(10, '0');

/** BRK.B, brk-b and BRK/B are one ticker; the SEC file writes BRK-B. */
export const normalizeTicker = (t: string) => t.trim().toUpperCase().replace(/[./]/g, '-');

function push(map: Map<string, TickerEntry[]>, key: string, entry: TickerEntry) {
  if (!key) return;
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}

export function buildIndex(file: z.infer<typeof TickersFileSchema>): TickerIndex {
  const index: TickerIndex = { byTicker: new Map(), byName: new Map(), byCompactName: new Map() };
  for (const row of Object.values(file)) {
    const entry = { cik: padCik(row.cik_str), ticker: normalizeTicker(row.ticker), title: row.title.trim() };
    if (!index.byTicker.has(entry.ticker)) index.byTicker.set(entry.ticker, entry);
    push(index.byName, normalizeCompanyName(entry.title), entry);
    push(index.byCompactName, compactCompanyName(entry.title), entry);
  }
  return index;
}

interface CacheEntry {
  loadedAt: number;
  index?: TickerIndex;
  pending?: Promise<TickerIndex>;
}
const cache = new Map<string, CacheEntry>();
/** After a failed refresh, the copy in memory is used this long before the next attempt. */
const RETRY_FAILED_REFRESH_MS = 5 * 60_000;

async function download(ctx: LookupContext, url: URL, userAgent: string): Promise<TickerIndex> {
  const res = await ctx.http.request({
    baseUrl: url.origin,
    path: url.pathname + url.search,
    headers: { 'user-agent': userAgent },
    schema: TickersFileSchema,
  });
  if (res.kind === 'no_match') {
    throw new ProviderError('client', `sec-edgar: no tickers file at ${url.href} (HTTP ${res.status}); check providers.sec-edgar.tickersUrl`, { httpStatus: res.status, raw: res.raw });
  }
  return buildIndex(res.body);
}

export async function tickerIndex(ctx: LookupContext, tickersUrl: string, userAgent: string, refreshMs: number): Promise<TickerIndex> {
  const entry = cache.get(tickersUrl);
  if (entry?.index && Date.now() - entry.loadedAt < refreshMs) return entry.index;
  if (entry?.pending) return entry.pending;
  const stale = entry?.index;
  const pending = download(ctx, new URL(tickersUrl), userAgent).then(
    (index) => {
      cache.set(tickersUrl, { loadedAt: Date.now(), index });
      return index;
    },
    (err: unknown) => {
      if (stale) {
        // Keep answering from the old copy; try the download again a few minutes later.
        cache.set(tickersUrl, { loadedAt: Date.now() - Math.max(0, refreshMs - RETRY_FAILED_REFRESH_MS), index: stale });
        ctx.logger.warn({ err, tickersUrl }, 'sec-edgar: tickers file refresh failed; using the copy in memory');
        return stale;
      }
      cache.delete(tickersUrl);
      throw err;
    },
  );
  cache.set(tickersUrl, { loadedAt: entry?.loadedAt ?? 0, index: stale, pending });
  return pending;
}
