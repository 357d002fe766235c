// `enrichbot api-key create|list|revoke`: the HTTP API's keys. The keys live in the http-api
// trigger's own collection, so the command starts the App in the client role with that trigger
// too (runWithApp's `triggers`) and works through its context; the key functions are the plugin's.
import { Command } from 'commander';
import type { TriggerContext } from '../plugin/contract.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';
import { runWithApp } from './cli-app.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../plugins/triggers/http-api/api-keys.js';
import { API_KEYS_COLLECTION } from '../../plugins/triggers/http-api/index.js';

const TRIGGER = 'http-api';

async function withKeys(fn: (keys: ReturnType<TriggerContext['collection']>) => Promise<number>): Promise<never> {
  return runWithApp({ worker: false, triggers: [TRIGGER] }, async (_cli, app) => {
    const ctx = app.registry.context(TRIGGER) as TriggerContext | undefined;
    if (!ctx) {
      throw new EnrichbotError(ErrorCodes.TRIGGER_UNKNOWN, 'The HTTP API is not enabled: add http-api to plugins.triggers in your config (see config/default.yaml), then run this again.');
    }
    return fn(ctx.collection(API_KEYS_COLLECTION));
  });
}

export function registerApiKeyCommands(program: Command): void {
  const cmd = program.command('api-key').description('Create, list and revoke keys for the HTTP API (/v1).');

  cmd
    .command('create')
    .description('Create a key for one workspace; it is shown once and stored hashed.')
    .requiredOption('-w, --workspace <id>', 'the workspace whose jobs and records the key may use')
    .option('-n, --name <name>', 'who or what uses it (shown in `list`)')
    .option('--json', 'print JSON')
    .action((opts: { workspace: string; name?: string; json?: boolean }) =>
      withKeys(async (keys) => {
        const { key, record } = await createApiKey(keys, { workspace: opts.workspace, name: opts.name });
        if (opts.json) process.stdout.write(`${JSON.stringify({ key, ...record }, null, 2)}\n`);
        else {
          process.stdout.write(`${key}\n`);
          process.stderr.write(`Key ${record.id} for workspace ${record.workspace} (${record.name}). Copy it now: it is not shown again. Send it as "Authorization: Bearer <key>".\n`);
        }
        return 0;
      }),
    );

  cmd
    .command('list')
    .description('List keys (never the keys themselves): id, workspace, name, created, revoked.')
    .option('-w, --workspace <id>', 'one workspace only')
    .option('--json', 'print JSON')
    .action((opts: { workspace?: string; json?: boolean }) =>
      withKeys(async (keys) => {
        const rows = await listApiKeys(keys, opts.workspace);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (!rows.length) process.stdout.write('No API keys yet: `enrichbot api-key create --workspace <id>` makes one.\n');
        else for (const r of rows) process.stdout.write(`${r.id}  ${r.workspace.padEnd(16)} ${r.name.padEnd(20)} created ${r.createdAt.toISOString()}${r.revokedAt ? `  REVOKED ${r.revokedAt.toISOString()}` : ''}\n`);
        return 0;
      }),
    );

  cmd
    .command('revoke')
    .description('Revoke a key by its id (from `list`); requests with it are refused from now on.')
    .argument('<id>', 'the key id, key_...')
    .action((id: string) =>
      withKeys(async (keys) => {
        const r = await revokeApiKey(keys, id);
        process.stdout.write(`Revoked ${r.id} (${r.workspace}, ${r.name}).\n`);
        return 0;
      }),
    );
}
