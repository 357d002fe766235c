// The core names no plugin (issue 18): no compiled module of src/ holds a plugin id as a string
// literal ('hubspot', "slack", `http-api`), except the configuration defaults in src/config
// (the default waterfalls list provider ids). It reads dist/src, which `npm test` compiles
// before jest starts; it builds nothing itself. Comments are not code: the files are parsed,
// and only string and template literals whose whole text is an id count.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { PACKAGE_ROOT } from '../../src/config/load.js';

/** Where a plugin id may appear: configuration defaults only. */
const ALLOWED_DIRS = ['src/config/'];
/** Literals that are the same word as a plugin id but not the plugin, with why. */
const NOT_A_PLUGIN: { file: string; id: string; why: string }[] = [
  { file: 'src/csv/header-map.ts', id: 'website', why: 'a CSV column heading read as the domain, not the website provider' },
];

const pluginIds = (['providers', 'triggers'] as const).flatMap((kind) =>
  readdirSync(path.join(PACKAGE_ROOT, 'plugins', kind), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name),
);

/** src/**\/*.ts (not .d.ts): the sources whose compiled module is read, so a stale dist file of a deleted source is not. */
function sources(dir: string): string[] {
  return readdirSync(path.join(PACKAGE_ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = `${dir}/${d.name}`;
    if (d.isDirectory()) return sources(rel);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [rel] : [];
  });
}

function literals(file: string): { text: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const out: { text: string; line: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      out.push({ text: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
    node.forEachChild(visit);
  };
  visit(source);
  return out;
}

test('no compiled module of src/ names a plugin id, outside the configuration defaults', () => {
  expect(pluginIds).toEqual(expect.arrayContaining(['hubspot', 'slack', 'http-api', 'daily-digest', 'website']));
  const ids = new Set(pluginIds);
  const offenders: string[] = [];
  const files = sources('src').filter((f) => !ALLOWED_DIRS.some((d) => f.startsWith(d)));
  expect(files.length).toBeGreaterThan(50);
  for (const src of files) {
    const compiled = path.join(PACKAGE_ROOT, 'dist', src.replace(/\.ts$/, '.js'));
    if (!existsSync(compiled)) throw new Error(`${compiled} is missing: compile first (tsc -p tsconfig.build.json), as npm test does`);
    for (const lit of literals(compiled)) {
      if (!ids.has(lit.text) || NOT_A_PLUGIN.some((n) => n.file === src && n.id === lit.text)) continue;
      offenders.push(`${path.relative(PACKAGE_ROOT, compiled)}:${lit.line} '${lit.text}'`);
    }
  }
  expect(offenders).toEqual([]);
});

test('the check finds a plugin id in a compiled literal and ignores it in a comment', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'core-names-'));
  const file = path.join(dir, 'probe.js');
  writeFileSync(file, "// 'hubspot' in a comment\nconst a = `slack`;\nconst b = \"x\" + 'http-api' + `${a}hubspot`;\n");
  try {
    expect(literals(file).filter((l) => pluginIds.includes(l.text))).toEqual([
      { text: 'slack', line: 2 },
      { text: 'http-api', line: 3 },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
