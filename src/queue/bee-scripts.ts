// bee-queue runs its Lua scripts by EVALSHA and loads them once, at start. Redis keeps scripts in
// memory only (not in the append-only file or a snapshot), so after any Redis restart or
// failover every EVALSHA answers NOSCRIPT and the process can no longer queue a job, check for
// stalled ones or activate delayed retries until it is restarted (bee-queue issue #489, open).
// This loads the scripts again on NOSCRIPT and retries the command once.
import { createRequire } from 'node:module';
import type BeeQueue from 'bee-queue';

type EvalScriptOn = (commandable: unknown, args: unknown[]) => Promise<unknown>;
interface BeeInternals {
  client?: unknown;
  _evalScriptOn?: EvalScriptOn;
}

const lua = createRequire(import.meta.url)('bee-queue/lib/lua/index.js') as { buildCache(client: unknown): Promise<unknown> };

const isNoScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');

/** Makes this queue load its scripts again when Redis has lost them (restart, failover, SCRIPT FLUSH). */
export function reloadScriptsWhenLost(bee: BeeQueue<unknown>): void {
  const internals = bee as unknown as BeeInternals;
  const evalScriptOn = internals._evalScriptOn;
  // Pinned in package-lock.json; an upgrade that renames it must fail here, not after a restart.
  if (typeof evalScriptOn !== 'function') throw new Error('bee-queue no longer has Queue#_evalScriptOn: src/queue/bee-scripts.ts must be updated for this bee-queue version.');
  internals._evalScriptOn = async (commandable, args) => {
    // bee-queue rewrites args in place (script name to SHA, callback appended): keep the original.
    const original = [...args];
    try {
      return await evalScriptOn.call(bee, commandable, args);
    } catch (err) {
      // A batch's commands fail at exec, together: only a direct call is retried.
      if (!isNoScript(err) || commandable !== internals.client) throw err;
      await lua.buildCache(internals.client);
      return evalScriptOn.call(bee, commandable, original);
    }
  };
}
