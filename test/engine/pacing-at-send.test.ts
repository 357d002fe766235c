// A rate-limit grant is spent when the request leaves, not when the lookup starts (issue 9):
// a lookup that works for a while before sending (a plugin preparing its request, an SDK) must
// not carry an old grant into the same second as a later caller's. Both ways a plugin sends are
// covered: ctx.http.request and ctx.http.pacedFetch (for SDKs, e.g. Anthropic's).
// At ratePerSecond = 1 the grants are ~1.03 s apart; the slow lookup waits 600 ms before sending.
// Spent at lookup start, the slow call would arrive at ~600 ms and the next one at ~1,030 ms:
// two calls 430 ms apart, which a provider allowing 1 a second answers with a 429.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { defineProvider, type LookupResult } from '../../src/plugin/contract.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';

const Answer = z.object({ found: z.boolean() }).loose();
let server: http.Server;
let url: string;
const arrivals: { at: number; path: string; domain: string }[] = [];
let slowStarted: () => void = () => undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { domain?: string };
      arrivals.push({ at: Date.now(), path: req.url ?? '', domain: body.domain ?? '' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ found: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** Sends through ctx.http.request, or through ctx.http.pacedFetch as an SDK would; "slow*" domains wait 600 ms first. */
function preparingProvider(id: string, via: 'request' | 'pacedFetch') {
  return defineProvider({
    kind: 'provider',
    id,
    description: `test provider that prepares before sending (${via})`,
    configSchema: z.object({}).loose(),
    requiresApiKey: false,
    defaults: { costs: { lookup: { usd: 0, missCharged: false } }, ratePerSecond: 1 },
    operations: [
      {
        name: 'lookup',
        needs: [['domain']],
        returns: ['company.name'],
        async lookup(input, ctx): Promise<LookupResult> {
          if (input.domain?.startsWith('slow')) {
            slowStarted();
            await new Promise((r) => setTimeout(r, 600));
          }
          if (via === 'request') {
            await ctx.http.request({ method: 'POST', path: `/${id}`, json: { domain: input.domain }, schema: Answer });
          } else {
            const res = await ctx.http.pacedFetch(`${ctx.settings.baseUrl}/${id}`, { method: 'POST', body: JSON.stringify({ domain: input.domain }), signal: ctx.signal });
            await res.text();
          }
          return { outcome: 'matched', fields: { 'company.name': input.domain }, confidence: 0.9 };
        },
      },
    ],
  });
}

describe.each(['request', 'pacedFetch'] as const)('a lookup that prepares before it sends, through ctx.http.%s', (via) => {
  let app: App & { names: { mongodbUrl: string; redisUrl: string; prefix: string } };
  const id = `prep-${via.toLowerCase()}`;
  const domain = (speed: string) => `${speed}-${via.toLowerCase()}.com`;

  beforeAll(async () => {
    app = await startTestApp({
      file: `pacing-at-send-${via}`,
      plugins: { [id]: preparingProvider(id, via) },
      overrides: {
        plugins: { providers: [id] },
        providers: { [id]: { baseUrl: url } },
        waterfalls: { companyProfile: [id] },
        queue: { concurrency: 4 },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    if (app) await dropTestData(app.names as never);
  });

  test('a call that leaves late takes its grant when it leaves: two calls never reach the provider within one second', async () => {
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const slow = await app.enqueue({ workspace: 'w1', input: domain('slow'), groups: ['companyProfile'] });
    await started;
    const fast = await app.enqueue({ workspace: 'w1', input: domain('fast'), groups: ['companyProfile'] });
    const results = await Promise.all([app.service.waitFor(slow.jobId, 30_000), app.service.waitFor(fast.jobId, 30_000)]);
    expect(results.map((r) => r.status)).toEqual(['done', 'done']);
    const mine = arrivals.filter((a) => a.path === `/${id}`).sort((a, b) => a.at - b.at);
    expect(mine.map((a) => a.domain).sort()).toEqual([domain('fast'), domain('slow')]);
    // The fast call went first (the slow one had not asked for its grant yet), and the slow one
    // waited for the next window when it was ready to send.
    expect(mine[0].domain).toBe(domain('fast'));
    expect(mine[1].at - mine[0].at).toBeGreaterThanOrEqual(1000);
  }, 60_000);
});
