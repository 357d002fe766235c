// Stops what global-setup.ts started (nothing when the services were there already). Jest
// loads this file on its own (no module mapping), so it shares only a globalThis key with it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const state = g.__ENRICHBOT_SERVICES_STARTED__;
  if (typeof state !== 'string') return;
  delete g.__ENRICHBOT_SERVICES_STARTED__;
  spawnSync('bash', [path.join(ROOT, 'scripts/services.sh'), 'stop', state], { stdio: ['ignore', 'ignore', 'inherit'] });
}
