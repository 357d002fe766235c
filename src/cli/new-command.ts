// `enrichbot new provider <id>` / `enrichbot new trigger <id>`: scaffolds a plugin folder (index,
// README, fixture server, a test that passes as generated) under plugins/<kind>s/<id>/ of this
// checkout, or under --dir. It never overwrites: an existing folder is an error.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PACKAGE_ROOT } from '../config/load.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import { providerFiles } from './scaffold-provider.js';
import { triggerFiles } from './scaffold-trigger.js';

const ID = /^[a-z][a-z0-9-]{1,40}$/;

/** An ESM import path from `fromDir` to `file` (always ./ or ../, forward slashes). */
function importPath(fromDir: string, file: string): string {
  const rel = path.relative(fromDir, file).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Writes the plugin folder and returns its path and the files written. */
export function scaffoldPlugin(kind: 'provider' | 'trigger', id: string, pluginsDir = path.join(PACKAGE_ROOT, 'plugins')): { dir: string; files: string[] } {
  if (!ID.test(id)) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `"${id}" is not a valid plugin id: use 2-41 lowercase letters, digits and dashes, starting with a letter (e.g. acme-finder).`);
  const dir = path.resolve(pluginsDir, `${kind}s`, id);
  if (existsSync(dir)) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `${dir} already exists: pick another id or remove that folder first.`);
  const sdk = importPath(dir, path.join(PACKAGE_ROOT, 'src/sdk/index.js'));
  const support = (name: string) => importPath(path.join(dir, 'test'), path.join(PACKAGE_ROOT, 'test/support', name));
  const files = kind === 'provider' ? providerFiles(id, { sdk, harness: support('provider-harness.js') }) : triggerFiles(id, { sdk, testApp: support('test-app.js') });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return { dir, files: Object.keys(files) };
}

export function registerNewCommand(program: Command): void {
  const cmd = program.command('new').description('Scaffold a plugin: `new provider <id>` or `new trigger <id>`.');
  for (const kind of ['provider', 'trigger'] as const) {
    cmd
      .command(`${kind} <id>`)
      .description(`Write plugins/${kind}s/<id>/ with index.ts, README.md, a fixture server and a passing test.`)
      .option('--dir <pluginsDir>', 'the plugins folder to write into (default: plugins/ of this checkout)')
      .action((id: string, opts: { dir?: string }) => {
        try {
          const { dir, files } = scaffoldPlugin(kind, id, opts.dir);
          process.stdout.write(`Wrote ${dir}:\n${files.map((f) => `  ${f}\n`).join('')}Next: run its test (npx tsc -p tsconfig.build.json && node --experimental-vm-modules node_modules/jest/bin/jest.js ${path.relative(process.cwd(), dir)}), then list "${id}" under plugins.${kind}s in your config.\n`);
        } catch (err) {
          process.stderr.write(`enrichbot: ${errorMessage(err)}\n`);
          process.exit(1);
        }
      });
  }
}
