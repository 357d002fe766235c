// Completion events over Redis pub/sub: a job's result or a batch's progress reaches every
// process that waits for it as soon as it happens, without polling the database. One
// subscriber connection per process, shared by all waiters.
//
// Pub/sub keeps nothing: a message published while the subscriber is reconnecting (a Redis
// restart or failover) is lost. So a waiter may give a `resync` that reads the state again; it
// runs each time the subscriber is ready again after a drop (ioredis subscribes the channels
// again on its own).
import type { Redis } from 'ioredis';

export type EventKind = 'job' | 'batch';
type Listener = (payload: unknown) => void;

export class CompletionHub {
  private sub?: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly resyncs = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  channel(kind: EventKind, id: string): string {
    return `${this.prefix}:events:${kind}:${id}`;
  }

  async publish(kind: EventKind, id: string, payload: unknown): Promise<void> {
    await this.redis.publish(this.channel(kind, id), JSON.stringify(payload));
  }

  /**
   * Listens from the moment the returned promise resolves (subscribe before reading state).
   * `resync` reads that state again after the subscriber reconnects (messages sent meanwhile are lost).
   */
  async subscribe(kind: EventKind, id: string, listener: Listener, resync?: () => void): Promise<() => Promise<void>> {
    const sub = this.subscriber();
    const ch = this.channel(kind, id);
    let set = this.listeners.get(ch);
    if (!set) {
      set = new Set();
      this.listeners.set(ch, set);
      await sub.subscribe(ch);
    }
    set.add(listener);
    if (resync) this.resyncs.add(resync);
    return async () => {
      if (resync) this.resyncs.delete(resync);
      const s = this.listeners.get(ch);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.listeners.delete(ch);
        if (!this.closed) await sub.unsubscribe(ch).catch(() => undefined);
      }
    };
  }

  private subscriber(): Redis {
    if (!this.sub) {
      this.sub = this.redis.duplicate();
      this.sub.on('message', (ch: string, message: string) => {
        const set = this.listeners.get(ch);
        if (!set) return;
        let payload: unknown;
        try {
          payload = JSON.parse(message);
        } catch {
          return;
        }
        for (const l of [...set]) l(payload);
      });
      this.sub.on('error', () => undefined);
      let readyBefore = false;
      this.sub.on('ready', () => {
        if (readyBefore) for (const r of [...this.resyncs]) r();
        readyBefore = true;
      });
    }
    return this.sub;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.resyncs.clear();
    this.sub?.disconnect();
  }
}
