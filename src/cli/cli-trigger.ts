// The CLI as a trigger: `enrichbot enrich`, `correct`, `forget`, `activity`, `batch` reach the
// core through its context's EnrichService like any other trigger. It has no deliver: the
// command that asked waits on the service (Redis pub/sub), so results come by push.
import { z } from 'zod';
import { defineTrigger, type TriggerContext } from '../plugin/contract.js';

export const cliTrigger = defineTrigger({
  kind: 'trigger',
  id: 'cli',
  description: 'The enrichbot command line: enrich inputs or CSV files, correct, forget, activity, batches.',
  configSchema: z.object({}).loose(),
  roles: ['web', 'worker'],
  start(ctx) {
    cliContext = ctx;
  },
  stop() {
    cliContext = undefined;
  },
});

let cliContext: TriggerContext | undefined;

/** The CLI trigger's context in this process (after App.start). */
export function cliTriggerContext(): TriggerContext {
  if (!cliContext) throw new Error('the CLI trigger has not started');
  return cliContext;
}
