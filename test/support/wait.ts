// Waiting in tests by condition, never by a fixed sleep: poll until something holds, with a
// deadline that names what did not happen.
import type { Models } from '../../src/store/models.js';

/** Polls `fn` until it returns something truthy (and returns that), or throws after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until no job is queued or running (each is done, failed, cancelled or paused). */
export async function jobsSettled(models: Pick<Models, 'Job'>, timeoutMs = 60_000): Promise<void> {
  await until('every job to leave queued and running', async () => (await models.Job.countDocuments({ status: { $in: ['queued', 'running'] } })) === 0, timeoutMs);
}
