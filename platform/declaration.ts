import { isDeclarationProblem, loadDeclaration, type Manifest } from '../config/index.ts';

/**
 * How every platform entry point (`npm start`, `npm run synth`, `npm run preflight`) gets its
 * manifest: the declaration named by `PLATFORM_DECLARATION` (default: `config/declaration.ts`),
 * synthesised; a bad declaration prints its message alone — the construct path, the value and the
 * fix, no stack trace — and exits {@link BAD_DECLARATION_EXIT_CODE}.
 */

/** Exit code of every entry point for a declaration that does not synthesise. */
export const BAD_DECLARATION_EXIT_CODE = 2;

/** The variable naming another declaration module (one exporting `declarePlatform(): App`). */
export const DECLARATION_VARIABLE = 'PLATFORM_DECLARATION';

/** Loads and synthesises the declaration, or prints the problem's message (alone) and exits 2. */
export async function synthDeclarationOrExit(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Manifest> {
  try {
    return (await loadDeclaration(env[DECLARATION_VARIABLE])).synth();
  } catch (error) {
    if (!isDeclarationProblem(error)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(BAD_DECLARATION_EXIT_CODE);
  }
}
