import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from './app.ts';
import { DeclarationError, DeclarationErrors } from './declaration-error.ts';

/**
 * Loads a declaration module: one exporting `declarePlatform(): App` or a default export that is an
 * `App` or a function returning one. The CLI decides which file (`--declaration`, `PLATFORM_DECLARATION`
 * or the repository's default place); the library never names one.
 *
 * @example
 * const app = await loadDeclaration('config/declaration.ts');
 * const manifest = app.synth();
 */
export async function loadDeclaration(file: string): Promise<App> {
  const path = isAbsolute(file) ? file : resolve(file);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof DeclarationError || error instanceof DeclarationErrors) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(path)) {
      throw new DeclarationErrors([
        `(declaration): file ('${file}') does not exist. Fix: point --declaration or PLATFORM_DECLARATION at a module that exports declarePlatform().`,
      ]);
    }
    throw error;
  }
  for (const candidate of [module.declarePlatform, module.default]) {
    const app = typeof candidate === 'function' ? (candidate as () => unknown)() : candidate;
    if (app instanceof App) return app;
  }
  throw new DeclarationErrors([
    `(declaration): file ('${file}') exports neither declarePlatform() nor a default App. Fix: export function declarePlatform(): App from it.`,
  ]);
}

/** A declaration problem the user fixes in the declaration: print its message, no stack trace. */
export function isDeclarationProblem(error: unknown): error is DeclarationError | DeclarationErrors {
  return error instanceof DeclarationError || error instanceof DeclarationErrors;
}
