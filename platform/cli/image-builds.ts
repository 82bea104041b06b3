import { existsSync, realpathSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ImageBuild } from '../deploy/images.ts';
import type { DeclaredPlatform } from './declaration.ts';
import { modelRootOf } from './declared-files.ts';
import { PACKAGE_NAME, PACKAGE_ROOT } from './package-root.ts';

/**
 * Where the wiring's images build from: a team's images from its repository, the package's own
 * (sidecar, log router, an OperationsConsole's web server and API) from the package's folder. `absolute` for running the builds here; relative to
 * the repository for the workflow, which runs in a checkout of it.
 */
export function imageBuilds(declared: DeclaredPlatform, form: 'absolute' | 'repository'): ImageBuild[] {
  const packageDir = form === 'absolute' ? PACKAGE_ROOT : installedPackage(declared.root);
  return declared.wiring.images.map((image) => {
    const base = image.source === 'platform' ? packageDir : declared.root;
    const at = (path: string) => {
      const absolute = resolve(base, path);
      return form === 'absolute' ? absolute : relative(declared.root, absolute) || '.';
    };
    return { name: image.name, dockerfile: at(image.dockerfile), context: at(image.context) };
  });
}

/** The package's own images build from its installed folder, not from the team's checkout. */
export const buildsFromPackage = (declared: DeclaredPlatform) =>
  declared.wiring.images.some((i) => i.source === 'platform') && PACKAGE_ROOT !== declared.root;

/** The model artifact directory relative to the repository, when the repository holds it. */
export function repositoryModelArtifactDir(declared: DeclaredPlatform): string | null {
  const model = declared.wiring.model;
  if (!model || modelRootOf(declared) !== declared.root) return null;
  return relative(declared.root, resolve(declared.root, model.artifactDir));
}

/**
 * The package's folder as the repository's checkout has it: `node_modules/<package>` once installed
 * (a link, as `npm link` makes it, counts as installed), this checkout when the repository is the package.
 */
function installedPackage(root: string): string {
  const installed = join(root, 'node_modules', PACKAGE_NAME);
  if (
    PACKAGE_ROOT !== root &&
    existsSync(installed) &&
    realpathSync(installed) === realpathSync(PACKAGE_ROOT)
  ) {
    return installed;
  }
  return PACKAGE_ROOT;
}
