// Stops what global-setup.ts started (nothing when the services were there already). Jest
// loads this file on its own (no module mapping), so it shares only a globalThis key with it.
import { spawnSync } from 'node:child_process';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const started = g.__ENRICHBOT_SERVICES_STARTED__ as { script: string; state: string } | undefined;
  if (!started) return;
  delete g.__ENRICHBOT_SERVICES_STARTED__;
  spawnSync('bash', [started.script, 'stop', started.state], { stdio: ['ignore', 'ignore', 'inherit'] });
}
