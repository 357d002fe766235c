// Slack allows about one chat.postMessage per second per channel (docs: "Rate limits", special
// rate limits for posting messages). Posts to one channel go through a queue and are spaced by
// `intervalMs`; different channels do not wait for each other. In-process: each web or worker
// process paces its own posts, and the SDK's 429 handling covers what several processes overlap.
export class ChannelPacer {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly intervalMs: number) {}

  run<T>(channel: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(channel) ?? Promise.resolve();
    const result = prev.then(fn);
    const tail = result.then(
      () => this.pause(),
      () => this.pause(),
    );
    this.tails.set(channel, tail);
    void tail.then(() => {
      if (this.tails.get(channel) === tail) this.tails.delete(channel);
    });
    return result;
  }

  private pause(): Promise<void> {
    return this.intervalMs > 0 ? new Promise((r) => setTimeout(r, this.intervalMs).unref()) : Promise.resolve();
  }

  /** Resolves when every queued post has gone out (for stop). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}
