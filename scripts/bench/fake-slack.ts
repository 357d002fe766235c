// The Slack Web API as the Slack bench needs it, on a worker thread of its own so that the times
// it records are not held up by the event loop that sends the commands. It answers auth.test for
// one team, takes chat.postMessage, chat.postEphemeral and response_url posts (POST /response/*),
// answers any other method { ok: true }, and reports each post to the parent thread with its
// arrival time (epoch ms, sub-millisecond) and its channel (or the response_url's id).
import { Worker } from 'node:worker_threads';

const SOURCE = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const now = () => performance.timeOrigin + performance.now();
let seq = 1000;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    const json = (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/response/')) {
      parentPort.postMessage({ kind: 'response_url', key: url.pathname.slice('/response/'.length), at });
      return json({ ok: true });
    }
    const method = url.pathname.replace(/^\\/api\\//, '');
    const text = Buffer.concat(chunks).toString();
    const args = (req.headers['content-type'] || '').includes('json') ? JSON.parse(text || '{}') : Object.fromEntries(new URLSearchParams(text));
    if (method === 'auth.test') return json({ ok: true, url: 'https://bench.slack.example/', team_id: workerData.team, user_id: 'UBOT', bot_id: 'BBOT' });
    if (method === 'chat.postMessage' || method === 'chat.postEphemeral') {
      parentPort.postMessage({ kind: method, key: String(args.channel), at });
      return json({ ok: true, channel: args.channel, ts: Math.floor(Date.now() / 1000) + '.' + String(seq++).padStart(6, '0') });
    }
    json({ ok: true });
  });
});
server.keepAliveTimeout = 10000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ kind: 'port', port: server.address().port }));
`;

export interface SlackPost {
  kind: 'chat.postMessage' | 'chat.postEphemeral' | 'response_url';
  /** The channel, or the response_url's id. */
  key: string;
  at: number;
}

export interface BenchSlack {
  url: string;
  apiUrl: string;
  /** Called for every post, as it arrives. */
  onPost(listener: (post: SlackPost) => void): void;
  close(): Promise<number>;
}

export async function startBenchSlack(team: string): Promise<BenchSlack> {
  const worker = new Worker(SOURCE, { eval: true, workerData: { team } });
  const listeners: ((p: SlackPost) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    worker.on('message', (m: SlackPost | { kind: 'port'; port: number }) => {
      if (m.kind === 'port') resolve(m.port);
      else for (const l of listeners) l(m);
    });
    worker.once('error', reject);
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, apiUrl: `${url}/api/`, onPost: (l) => void listeners.push(l), close: () => worker.terminate() };
}
