import { readdirSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { parse } from '@babel/parser';

/**
 * "One entry, one derivation" (DESIGN.md), read from the sources with a real TypeScript parser: the
 * renderers (AWS stacks, the local runtime, the deploy command, preflight) import no value from
 * config/ and never the whole manifest's type, and production code calls `wirePlatform` exactly once,
 * in the CLI. Pure over a {@link SourceTree}, so a test can plant a violation in a tree of its own.
 */

/** The files a check reads: the repository on disk, or a planted set. */
export interface SourceTree {
  /** Repository-relative paths, posix separators. */
  readonly files: readonly string[];
  read(path: string): string;
}

/**
 * The rooms that render the wiring: they receive `PlatformWiring` and translate it. In the CLI, the
 * files that read the declaration's images for a command (its fit, where each builds from, the
 * workflow's inputs) are renderers too.
 */
export const RENDERERS = [
  'platform/aws/',
  'platform/local/',
  'platform/deploy/',
  'platform/preflight/',
  'platform/cli/image-fit.ts',
  'platform/cli/image-builds.ts',
  'platform/cli/commands/images.ts',
  'platform/cli/commands/workflow.ts',
] as const;

/** The one place that derives the wiring. */
export const DERIVATION = 'platform/cli/declaration.ts';

/** The manifest's own type: a renderer that names it takes the manifest instead of the wiring. */
const WHOLE_MANIFEST = 'Manifest';

/** One broken rule, as a test reports it. */
export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
}

interface ImportUse {
  readonly target: string;
  readonly line: number;
  /** Only types cross (`import type`, every specifier `type`, `import('x').T`). */
  readonly typeOnly: boolean;
  /** The names imported (`*` for a namespace or a re-export of everything). */
  readonly names: readonly string[];
}

const SOURCE = /\.(ts|tsx|mts)$/;
const SKIPPED = new Set(['node_modules', '.git', 'cdk.out', 'dist', '.local', 'coverage']);

/**
 * This repository's production sources under `roots`: no tests, test support, fixtures or benchmarks
 * (they may wire a manifest themselves, as a GIVEN).
 */
export function productionSources(repositoryRoot: string, roots: readonly string[]): SourceTree {
  const files: string[] = [];
  const walk = (relative: string) => {
    const absolute = posix.join(repositoryRoot, relative);
    if (statSync(absolute).isFile()) {
      if (SOURCE.test(relative) && !isSupport(relative)) files.push(relative);
      return;
    }
    for (const entry of readdirSync(absolute).sort())
      if (!SKIPPED.has(entry)) walk(posix.join(relative, entry));
  };
  for (const root of roots) walk(root);
  return { files, read: (path) => readFileSync(posix.join(repositoryRoot, path), 'utf8') };
}

function isSupport(path: string): boolean {
  return (
    /\.(test|bench)\.tsx?$/.test(path) ||
    /(^|\/)(test|tests|fixtures|bench)\//.test(path) ||
    /(^|\/)bench\.ts$/.test(path) ||
    path.endsWith('.d.ts')
  );
}

/** Every violation of the two rules in `tree`, in file order. */
export function checkOneDerivation(tree: SourceTree): Violation[] {
  const violations: Violation[] = [];
  const calls: { file: string; line: number }[] = [];
  for (const file of tree.files) {
    const ast = parse(tree.read(file), { sourceType: 'module', plugins: ['typescript', 'jsx'] });
    const scan = scanFile(file, ast.program);
    calls.push(...scan.wireCalls.map((line) => ({ file, line })));
    if (!RENDERERS.some((room) => file.startsWith(room))) continue;
    for (const use of scan.imports) {
      if (!use.target.startsWith('config/')) continue;
      if (!use.typeOnly) {
        violations.push({
          file,
          line: use.line,
          rule: `a renderer imports a value from ${use.target}; it renders the wiring (platform/wiring) and takes nothing else from config/`,
        });
      } else if (use.names.includes(WHOLE_MANIFEST) || use.names.includes('*')) {
        violations.push({
          file,
          line: use.line,
          rule: `a renderer imports the manifest's type from ${use.target}; it receives PlatformWiring, never the manifest`,
        });
      }
    }
  }
  for (const call of calls.filter((c) => c.file !== DERIVATION)) {
    violations.push({
      file: call.file,
      line: call.line,
      rule: `wirePlatform is called outside ${DERIVATION}; the CLI derives the wiring once and hands it to the renderers`,
    });
  }
  const derivations = calls.filter((c) => c.file === DERIVATION);
  if (derivations.length !== 1) {
    violations.push({
      file: DERIVATION,
      line: derivations[1]?.line ?? 0,
      rule: `wirePlatform is called ${derivations.length} times in ${DERIVATION}; exactly once is the one derivation`,
    });
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** What one file imports (resolved to repository paths) and where it calls `wirePlatform`. */
function scanFile(file: string, program: object): { imports: ImportUse[]; wireCalls: number[] } {
  const imports: ImportUse[] = [];
  const wireCalls: number[] = [];
  const add = (specifier: string, node: Node, typeOnly: boolean, names: readonly string[]) => {
    if (!specifier.startsWith('.')) return;
    imports.push({
      target: posix.normalize(posix.join(posix.dirname(file), specifier)),
      line: node.loc?.start.line ?? 0,
      typeOnly,
      names,
    });
  };
  visit(program, (node) => {
    switch (node.type) {
      case 'ImportDeclaration': {
        const specifiers = (node.specifiers ?? []) as Node[];
        const typeOnly =
          node.importKind === 'type' ||
          (specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type'));
        add(String(node.source?.value), node, typeOnly, specifiers.map(importedName));
        break;
      }
      case 'ExportNamedDeclaration':
      case 'ExportAllDeclaration':
        if (node.source) {
          const specifiers = (node.specifiers ?? []) as Node[];
          const typeOnly =
            node.exportKind === 'type' ||
            (specifiers.length > 0 && specifiers.every((s) => s.exportKind === 'type'));
          add(
            String(node.source.value),
            node,
            typeOnly,
            node.type === 'ExportAllDeclaration' ? ['*'] : specifiers.map(importedName),
          );
        }
        break;
      case 'ImportExpression':
        if (node.source?.type === 'StringLiteral') add(String(node.source.value), node, false, ['*']);
        break;
      case 'CallExpression': {
        const callee = node.callee as Node | undefined;
        if (callee?.type === 'Import') {
          const [first] = (node.arguments ?? []) as Node[];
          if (first?.type === 'StringLiteral') add(String(first.value), node, false, ['*']);
        }
        const name =
          callee?.type === 'Identifier'
            ? callee.name
            : callee?.type === 'MemberExpression' &&
                (callee.property as Node | undefined)?.type === 'Identifier'
              ? (callee.property as Node).name
              : undefined;
        if (name === 'wirePlatform') wireCalls.push(node.loc?.start.line ?? 0);
        break;
      }
      case 'TSImportType': {
        const argument = (node.argument ?? node.parameter) as Node | undefined;
        const literal = argument?.type === 'TSLiteralType' ? (argument.literal as Node) : argument;
        const qualifier = node.qualifier as Node | undefined;
        if (literal?.type === 'StringLiteral') {
          add(String(literal.value), node, true, [
            qualifier?.type === 'Identifier' ? String(qualifier.name) : '*',
          ]);
        }
        break;
      }
    }
  });
  return { imports, wireCalls };
}

/** The slice of Babel's AST this check reads. */
interface Node {
  readonly type: string;
  readonly loc?: { readonly start: { readonly line: number } } | null;
  readonly [key: string]: unknown;
  readonly source?: { readonly type: string; readonly value: unknown } | null;
  readonly importKind?: string | null;
  readonly exportKind?: string | null;
  readonly name?: string;
}

function importedName(specifier: Node): string {
  if (specifier.type === 'ImportNamespaceSpecifier') return '*';
  const imported = (specifier.imported ?? specifier.local) as Node | undefined;
  return String(imported?.name ?? (imported as { value?: string } | undefined)?.value ?? '*');
}

function visit(node: unknown, each: (node: Node) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) visit(child, each);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const typed = node as Node;
  if (typeof typed.type === 'string') each(typed);
  for (const [key, value] of Object.entries(typed)) {
    if (key === 'loc' || key === 'start' || key === 'end' || key === 'extra') continue;
    if (value && typeof value === 'object') visit(value, each);
  }
}
