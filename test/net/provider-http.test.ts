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
