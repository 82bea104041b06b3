import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DeclaredPlatform } from './declaration.ts';
import { PACKAGE_ROOT } from './package-root.ts';

/**
 * The files a declaration names, found where they live: a team's Dockerfiles (and its own model's) in
 * its repository, the model the package ships in the package.
 */

/** The folder the model endpoint's Dockerfile and artifacts are relative to. */
export function modelRootOf(declared: DeclaredPlatform): string {
  return declared.wiring.model?.source === 'platform' ? PACKAGE_ROOT : declared.root;
}

/**
 * The first declared Dockerfile (or model artifact directory) that does not exist, as one line with the
 * fix; undefined when every one does. Checked before anything is rendered or started.
 */
export function missingDeclaredFile(declared: DeclaredPlatform): string | undefined {
  const { wiring, root } = declared;
  const where = (dir: string) => (dir === root ? `the repository (${root})` : dir);
  for (const task of wiring.tasks) {
    if (task.image.kind !== 'dockerfile') continue;
    const imageRoot = task.image.source === 'platform' ? PACKAGE_ROOT : root;
    if (!existsSync(resolve(imageRoot, task.image.dockerfile))) {
      return (
        `${task.path}: image Dockerfile ('${task.image.dockerfile}') does not exist in ${where(imageRoot)}. ` +
        'Fix: create it there, or correct the path in Image.fromDockerfile (relative to the folder of package.json).'
      );
    }
  }
  const model = wiring.model;
  if (model) {
    const modelRoot = modelRootOf(declared);
    for (const [prop, path] of [
      ['image Dockerfile', model.image.dockerfile],
      ['artifactDir', model.artifactDir],
    ] as const) {
      if (!existsSync(resolve(modelRoot, path))) {
        return (
          `${model.path}: ${prop} ('${path}') does not exist in ${where(modelRoot)}. ` +
          "Fix: correct the path, or declare new ModelEndpoint(platform, 'log-anomaly') for the model this package ships."
        );
      }
    }
  }
  return undefined;
}
