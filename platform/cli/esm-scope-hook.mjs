/**
 * A module-resolution hook (node:module `register`) for a team's declaration: a `.ts`/`.js` file of
 * the team's repository written as an ES module loads as one, whatever the repository's package.json
 * says. `npm init` writes a CommonJS package.json, in which tsx would load such a declaration as
 * CommonJS (a second copy of the library, or a require() cycle). Files under node_modules, files whose
 * extension decides their format (.mts, .cts, .mjs, .cjs) and files without import/export syntax keep
 * Node's choice. Plain JavaScript (not TypeScript) so it loads in the hooks thread before any loader.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** An import or export statement at the start of a line: the file is written as an ES module. */
const ESM_SYNTAX = /^\s*(?:import\s*[\w{*'"]|import\s*\(|export\s)/m;

/** The team's repository (a file URL ending in `/`), from `register`'s data. */
let scope = '';

export function initialize(data) {
  scope = data.scope;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const { url, format } = resolved;
  if (
    format === 'module' ||
    !url.startsWith(scope) ||
    url.includes('/node_modules/') ||
    !/\.(?:ts|tsx|js|jsx)$/.test(url)
  ) {
    return resolved;
  }
  let source;
  try {
    source = readFileSync(fileURLToPath(url), 'utf8');
  } catch {
    return resolved;
  }
  return ESM_SYNTAX.test(source) ? { ...resolved, format: 'module' } : resolved;
}
