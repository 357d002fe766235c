// The benchmark's fake provider, on its own worker thread so that its arrival timestamps are not
// skewed by the engine's event loop. POST /instant/* answers a match at once; POST /limited allows
// `rate` requests per sliding second (429 + Retry-After: 1 beyond) and answers after `latencyMs`.
// GET /stats reports; POST /reset clears (and may set a new rate). Callers that send x-granted-at
// and x-sent-at headers have those recorded too, to tell the limiter's grants from the arrivals.
import { Worker } from 'node:worker_threads';

const SOURCE = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
let { rate, latencyMs } = workerData;
let window = [];
let stats = { accepted: [], arrivals: [], rejected: 0, instant: 0, granted: [], sent: [] };
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const json = (status, body, headers = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    let body = {};
    try { body = JSON.parse(Buffer.concat(chunks).toString() || '{}'); } catch {}
    if (req.url === '/stats') return json(200, stats);
    if (req.url.startsWith('/reset')) {
      const r = Number(new URL(req.url, 'http://x').searchParams.get('rate'));
      if (r > 0) rate = r;
      window = []; stats = { accepted: [], arrivals: [], rejected: 0, instant: 0, granted: [], sent: [] };
      return json(200, {});
    }
    if (req.url.startsWith('/instant')) { stats.instant++; return json(200, { found: true, echo: body }); }
    if (req.url === '/limited') {
      stats.arrivals.push(now);
      if (req.headers['x-granted-at']) stats.granted.push(Number(req.headers['x-granted-at']));
      if (req.headers['x-sent-at']) stats.sent.push(Number(req.headers['x-sent-at']));
      window = window.filter((t) => t > now - 1000);
      if (window.length >= rate) { stats.rejected++; return json(429, { message: 'rate limited' }, { 'retry-after': '1' }); }
      window.push(now);
      stats.accepted.push(now);
      return setTimeout(() => json(200, { found: true, echo: body }), latencyMs);
    }
    json(404, { message: 'no such route' });
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

export interface FakeStats {
  accepted: number[];
  arrivals: number[];
  rejected: number;
  instant: number;
  /** When the caller reports them (the limiter-alone loops): grant times (Redis clock) and send times. */
  granted: number[];
  sent: number[];
}

export interface FakeProvider {
  url: string;
  stats(): Promise<FakeStats>;
  reset(rate?: number): Promise<void>;
  close(): Promise<number>;
}

export async function startFakeProvider(opts: { rate: number; latencyMs: number }): Promise<FakeProvider> {
  const worker = new Worker(SOURCE, { eval: true, workerData: opts });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as FakeStats,
    reset: async (rate) => void (await (await fetch(`${url}/reset${rate ? `?rate=${rate}` : ''}`, { method: 'POST' })).text()),
    close: () => worker.terminate(),
  };
}

/** The most of these times (ms) that any one-second window, wherever it starts, holds. */
export function busiestSecond(times: number[]): number {
  const at = [...times].sort((x, y) => x - y);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[j] <= at[i] - 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
