import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from './app.ts';
import { DeclarationError, DeclarationErrors } from './declaration-error.ts';

/** The library's name as a team's declaration imports it (package.json `name`). */
const LIBRARY = 'ecs-anomaly-platform';

/**
 * Loads a declaration module: one exporting `declarePlatform(): App` or a default export that is an
 * `App` or a function returning one. The CLI decides which file (`--declaration`, `PLATFORM_DECLARATION`
 * or the repository's default place); the library never names one. A module that cannot be loaded is a
 * {@link DeclarationError} naming the real cause (the missing package, the thrown error and where) and
 * the fix, never a stack trace.
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
    throw loadFailure(file, path, error);
  }
  for (const candidate of [module.declarePlatform, module.default]) {
    const app =
      typeof candidate === 'function' ? declared(file, path, candidate as () => unknown) : candidate;
    if (app instanceof App) return app;
    if (app instanceof Object && app.constructor.name === 'App') {
      throw new DeclarationError(
        '(declaration)',
        'file',
        file,
        `exports an App from another copy of ${LIBRARY} than the one running it`,
        `import App and every construct from '${LIBRARY}' only, and keep one copy installed (npm ls ${LIBRARY})`,
      );
    }
  }
  throw new DeclarationError(
    '(declaration)',
    'file',
    file,
    'exports neither declarePlatform() nor a default App',
    'export default app (the App), or export function declarePlatform(): App',
  );
}

/** The App a declaration's function returns; what it throws is a load failure (declaration problems pass). */
function declared(file: string, path: string, declare: () => unknown): unknown {
  try {
    return declare();
  } catch (error) {
    if (error instanceof DeclarationError || error instanceof DeclarationErrors) throw error;
    throw loadFailure(file, path, error);
  }
}

/** Why a declaration module could not be loaded, as one line with the fix. */
function loadFailure(file: string, path: string, error: unknown): DeclarationError {
  const message = firstLine(error);
  if (!existsSync(path)) {
    return new DeclarationError(
      '(declaration)',
      'file',
      file,
      'does not exist',
      'point --declaration or PLATFORM_DECLARATION at a module that exports the App (export default app)',
    );
  }
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (missing !== undefined && !missing.startsWith('.') && !isAbsolute(missing)) {
    const name = missing.startsWith('@') ? missing.split('/').slice(0, 2).join('/') : missing.split('/')[0];
    return new DeclarationError(
      '(declaration)',
      'file',
      file,
      `could not be loaded: ${message}`,
      `npm install ${name === LIBRARY ? `--save-dev ${name}` : name} in the repository that holds the declaration`,
    );
  }
  const where = throwSite(error);
  return new DeclarationError(
    '(declaration)',
    'file',
    file,
    `could not be loaded: ${(error as Error).name ?? 'Error'}: ${message}${where ? ` (at ${where})` : ''}`,
    missing !== undefined ? 'correct the import path' : 'correct the declaration where it fails',
  );
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error)
    .split('\n')[0]!
    .trim();
}

/** The first stack frame outside Node's internals and installed packages: where the declaration failed. */
function throwSite(error: unknown): string | undefined {
  const frames = String((error as Error).stack ?? '')
    .split('\n')
    .slice(1);
  for (const frame of frames) {
    const match = /\(?((?:file:\/\/)?\/[^()\s]+?):(\d+):\d+\)?\s*$/.exec(frame);
    if (match && !match[1]!.includes('/node_modules/')) {
      return `${match[1]!.replace(/^file:\/\//, '')}:${match[2]}`;
    }
  }
  return undefined;
}

/** A declaration problem the user fixes in the declaration: print its message, no stack trace. */
export function isDeclarationProblem(error: unknown): error is DeclarationError | DeclarationErrors {
  return error instanceof DeclarationError || error instanceof DeclarationErrors;
}
