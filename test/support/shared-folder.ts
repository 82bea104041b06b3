import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A path under `../shared` (the team's shared tools and data, beside the repository): the nearest folder
 * above the repository root that holds `shared/<parts>`, so a checkout in a worktree folder
 * (`wt/<name>/`) finds the same tools as the main checkout. Undefined when none holds it.
 *
 * @example
 * sharedPath('tools', 'fluent-bit', 'bin', 'fluent-bit'); // '/work/shared/tools/fluent-bit/bin/fluent-bit'
 */
export function sharedPath(...parts: string[]): string | undefined {
  for (let dir = dirname(ROOT.replace(/\/$/, '')); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', ...parts);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
