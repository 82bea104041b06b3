import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import {
  DeclarationError,
  isDeclarationProblem,
  loadDeclaration,
  type Manifest,
} from '../../config/index.ts';
import { type PlatformWiring, wirePlatform } from '../wiring/index.ts';

/** The variable naming the declaration module, when `--declaration` does not. */
export const DECLARATION_VARIABLE = 'PLATFORM_DECLARATION';

/** Where a repository keeps its declaration when neither `--declaration` nor the variable names one. */
export const DEFAULT_DECLARATION = 'config/declaration.ts';

/** A declaration, synthesised and wired: the one derivation every command renders from. */
export interface DeclaredPlatform {
  /** The validated manifest (written beside the templates by `synth`; renderers never read it). */
  readonly manifest: Manifest;
  readonly wiring: PlatformWiring;
  /**
   * The team's repository: the nearest folder above the declaration with a package.json (else the
   * current directory). Every path the declaration names (Dockerfiles, entries, build contexts) is
   * relative to it.
   */
  readonly root: string;
}

/**
 * The declaration file a command reads: `--declaration FILE`, else the variable, else the default
 * place; a relative path is the current directory's (the repository's).
 */
export function declarationFile(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const named = flag ?? env[DECLARATION_VARIABLE];
  return named === undefined || named.trim() === '' ? DEFAULT_DECLARATION : named;
}

/** The repository a declaration belongs to: the nearest folder above it holding a package.json. */
export function repositoryRootOf(file: string, cwd: string = process.cwd()): string {
  let dir = dirname(isAbsolute(file) ? file : resolve(cwd, file));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return cwd;
    dir = parent;
  }
}

/**
 * Loads the declaration, synthesises its manifest and derives the wiring, once. A declaration a user
 * can fix comes back as `{ problem }`: its message alone (the construct path, the value, the fix).
 *
 * @example
 * const declared = await declarePlatformFrom(declarationFile(undefined, process.env));
 */
export async function declarePlatformFrom(
  file: string,
): Promise<{ readonly declared: DeclaredPlatform } | { readonly problem: string }> {
  try {
    const root = repositoryRootOf(file);
    await refuseCommonJs(file);
    loadAsEsmWithin(root);
    const manifest = (await loadDeclaration(file)).synth();
    return { declared: { manifest, wiring: wirePlatform(manifest), root } };
  } catch (error) {
    if (!isDeclarationProblem(error)) throw error;
    return { problem: error.message };
  }
}

const COMMONJS_FIX =
  "write it as an ES module: import { App, … } from 'ecs-anomaly-platform' and export default app (a .ts or .mjs file)";

/**
 * A declaration written as CommonJS (`require`, `module.exports`, a .cjs/.cts file) is refused: the
 * library is an ES module, and a required copy of it would be a second `App`. esbuild reads the syntax.
 */
async function refuseCommonJs(file: string): Promise<void> {
  const path = isAbsolute(file) ? file : resolve(file);
  const refuse = () => {
    throw new DeclarationError('(declaration)', 'file', file, 'is a CommonJS module', COMMONJS_FIX);
  };
  if (['.cjs', '.cts'].includes(extname(path))) refuse();
  if (!existsSync(path)) return; // loadDeclaration names the missing file
  const result = await esbuild
    .build({
      entryPoints: [path],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    .catch(() => undefined) // a syntax error: loading it names the cause
    // esbuild's service process would otherwise live as long as the command (all of `start`).
    .finally(() => esbuild.stop());
  // The metafile keys inputs by their path relative to the current directory.
  const entry = Object.entries(result?.metafile.inputs ?? {}).find(([key]) => resolve(key) === path);
  if (entry?.[1].format === 'cjs') refuse();
}

const scopes = new Set<string>();

/** Registers (once per repository) the hook that loads the team's ES modules as ES modules. */
function loadAsEsmWithin(root: string): void {
  const scope = pathToFileURL(`${root}/`).href;
  if (scopes.has(scope)) return;
  scopes.add(scope);
  register(new URL('./esm-scope-hook.mjs', import.meta.url), { data: { scope } });
}
