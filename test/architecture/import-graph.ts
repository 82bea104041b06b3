import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { parse } from '@babel/parser';

/**
 * The imports of this repository's production files, read with a real TypeScript parser (type-only
 * imports, re-exports, dynamic `import()` and `import('x').T` types included), resolved to the file or
 * package they name: what the architecture tests judge.
 */

/** One import of a file. */
export interface ImportEdge {
  /** The importing file, repository-relative (`runtime/hono.ts`). */
  readonly from: string;
  /** The specifier as written (`'../contracts/errors.ts'`, `'hono/http-exception'`). */
  readonly specifier: string;
  /** What it names: a repository file, a package (`hono`), a Node built-in (`node:fs`). */
  readonly target:
    | { readonly kind: 'file'; readonly path: string }
    | { readonly kind: 'package'; readonly name: string }
    | { readonly kind: 'builtin'; readonly name: string };
  /** `type` when only types cross (`import type`, `export type … from`, every specifier `type`, `import('x').T`). */
  readonly use: 'value' | 'type';
  readonly line: number;
}

/** Where the files come from: the repository on disk, or a planted set in a test. */
export interface SourceTree {
  /** Every file path, repository-relative, posix separators. */
  readonly files: readonly string[];
  read(path: string): string;
}

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const SKIPPED_FOLDERS = new Set([
  'node_modules',
  '.git',
  'cdk.out',
  'dist',
  '.local',
  'coverage',
  'test-results',
]);

/**
 * The repository's production files: sources under `roots`, without tests, test support, fixtures,
 * benchmarks (`bench/`, `bench.ts`, `*.bench.ts`) and declaration files (`.d.ts`).
 */
export function productionTree(repositoryRoot: string, roots: readonly string[]): SourceTree {
  const files: string[] = [];
  const walk = (relative: string) => {
    const absolute = posix.join(repositoryRoot, relative);
    if (statSync(absolute).isFile()) {
      if (isProductionFile(relative)) files.push(relative);
      return;
    }
    for (const entry of readdirSync(absolute).sort()) {
      if (!SKIPPED_FOLDERS.has(entry)) walk(posix.join(relative, entry));
    }
  };
  for (const root of roots) walk(root);
  return { files, read: (path) => readFileSync(posix.join(repositoryRoot, path), 'utf8') };
}

/** Whether a repository-relative path is production source (not a test, fixture, benchmark or `.d.ts`). */
export function isProductionFile(path: string): boolean {
  if (!SOURCE.test(path) || path.endsWith('.d.ts')) return false;
  if (/\.(test|bench)\.[a-z]+$/.test(path) || /(^|\/)bench\.[a-z]+$/.test(path)) return false;
  const folders = path.split('/').slice(0, -1);
  return !folders.some(
    (f) => f === 'test' || f === 'tests' || f === 'fixtures' || f === 'bench' || f === 'events',
  );
}

/** Every import of every file of `tree`, resolved. */
export function importsOf(tree: SourceTree): ImportEdge[] {
  const known = new Set(tree.files);
  return tree.files.flatMap((file) =>
    specifiersOf(tree.read(file), file).map((found) => ({
      from: file,
      specifier: found.specifier,
      target: resolve(file, found.specifier, known),
      use: found.use,
      line: found.line,
    })),
  );
}

interface FoundSpecifier {
  readonly specifier: string;
  readonly use: 'value' | 'type';
  readonly line: number;
}

/** The module specifiers a source file names, with whether only types cross. */
export function specifiersOf(source: string, fileName: string): FoundSpecifier[] {
  const ast = parse(source, {
    sourceType: 'module',
    plugins: fileName.endsWith('x') ? ['typescript', 'jsx'] : ['typescript'],
  });
  const found: FoundSpecifier[] = [];
  const add = (
    node: { value?: unknown; loc?: { start: { line: number } } | null },
    use: 'value' | 'type',
  ) => {
    if (typeof node.value === 'string')
      found.push({ specifier: node.value, use, line: node.loc?.start.line ?? 0 });
  };
  visit(ast.program, (node) => {
    switch (node.type) {
      case 'ImportDeclaration':
        add(node.source as never, onlyTypes(node, 'importKind'));
        break;
      case 'ExportNamedDeclaration':
      case 'ExportAllDeclaration':
        if (node.source) add(node.source as never, onlyTypes(node, 'exportKind'));
        break;
      case 'ImportExpression':
        add(node.source as never, 'value');
        break;
      case 'CallExpression': {
        const callee = node.callee as { type: string; name?: string };
        const first = (node.arguments as { type: string }[])[0];
        const isImport =
          callee.type === 'Import' || (callee.type === 'Identifier' && callee.name === 'require');
        if (isImport && first?.type === 'StringLiteral') add(first as never, 'value');
        break;
      }
      case 'TSImportType':
        add((node.argument as { literal?: unknown }).literal ?? (node.argument as never), 'type');
        break;
      case 'TSExternalModuleReference':
        add(node.expression as never, 'value');
        break;
    }
  });
  return found;
}

type AstNode = { type: string } & Record<string, unknown>;

/** `type` when the declaration is `import type`/`export type`, or every one of its specifiers is. */
function onlyTypes(node: AstNode, kind: 'importKind' | 'exportKind'): 'value' | 'type' {
  const specifiers = (node.specifiers ?? []) as Record<string, unknown>[];
  const typeOnly =
    node[kind] === 'type' || (specifiers.length > 0 && specifiers.every((s) => s[kind] === 'type'));
  return typeOnly ? 'type' : 'value';
}

function visit(node: unknown, onNode: (node: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) visit(child, onNode);
    return;
  }
  if (typeof node !== 'object' || node === null || typeof (node as AstNode).type !== 'string') return;
  onNode(node as AstNode);
  for (const [key, value] of Object.entries(node)) {
    if (
      key !== 'loc' &&
      key !== 'leadingComments' &&
      key !== 'trailingComments' &&
      typeof value === 'object'
    ) {
      visit(value, onNode);
    }
  }
}

const BUILTINS = new Set(builtinModules);

function resolve(from: string, specifier: string, known: ReadonlySet<string>): ImportEdge['target'] {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const path = posix.normalize(posix.join(posix.dirname(from), specifier));
    for (const candidate of [path, `${path}.ts`, `${path}/index.ts`, `${path}.tsx`]) {
      if (known.has(candidate)) return { kind: 'file', path: candidate };
    }
    // A test file, a fixture or a file outside the scanned roots: judged by where it is.
    return { kind: 'file', path };
  }
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0]!)) {
    return { kind: 'builtin', name: specifier.replace(/^node:/, '') };
  }
  const parts = specifier.split('/');
  return { kind: 'package', name: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
}

/**
 * Import cycles among repository files (each a list of files, the first repeated implicitly at the
 * end), type-only imports included: a cycle of types still ties two rooms' reasons to change together.
 */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (edge.target.kind !== 'file' || edge.target.path === edge.from) continue;
    const set = next.get(edge.from) ?? new Set<string>();
    next.set(edge.from, set);
    set.add(edge.target.path);
  }
  // Tarjan's strongly connected components; a component of more than one file holds a cycle.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (file: string) => {
    indices.set(file, index);
    low.set(file, index);
    index += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of next.get(file) ?? []) {
      if (!indices.has(target)) {
        connect(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, indices.get(target)!));
      }
    }
    if (low.get(file) === indices.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const file of [...next.keys()].sort()) if (!indices.has(file)) connect(file);
  return components.sort((a, b) => a[0]!.localeCompare(b[0]!));
}
