import { isDeclarationProblem, loadDeclaration, type Manifest } from '../../config/index.ts';
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
    const manifest = (await loadDeclaration(file)).synth();
    return { declared: { manifest, wiring: wirePlatform(manifest) } };
  } catch (error) {
    if (!isDeclarationProblem(error)) throw error;
    return { problem: error.message };
  }
}
