import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { UsageError } from '../deploy/args.ts';
import type { ImageBuild } from '../deploy/images.ts';
import type { DeclaredPlatform } from './declaration.ts';
import { modelRootOf } from './declared-files.ts';
import { PACKAGE_NAME, PACKAGE_ROOT } from './package-root.ts';

/**
 * Where the wiring's images build from: a team's images from its repository, the package's own
 * (sidecar, log router, an OperationsConsole's web server and API) from the package the repository
 * installs. `absolute` for running the builds here; relative to the repository for the workflow, which
 * runs in a checkout of it.
 *
 * @throws UsageError when the package's own images have no installed package to build from (with the fix).
 */
export function imageBuilds(declared: DeclaredPlatform, form: 'absolute' | 'repository'): ImageBuild[] {
  const packageDir = declared.wiring.images.some((i) => i.source === 'platform')
    ? packageFolder(declared, form)
    : declared.root;
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
  declared.wiring.images.some((i) => i.source === 'platform') && !isThePackage(declared.root);

/** The model artifact directory relative to the repository, when the repository holds it. */
export function repositoryModelArtifactDir(declared: DeclaredPlatform): string | null {
  const model = declared.wiring.model;
  if (!model || modelRootOf(declared) !== declared.root) return null;
  return relative(declared.root, resolve(declared.root, model.artifactDir));
}

/** The repository is this package's own checkout (its images build from it, as a team's do from theirs). */
const isThePackage = (root: string) => realpathSync(root) === realpathSync(PACKAGE_ROOT);

/**
 * The package the repository installs, absolute: `node_modules/<package>`, whichever copy of the CLI
 * runs (a global one, npx's cache, another checkout), because that is the version the repository
 * declares and what `npm ci` gives the workflow's checkout. Here, the running package when it is that
 * folder (a link, as `npm link` makes it, counts). The workflow additionally needs the repository to
 * depend on it: `npm ci` installs nothing else.
 */
function packageFolder(declared: DeclaredPlatform, form: 'absolute' | 'repository'): string {
  const { root } = declared;
  if (isThePackage(root)) return root;
  const installed = join(root, 'node_modules', PACKAGE_NAME);
  const images = declared.wiring.images
    .filter((i) => i.source === 'platform')
    .map((i) => i.name)
    .join(', ');
  if (form === 'repository') {
    if (!dependsOnPackage(root)) {
      throw new UsageError(
        `the package's own images (${images}) build from node_modules/${PACKAGE_NAME}, which npm ci installs only for a dependency, and ${join(root, 'package.json')} does not name ${PACKAGE_NAME}. Fix: npm install --save-dev ${PACKAGE_NAME}`,
      );
    }
    return installed;
  }
  if (!existsSync(join(installed, 'package.json'))) {
    throw new UsageError(
      `the package's own images (${images}) build from the package the repository installs, and ${installed} does not exist. Fix: npm install --save-dev ${PACKAGE_NAME}`,
    );
  }
  return realpathSync(installed) === realpathSync(PACKAGE_ROOT) ? PACKAGE_ROOT : installed;
}

/** The repository's package.json names the package among its dependencies (any kind npm ci installs). */
function dependsOnPackage(root: string): boolean {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  return ['dependencies', 'devDependencies', 'optionalDependencies'].some(
    (kind) => manifest[kind]?.[PACKAGE_NAME] !== undefined,
  );
}
