// `enrichbot api-key create | list | revoke`, mounted by the core while this trigger is enabled.
// The keys live in the trigger's own collection, so each command starts enrichbot in the client
// role with this trigger too and works through its context.
import { EnrichbotError, ErrorCodes, type CliContext, type Command, type TriggerContext } from '../../../src/sdk/index.js';
import { API_KEYS_COLLECTION, createApiKey, listApiKeys, parseExpiry, parseScopes, revokeApiKey, SCOPES, type KeyLimits } from './api-keys.js';
import type { HttpApiConfig } from './config.js';

type Cli = CliContext<TriggerContext<HttpApiConfig>>;
type Keys = ReturnType<TriggerContext['collection']>;

const withKeys = (cli: Cli, fn: (keys: Keys) => Promise<number>) => cli.run({ role: 'client' }, (ctx) => fn(ctx.collection(API_KEYS_COLLECTION)));

export function registerApiKeyCommands(program: Command, cli: Cli): void {
  const cmd = program.command('api-key').description('Create, list and revoke keys for the HTTP API (/v1).');
  registerCreate(cmd, cli);
  cmd
    .command('list')
    .description('List keys (never the keys themselves): id, workspace, name, scopes, expiry, created, revoked.')
    .option('-w, --workspace <id>', 'one workspace only')
    .option('--json', 'print JSON')
    .action((opts: { workspace?: string; json?: boolean }) =>
      withKeys(cli, async (keys) => {
        const rows = await listApiKeys(keys, opts.workspace);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (!rows.length) process.stdout.write('No API keys yet: `enrichbot api-key create --workspace <id>` makes one.\n');
        else for (const r of rows) process.stdout.write(`${r.id}  ${r.workspace.padEnd(16)} ${r.name.padEnd(20)} ${r.scopes.join(',').padEnd(18)} created ${r.createdAt.toISOString()}${r.expiresAt ? `  expires ${r.expiresAt.toISOString()}` : ''}${r.revokedAt ? `  REVOKED ${r.revokedAt.toISOString()}` : ''}\n`);
        return 0;
      }),
    );
  cmd
    .command('revoke')
    .description('Revoke a key by its id (from `list`); requests with it are refused from now on.')
    .argument('<id>', 'the key id, key_...')
    .action((id: string) =>
      withKeys(cli, async (keys) => {
        const r = await revokeApiKey(keys, id);
        process.stdout.write(`Revoked ${r.id} (${r.workspace}, ${r.name}).\n`);
        return 0;
      }),
    );
}

interface CreateOpts {
  workspace: string;
  name?: string;
  scope?: string[];
  expires?: string;
  callbackUrl?: string;
  ratePerMinute?: number;
  ratePerDay?: number;
  itemsPerMinute?: number;
  itemsPerDay?: number;
  json?: boolean;
}

const count = (flag: string) => (v: string) => {
  if (!/^\d{1,12}$/.test(v) || Number(v) < 1) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `${flag} takes a whole number of at least 1, not "${v}".`);
  return Number(v);
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

function registerCreate(cmd: Command, cli: Cli): void {
  cmd
    .command('create')
    .description('Create a key for one workspace; it is shown once and stored hashed.')
    .requiredOption('-w, --workspace <id>', 'the workspace whose jobs and records the key may use')
    .option('-n, --name <name>', 'who or what uses it (shown in `list`)')
    .option('-s, --scope <scopes>', `what it may do, repeatable or comma-separated: ${SCOPES.join(', ')} (default enrich,read)`, collect)
    .option('-e, --expires <when>', 'when it stops working: a duration (90d, 12h) or a date (2027-01-31)')
    .option('--callback-url <url>', 'where completion webhooks go when a request names no callbackUrl')
    .option('--rate-per-minute <n>', 'its own requests per minute (default: the trigger setting)', count('--rate-per-minute'))
    .option('--rate-per-day <n>', 'its own requests per UTC day', count('--rate-per-day'))
    .option('--items-per-minute <n>', 'its own items queued per minute', count('--items-per-minute'))
    .option('--items-per-day <n>', 'its own items queued per UTC day', count('--items-per-day'))
    .option('--json', 'print JSON')
    .action((opts: CreateOpts) => withKeys(cli, (keys) => create(keys, opts)));
}

async function create(keys: Keys, opts: CreateOpts): Promise<number> {
  const limits: KeyLimits = Object.fromEntries(Object.entries({ ratePerMinute: opts.ratePerMinute, ratePerDay: opts.ratePerDay, itemsPerMinute: opts.itemsPerMinute, itemsPerDay: opts.itemsPerDay }).filter(([, v]) => v !== undefined));
  const { key, webhookSecret, record } = await createApiKey(keys, {
    workspace: opts.workspace,
    name: opts.name,
    ...(opts.scope ? { scopes: parseScopes(opts.scope) } : {}),
    ...(opts.expires ? { expiresAt: parseExpiry(opts.expires) } : {}),
    ...(opts.callbackUrl ? { callbackUrl: opts.callbackUrl } : {}),
    limits,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify({ key, webhookSecret, ...record }, null, 2)}\n`);
  else {
    process.stdout.write(`${key}\n`);
    process.stderr.write(`Key ${record.id} for workspace ${record.workspace} (${record.name}), scopes ${record.scopes.join(', ')}${record.expiresAt ? `, expires ${record.expiresAt.toISOString()}` : ''}. Copy it now: it is not shown again. Send it as "Authorization: Bearer <key>".\nWebhook signing secret (also shown only now; verifies Enrichbot-Signature on callbacks): ${webhookSecret}\n`);
  }
  return 0;
}
