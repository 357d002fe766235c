// Part (j), cost: what a workspace pays. BENCH_COST_INPUTS (500) people ("Jane Doe @
// c<i>-cost.com") are enriched for their work email through the default configuration's
// workEmail waterfall, every provider a stand-in with the real plugin's id, operations, needs and
// prices, answering from a paid fake that holds some of the emails (provider k has a domain's
// email with a fixed chance, by hash) and bills as the plugin's costs say. The fake's count of
// calls and its bill are the invoice. Three runs on one database:
//   1. first run: paid calls, the invoice next to the ledger, and paid calls per found email next
//      to the minimum the configured order allows (each email found at the first provider in the
//      order that has it, every provider asked for an email nobody has);
//   2. the same inputs again: no paid call (the records are fresh);
//   3. the same inputs refreshed (refresh: true): no paid call (every answer, match or miss, is
//      cached within its provider's freshness window).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { defineProvider, type LookupResult, type ProviderPlugin } from '../../src/plugin/contract.js';
import { CONCURRENCY, PREFIX, dbUrl, num, startApp, table } from './app.js';
import { realProviders } from './providers.js';
import type { ResultRow } from './report.js';

// 500 rather than the 1,000 of issue 22, to keep `npm run bench` under 10 minutes on 2 cores:
// the figures are per call and per found email (BENCH_COST_INPUTS=1000 for the full size).
const N = num('BENCH_COST_INPUTS', 500);
/** The chance that the k-th provider of the order holds a given person's email. */
const HIT_RATES = [0.35, 0.25, 0.25, 0.2, 0.2];
const WORKSPACE = 'bench-cost';

const domainOf = (i: number) => `c${i}-cost.com`;

/** Whether the k-th provider holds the email at this domain: a fixed draw (a hash of domain and k). */
function holds(k: number, domain: string): boolean {
  let h = 0x811c9dc5;
  for (const ch of `${domain}:${k}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  // murmur3's finalizer: FNV alone leaves draws for neighbouring k correlated.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h % 1000 < (HIT_RATES[k] ?? 0.2) * 1000;
}

interface PaidFake {
  url: string;
  calls: Map<string, number>;
  invoiceUsd: number;
  close(): void;
}

/** The paid providers' side: counts each call and bills it as the provider's price says. */
async function startPaidFake(order: string[], prices: Map<string, { usd: number; missCharged: boolean }>): Promise<PaidFake> {
  const fake: PaidFake = { url: '', calls: new Map(), invoiceUsd: 0, close: () => server.close() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = (req.url ?? '').replace(/^\/paid\//, '');
      const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { domain?: string; firstName?: string; lastName?: string };
      const found = !!input.domain && holds(order.indexOf(id), input.domain);
      const price = prices.get(id)!;
      fake.calls.set(id, (fake.calls.get(id) ?? 0) + 1);
      if (found || price.missCharged) fake.invoiceUsd += price.usd;
      const email = found ? `${input.firstName ?? 'jane'}.${input.lastName ?? 'doe'}@${input.domain}`.toLowerCase() : undefined;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ found, email }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** `real`'s id, work-email operations, needs and prices; answers from the paid fake. */
function paidStandIn(real: ProviderPlugin): ProviderPlugin {
  return defineProvider({
    kind: 'provider',
    id: real.id,
    description: `cost bench stand-in for ${real.id}`,
    configSchema: z.object({}).loose(),
    requiresApiKey: false,
    defaults: { costs: real.defaults.costs },
    operations: real.operations
      .filter((op) => op.returns.includes('person.workEmail'))
      .map((op) => ({
        name: op.name,
        needs: op.needs,
        returns: op.returns,
        async lookup(input, ctx): Promise<LookupResult> {
          const res = await ctx.http.request({ method: 'POST', path: `/paid/${real.id}`, json: input, schema: z.object({ found: z.boolean(), email: z.string().optional() }) });
          if (res.kind === 'no_match' || !res.body.found) return { outcome: 'no_match', raw: res.raw, httpStatus: res.status };
          const fields: Record<string, unknown> = { 'person.workEmail': res.body.email };
          if (op.returns.includes('person.workEmailStatus')) fields['person.workEmailStatus'] = 'valid';
          return { outcome: 'matched', fields, confidence: 0.95, raw: res.raw, httpStatus: res.status };
        },
      })),
  }) as ProviderPlugin;
}

/** Enriches every input for its work email (optionally refreshed); resolves when all jobs are done. */
async function enrichAll(app: App, refresh: boolean): Promise<void> {
  const jobs = await Promise.all(Array.from({ length: N }, (_, i) => app.enqueue({ workspace: WORKSPACE, input: `Jane Doe @ ${domainOf(i)}`, groups: ['workEmail'], refresh })));
  await Promise.all(jobs.map((j) => app.service.waitFor(j.jobId, 600_000)));
}

/** The operation a name and a domain can run (the waterfall's choice for these inputs). */
function byName(p: ProviderPlugin) {
  const given = ['firstName', 'lastName', 'fullName', 'domain'];
  const op = p.operations.find((o) => o.needs.some((set) => set.every((k) => given.includes(k))));
  if (!op) throw new Error(`cost bench: ${p.id} has no work-email operation that takes a name and a domain`);
  return op;
}

const totalCalls = (fake: PaidFake) => [...fake.calls.values()].reduce((s, n) => s + n, 0);

export async function costBench(): Promise<ResultRow[]> {
  const defaults = loadConfig({ useDefaultFile: true, env: {} });
  const order = defaults.waterfalls.workEmail ?? [];
  const plugins = (await realProviders(order)).map(paidStandIn);
  const prices = new Map(plugins.map((p) => [p.id, p.defaults.costs?.[byName(p).name] ?? { usd: 0, missCharged: false }]));
  const fake = await startPaidFake(order, prices);
  const app = await startApp({ role: 'all', mongodbUrl: dbUrl('j'), prefix: `${PREFIX}-j`, plugins: Object.fromEntries(plugins.map((p) => [p.id, p])), baseUrl: fake.url, waterfalls: { workEmail: order }, concurrency: CONCURRENCY });
  try {
    const runs: [string, number, number][] = [];
    for (const [label, refresh] of [['first run', false], ['the same inputs again', false], ['the same inputs refreshed', true]] as const) {
      const [calls0, usd0] = [totalCalls(fake), fake.invoiceUsd];
      const t0 = performance.now();
      await enrichAll(app, refresh);
      runs.push([`${label} (${((performance.now() - t0) / 1000).toFixed(1)} s)`, totalCalls(fake) - calls0, fake.invoiceUsd - usd0]);
    }
    const minimum = Array.from({ length: N }, (_, i) => {
      const k = order.findIndex((_, j) => holds(j, domainOf(i)));
      return k < 0 ? order.length : k + 1;
    }).reduce((s, n) => s + n, 0);
    const held = Array.from({ length: N }, (_, i) => order.some((_, j) => holds(j, domainOf(i)))).filter(Boolean).length;
    const found = await app.store.models.Person.countDocuments({ workspace: WORKSPACE, 'fields.workEmail': { $exists: true } });
    const [ledger] = await app.store.models.Ledger.aggregate<{ usd: number }>([{ $match: { workspace: WORKSPACE } }, { $group: { _id: null, usd: { $sum: '$costUsd' } } }]);
    const [first, again, refreshed] = runs;
    const perFound = first[1] / Math.max(found, 1);
    const minPerFound = minimum / Math.max(held, 1);
    console.log(`${N} people, workEmail waterfall ${order.join(' > ')}; provider k holds an email with chance ${HIT_RATES.join(', ')}:`);
    console.log(table([['', 'paid calls (at the fakes)', 'invoice (at the fakes)'], ...runs.map(([l, c, usd]) => [l, String(c), `$${usd.toFixed(4)}`])]));
    console.log(`calls by provider: ${order.map((id) => `${id} ${fake.calls.get(id) ?? 0}`).join(', ')}; ledger total $${(ledger?.usd ?? 0).toFixed(4)}, invoice total $${fake.invoiceUsd.toFixed(4)}`);
    console.log(`emails found ${found} (held by some provider: ${held}); paid calls per found email ${perFound.toFixed(3)}, the least the order allows ${minPerFound.toFixed(3)} (${first[1]} calls vs ${minimum})`);
    return [
      { what: `paid calls, ${N} people enriched for their work email (default order, 5 providers)`, result: `${first[1].toLocaleString('en-US')} calls, invoice $${first[2].toFixed(2)}, ledger $${(ledger?.usd ?? 0).toFixed(2)}`, goal: 'ledger = invoice', met: Math.abs((ledger?.usd ?? 0) - fake.invoiceUsd) < 0.005 },
      { what: 'the same inputs enriched again', result: `${again[1]} paid calls`, goal: 'none', met: again[1] === 0 },
      { what: 'the same inputs refreshed, within the freshness windows', result: `${refreshed[1]} paid calls`, goal: 'none', met: refreshed[1] === 0 },
      { what: 'paid calls per found email, next to the least the configured order allows', result: `${perFound.toFixed(3)} vs ${minPerFound.toFixed(3)} (${found} of ${held} findable emails found)`, goal: 'the least, every findable email found', met: first[1] === minimum && found === held },
    ];
  } finally {
    await app.stop();
    fake.close();
  }
}
