// The provider HTTP client against local servers: a redirecting base URL is an error naming
// where it pointed (and the other origin never sees the request or its key headers), and an
// answer is read only up to a byte cap, even when the server would never stop sending.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { createProviderHttp } from '../../src/net/provider-http.js';
import { ProviderError } from '../../src/engine/provider-error.js';

let provider: FakeServer;
let elsewhere: FakeServer;

beforeAll(async () => {
  provider = await startFakeServer();
  elsewhere = await startFakeServer({ '*': () => ({ json: { stolen: true } }) });
});
afterAll(async () => {
  await provider.close();
  await elsewhere.close();
});

const client = (baseUrl: string, maxBodyBytes?: number) => createProviderHttp({ providerId: 'acme', baseUrl, signal: AbortSignal.timeout(10_000), maxBodyBytes });
const keyHeaders = { 'X-KEY': 'k1', 'X-API-Key': 'k2', token: 'k3', 'X-TOKEN': 'k4', authorization: 'Bearer k5' };

test.each([301, 302, 303, 307, 308])('HTTP %i from the provider is an error naming the target origin; the target gets nothing', async (status) => {
  provider.on('POST /v1/match', () => ({ status, headers: { location: `${elsewhere.url}/collect?x=1` } }));
  elsewhere.requests.length = 0;
  const err = await client(provider.url)
    .request({ path: '/v1/match', headers: keyHeaders, json: { email: 'a@b.co' }, schema: z.object({}).passthrough() })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  expect(err).toMatchObject({ kind: 'client', httpStatus: status, message: expect.stringContaining(new URL(elsewhere.url).origin) });
  expect((err as Error).message).not.toContain('collect');
  expect(elsewhere.requests).toHaveLength(0);
});

test('an answer past the byte cap is given up while the server is still sending', async () => {
  let closedEarly!: Promise<boolean>;
  const endless = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (res.write(chunk));
    };
    res.on('drain', pump);
    closedEarly = new Promise((r) => res.on('close', () => r(!res.writableFinished)));
    res.write('{"a":"');
    pump();
  });
  await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(endless.address() as AddressInfo).port}`;
  try {
    await expect(client(url, 1024 * 1024).request({ path: '/big', schema: z.unknown() })).rejects.toMatchObject({
      kind: 'invalid_response',
      message: expect.stringContaining('larger than 1048576 bytes'),
    });
    expect(await closedEarly).toBe(true); // the client hung up; the server never finished
  } finally {
    endless.closeAllConnections();
    await new Promise((r) => endless.close(r));
  }
});

test('an answer within the cap is read whole', async () => {
  provider.on('GET /ok', () => ({ json: { items: Array.from({ length: 1000 }, (_, i) => i) } }));
  const res = await client(provider.url, 100_000).request({ path: '/ok', schema: z.object({ items: z.array(z.number()) }) });
  expect(res.kind === 'ok' && res.body.items).toHaveLength(1000);
});

describe('what an answer means, the same for every provider', () => {
  const Body = z.object({ name: z.string() });
  const keyed = () => createProviderHttp({ providerId: 'acme', baseUrl: provider.url, signal: AbortSignal.timeout(10_000), keyEnvName: 'ACME_API_KEY' });
  const ask = (status: number, json: unknown, headers: Record<string, string> = {}) => {
    provider.on('GET /v1/company', () => ({ status, json, headers }));
    return keyed()
      .request({ path: '/v1/company', schema: Body, isNoMatch: (s, raw) => s === 400 && (raw as { error?: string })?.error === 'NO_MATCH' })
      .catch((e: unknown) => e);
  };

  test('2xx in the schema is ok with the parsed body; 404 and a documented not-found body are no match', async () => {
    expect(await ask(200, { name: 'Acme', extra: 1 })).toMatchObject({ kind: 'ok', status: 200, body: { name: 'Acme' }, raw: { name: 'Acme', extra: 1 } });
    expect(await ask(404, { message: 'nope' })).toMatchObject({ kind: 'no_match', status: 404, raw: { message: 'nope' } });
    expect(await ask(400, { error: 'NO_MATCH' })).toMatchObject({ kind: 'no_match', status: 400 });
  });

  test.each([
    [401, 'a refused key, naming its env var', {}, {}, { kind: 'auth', message: 'acme: the API key was refused (HTTP 401); check ACME_API_KEY' }],
    [403, 'a refused key', {}, {}, { kind: 'auth', httpStatus: 403 }],
    [429, 'rate limited, with its Retry-After', {}, { 'retry-after': '2' }, { kind: 'rate_limited', httpStatus: 429, retryAfterMs: 2000 }],
    [503, 'a server error, with its Retry-After and body', { message: 'down' }, { 'retry-after': '1' }, { kind: 'server', httpStatus: 503, retryAfterMs: 1000, raw: { message: 'down' } }],
    [400, "a permanent refusal, with the provider's message", { message: 'bad domain' }, {}, { kind: 'client', message: 'acme: request refused (HTTP 400): bad domain' }],
    [200, 'an answer outside the schema, naming the field', { name: 7 }, {}, { kind: 'invalid_response', httpStatus: 200, message: expect.stringContaining('unexpected answer shape (name: ') }],
  ])('HTTP %i is %s', async (status, _what, json, headers, expected) => {
    const err = await ask(status, json, headers);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject(expected);
  });

  test('the URL joins base and path with one slash and drops undefined query values; GET without a body, JSON POST with one', async () => {
    provider.on('GET /v1/find', () => ({ json: { name: 'A' } }));
    provider.on('POST /v1/find', () => ({ json: { name: 'B' } }));
    provider.requests.length = 0;
    const http = createProviderHttp({ providerId: 'acme', baseUrl: `${provider.url}/`, signal: AbortSignal.timeout(10_000) });
    await http.request({ path: 'v1/find', query: { q: 'acme', page: 2, skip: undefined }, schema: Body });
    await http.request({ path: '/v1/find', json: { q: 'acme' }, headers: { 'x-key': 'k' }, schema: Body });
    expect(provider.requests.map((r) => [r.method, r.path, [...r.query.entries()], r.headers['content-type'], r.headers.accept, r.json])).toEqual([
      ['GET', '/v1/find', [['q', 'acme'], ['page', '2']], undefined, 'application/json', undefined],
      ['POST', '/v1/find', [], 'application/json', 'application/json', { q: 'acme' }],
    ]);
    expect(provider.requests[1].headers['x-key']).toBe('k');
  });
});
