import { type PlatformWiring, repositoryName } from '../wiring/index.ts';
import { UsageError } from './args.ts';

/** One image to build: the wiring's image with its Dockerfile and context where they are on this machine. */
export interface ImageBuild {
  readonly name: string;
  readonly dockerfile: string;
  readonly context: string;
}

/** What builds the images: an engine with Docker's command line, or buildah (no daemon: this machine, CI). */
export type ImageEngine = 'docker' | 'podman' | 'buildah';
export const IMAGE_ENGINES: readonly ImageEngine[] = ['docker', 'podman', 'buildah'];

export interface ImageCommandOptions {
  readonly engine: ImageEngine;
  /** `123456789012.dkr.ecr.eu-west-1.amazonaws.com`; absent: local names only (`acme/orders:<tag>`). */
  readonly registry?: string;
  /** The commit the images are built from. */
  readonly tag: string;
  readonly push: boolean;
}

/**
 * The reference an image is built and pushed as: its repository `<platform>/<image>` (the bootstrap
 * stack's ECR repository, named by the wiring's `repositoryName`), tagged with the commit.
 */
export function imageReference(
  wiring: PlatformWiring,
  name: string,
  registry: string | undefined,
  tag: string,
) {
  const repository = repositoryName(wiring.platform, name);
  return `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${repository}:${tag}`;
}

/**
 * The images `--image NAME` selects (every image the wiring builds when none is named), in build order.
 *
 * @throws UsageError for a name the declaration does not build.
 */
export function selectImages(
  wiring: PlatformWiring,
  builds: readonly ImageBuild[],
  named: readonly string[],
): ImageBuild[] {
  const known = wiring.images.map((i) => i.name);
  const unknown = named.find((n) => !known.includes(n));
  if (unknown !== undefined) {
    throw new UsageError(
      `--image '${unknown}' is not an image of the declaration (images: ${known.join(', ')}). Fix: name one of them, or leave --image out to build them all`,
    );
  }
  return builds.filter((b) => named.length === 0 || named.includes(b.name));
}

/** The exact commands that build (and with `push`, push) each image, one argv each, in order. */
export function imageCommands(
  wiring: PlatformWiring,
  builds: readonly ImageBuild[],
  options: ImageCommandOptions,
): string[][] {
  return builds.flatMap((build) => {
    const ref = imageReference(wiring, build.name, options.registry, options.tag);
    const bud =
      options.engine === 'buildah' ? ['buildah', 'bud', '--isolation', 'chroot'] : [options.engine, 'build'];
    return [
      [...bud, '--file', build.dockerfile, '--tag', ref, build.context],
      ...(options.push ? [[options.engine, 'push', ref]] : []),
    ];
  });
}

/** An argv as a person would type it in a POSIX shell. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}
