import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import {
  type App,
  DeclarationError,
  type DeclaredEnvironment,
  isDeclarationProblem,
  LOCAL_ENVIRONMENT,
  loadDeclaration,
  type Manifest,
} from '../../config/index.ts';
import { type PlatformWiring, wirePlatform } from '../wiring/index.ts';

/** The variable naming the declaration module, when `--declaration` does not. */
export const DECLARATION_VARIABLE = 'PLATFORM_DECLARATION';

/** The variable naming the environment, when `--env` does not. */
export const ENVIRONMENT_VARIABLE = 'PLATFORM_ENVIRONMENT';

/**
 * Which environment a command renders: `declared`, one the declaration declares (AWS: synth,
 * preflight, deploy, …); `local`, the declaration without any environment's overrides (`start`).
 */
export type EnvironmentMode = 'declared' | 'local';

/** The environment a command was asked for: `--env NAME`, else the variable; undefined when neither names one. */
export function requestedEnvironment(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const named = flag ?? env[ENVIRONMENT_VARIABLE];
  return named === undefined || named.trim() === '' ? undefined : named.trim();
}

/** Where a repository keeps its declaration when neither `--declaration` nor the variable names one. */
export const DEFAULT_DECLARATION = 'config/declaration.ts';

/** A declaration, synthesised and wired: the one derivation every command renders from. */
export interface DeclaredPlatform {
  /** The validated manifest (written beside the templates by `synth`; renderers never read it). */
  readonly manifest: Manifest;
  readonly wiring: PlatformWiring;
  /** The environment rendered; null: none (a declaration without environments, or `start`'s local one). */
  readonly environment: DeclaredEnvironment | null;
  /**
   * Every environment the declaration declares, in promotion order (a release goes through them in
   * this order), each with whether it is protected. Empty: the declaration is deployed once, as itself.
   */
  readonly environments: readonly DeclaredEnvironment[];
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
 * Loads the declaration, synthesises its manifest for the chosen environment and derives the wiring,
 * once. A declaration a user can fix, or an environment it does not declare, comes back as
 * `{ problem }`: its message alone (the construct path, the value, the fix). `note` says which
 * environment was taken when none was asked for.
 *
 * @example
 * const declared = await declarePlatformFrom(declarationFile(undefined, process.env), { mode: 'declared', requested: 'staging' });
 */
export async function declarePlatformFrom(
  file: string,
  choice: { readonly mode: EnvironmentMode; readonly requested?: string | undefined } = { mode: 'local' },
): Promise<{ readonly declared: DeclaredPlatform; readonly note?: string } | { readonly problem: string }> {
  try {
    const root = repositoryRootOf(file);
    await refuseCommonJs(file);
    loadAsEsmWithin(root);
    const app = await loadDeclaration(file);
    const { environment, note } = chooseEnvironment(app, choice.mode, choice.requested);
    const manifest = app.synth(environment === undefined ? {} : { environment });
    const declared: DeclaredPlatform = {
      manifest,
      wiring: wirePlatform(manifest),
      root,
      environment: manifest.environment,
      environments: manifest.environments,
    };
    return note ? { declared, note } : { declared };
  } catch (error) {
    if (!isDeclarationProblem(error)) throw error;
    return { problem: error.message };
  }
}

/** The environment to synthesise (undefined: the declaration's own), or a DeclarationError naming the fix. */
function chooseEnvironment(
  app: App,
  mode: EnvironmentMode,
  requested: string | undefined,
): { environment?: string; note?: string } {
  const platform = app.platformName;
  const names = app.environments.map((e) => e.name);
  if (mode === 'local') {
    if (requested === undefined || requested === LOCAL_ENVIRONMENT) return {};
    throw new DeclarationError(
      platform,
      'environment',
      requested,
      "is deployed, not run here: start runs the local environment (the declaration without any environment's overrides)",
      `leave out --env and ${ENVIRONMENT_VARIABLE}, or pass --env ${LOCAL_ENVIRONMENT}`,
    );
  }
  if (requested === LOCAL_ENVIRONMENT) {
    throw new DeclarationError(
      platform,
      'environment',
      requested,
      'is the one start runs, not one to deploy',
      names.length > 0
        ? `choose one of ${names.join(', ')} (--env or ${ENVIRONMENT_VARIABLE})`
        : 'leave out --env: this declaration declares no environments and is deployed as itself',
    );
  }
  if (requested !== undefined) return { environment: requested };
  if (names.length === 0) return {};
  return {
    environment: names[0]!,
    note: `environment ${names[0]} (the first of ${names.join(', ')}; --env NAME or ${ENVIRONMENT_VARIABLE} chooses)`,
  };
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
