// `enrichbot new provider <id>` / `enrichbot new trigger <id>`: scaffolds a plugin folder under
// plugins/<kind>s/<id>/ of this checkout, or under --dir, from templates/<kind>/: a provider for
// a made-up "work email by name at a domain" API or a webhook trigger, each with its README, a
// fixture server and a test that passes as generated. It never overwrites an existing folder.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PACKAGE_ROOT } from '../config/load.js';
import { EnrichbotError, ErrorCodes, errorMessage } from '../errors.js';
import { ID } from '../plugin/registry.js';

/** An ESM import path from `fromDir` to `file` (always ./ or ../, forward slashes). */
function importPath(fromDir: string, file: string): string {
  const rel = path.relative(fromDir, file).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** The .tmpl files under `dir` (templates/<kind>/), as paths relative to it. */
function templateFiles(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? templateFiles(dir, path.join(prefix, e.name)) : e.name.endsWith('.tmpl') ? [path.join(prefix, e.name)] : [],
  );
}

/** Writes the plugin folder and returns its path and the files written. */
export function scaffoldPlugin(kind: 'provider' | 'trigger', id: string, pluginsDir = path.join(PACKAGE_ROOT, 'plugins')): { dir: string; files: string[] } {
  if (!ID.test(id)) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `"${id}" is not a valid plugin id: use 2-41 lowercase letters, digits and dashes, starting with a letter (e.g. acme-finder).`);
  const dir = path.resolve(pluginsDir, `${kind}s`, id);
  if (existsSync(dir)) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `${dir} already exists: pick another id or remove that folder first.`);
  const support = (name: string) => importPath(path.join(dir, 'test'), path.join(PACKAGE_ROOT, 'test/support', name));
  const values: Record<string, string> = {
    __ID__: id,
    __ENV__: id.toUpperCase().replace(/[^A-Z0-9]+/g, '_'),
    __SDK__: importPath(dir, path.join(PACKAGE_ROOT, 'src/sdk/index.js')),
    __HARNESS__: support('provider-harness.js'),
    __TEST_APP__: support('test-app.js'),
  };
  const render = (text: string) => text.replace(/__(ID|ENV|SDK|HARNESS|TEST_APP)__/g, (key) => values[key]);
  const templates = path.join(PACKAGE_ROOT, 'templates', kind);
  // The Docker image ships no templates: scaffolding is for a checkout of the sources.
  if (!existsSync(templates)) throw new EnrichbotError(ErrorCodes.INPUT_INVALID, `${templates} is missing: run \`enrichbot new\` from a checkout of enrichbot's sources.`);
  const files = templateFiles(templates).map((template) => {
    const name = render(template.slice(0, -'.tmpl'.length));
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), render(readFileSync(path.join(templates, template), 'utf8')));
    return name.split(path.sep).join('/');
  });
  return { dir, files: files.sort() };
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
