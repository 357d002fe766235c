// Lists the longest functions under the given folders (default src/), measured on the TypeScript
// AST (first to last line of each function, method, accessor or arrow), so a refactoring round
// can compare its before and after: `npm run build && node dist/scripts/longest-functions.js [n] [dirs...]`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

interface FunctionSize { name: string; file: string; lines: number }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

function functionName(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) {
    const owner = node.parent && ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
    return owner + named.name.text;
  }
  if (ts.isConstructorDeclaration(node) && node.parent.name) return `${node.parent.name.text}.constructor`;
  // An arrow or function expression takes the name it is bound to (const x = () => ..., { x: () => ... }).
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && ts.isIdentifier(parent.name)) {
    return parent.name.text;
  }
  return '(anonymous)';
}

export function measure(files: string[], root: string): FunctionSize[] {
  const sizes: FunctionSize[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        sizes.push({ name: functionName(node), file: relative(root, file), lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return sizes.sort((a, b) => b.lines - a.lines);
}

const [count = '15', ...dirs] = process.argv.slice(2);
const root = process.cwd();
const files = (dirs.length ? dirs : ['src']).flatMap((dir) => sourceFiles(join(root, dir)));
for (const { name, file, lines } of measure(files, root).slice(0, Number(count))) {
  console.log(`${String(lines).padStart(4)}  ${name}  ${file}`);
}
