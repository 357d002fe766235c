// A local Socket Mode endpoint for tests: the WebSocket that apps.connections.open points to
// (Slack answers a wss:// URL; here ws://127.0.0.1). It speaks just enough RFC 6455 for
// @slack/socket-mode (undici's WebSocket): the upgrade, text frames, ping -> pong, close. On
// connect it says `hello` like Slack; tests push envelopes (slash_commands, events_api,
// interactive) and read the acks the app sends back ({ envelope_id, payload }).
import http from 'node:http';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export interface FakeSocketMode {
  /** The ws:// URL apps.connections.open should answer. */
  url: string;
  /** Every message the app sent (acks). */
  received: SocketAck[];
  /** Resolves when an app has connected and been greeted. */
  connected(): Promise<void>;
  send(envelope: Record<string, unknown>): void;
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<SocketAck>;
  close(): Promise<void>;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Reads whole client frames (always masked) off the buffer; returns them and what is left. */
function readFrames(buf: Buffer): { frames: { opcode: number; payload: Buffer }[]; rest: Buffer } {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const opcode = buf[off] & 0x0f;
    const masked = (buf[off + 1] & 0x80) !== 0;
    let len = buf[off + 1] & 0x7f;
    let p = off + 2;
    if (len === 126) {
      if (buf.length - p < 2) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (buf.length - p < 8) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    const maskLen = masked ? 4 : 0;
    if (buf.length - p < maskLen + len) break;
    const mask = masked ? buf.subarray(p, p + 4) : undefined;
    p += maskLen;
    const payload = Buffer.from(buf.subarray(p, p + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
    frames.push({ opcode, payload });
    off = p + len;
  }
  return { frames, rest: buf.subarray(off) };
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const received: SocketAck[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Duplex>();
  let greeted = false;
  const server = http.createServer((_req, res) => res.writeHead(426).end());

  server.on('upgrade', (req, socket: Duplex) => {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string') return void socket.destroy();
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sockets.add(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = readFrames(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const f of frames) {
        if (f.opcode === 0x1) {
          const msg = JSON.parse(f.payload.toString('utf8')) as SocketAck;
          received.push(msg);
          events.emit('ack', msg);
        } else if (f.opcode === 0x8) {
          socket.end(frame(0x8, f.payload.subarray(0, 2)));
        } else if (f.opcode === 0x9) {
          socket.write(frame(0xa, f.payload));
        }
      }
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
    socket.write(frame(0x1, Buffer.from(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-socket-mode' }, connection_info: { app_id: 'A1' } }))));
    greeted = true;
    events.emit('connected');
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;

  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=fake`,
    received,
    connected: () => (greeted ? Promise.resolve() : new Promise((r) => events.once('connected', () => r()))),
    send(envelope) {
      const data = frame(0x1, Buffer.from(JSON.stringify(envelope)));
      for (const s of sockets) s.write(data);
    },
    waitForAck(envelopeId, timeoutMs = 30_000) {
      const found = received.find((m) => m.envelope_id === envelopeId);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          events.off('ack', on);
          reject(new Error(`no ack for envelope ${envelopeId} within ${timeoutMs} ms`));
        }, timeoutMs);
        const on = (m: SocketAck) => {
          if (m.envelope_id !== envelopeId) return;
          clearTimeout(t);
          events.off('ack', on);
          resolve(m);
        };
        events.on('ack', on);
      });
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
