import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { UsageError } from '../../deploy/args.ts';
import {
  IMAGE_ENGINES,
  type ImageEngine,
  imageCommands,
  selectImages,
  shellLine,
} from '../../deploy/images.ts';
import type { CliCommand, CommandContext } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { imageBuilds } from '../image-builds.ts';

const USAGE = `usage: images [--push] [--registry HOST] [--tag TAG] [--image NAME]... [--env NAME] [--engine ENGINE] [--dry-run]

Builds every image the declaration's wiring names (its services', workers' and scheduled jobs', and the
platform's sidecar, log router and operations console), tagged <registry>/<platform>/<image>:<commit>; with --push, pushes
each after it is built. Dockerfiles and contexts are the repository's (the package's for its own images).

options:
  --push            push each image after building it (needs --registry)
  --registry HOST   the registry, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com (else ECR_REGISTRY)
  --tag TAG         the tag (default: the repository's commit, git rev-parse HEAD)
  --image NAME      only this image (repeat for more; default: every one)
  --env NAME        the declared environment whose repositories the images go to (else
                    PLATFORM_ENVIRONMENT, else the first declared)
  --engine ENGINE   docker, podman or buildah (default: the first one installed)
  --dry-run         print the exact commands, run nothing`;

/** `images`: builds (and pushes) exactly the declaration's images, tagged with the commit. */
export const imagesCommand: CliCommand = {
  name: 'images',
  summary: "build (--push: and push) every image the declaration's wiring names, tagged with the commit",
  help: () => USAGE,
  needsDeclaration: () => true,
  environment: 'declared',
  async run({ args, env, out, err, declared }: CommandContext): Promise<number> {
    const { wiring, root } = declared!;
    let commands: string[][];
    let dryRun: boolean;
    try {
      const { values } = parseArgs({
        args: [...args],
        strict: true,
        options: {
          push: { type: 'boolean' },
          registry: { type: 'string' },
          tag: { type: 'string' },
          image: { type: 'string', multiple: true },
          engine: { type: 'string' },
          'dry-run': { type: 'boolean' },
        },
      });
      const builds = selectImages(wiring, imageBuilds(declared!, 'absolute'), values.image ?? []);
      const registry = values.registry ?? env.ECR_REGISTRY;
      if (values.push && !registry)
        throw new UsageError('--push needs the registry. Fix: pass --registry HOST (or set ECR_REGISTRY)');
      dryRun = values['dry-run'] ?? false;
      commands = imageCommands(wiring, builds, {
        engine: engineOf(values.engine, env),
        ...(registry ? { registry } : {}),
        tag: values.tag ?? commitOf(root),
        push: values.push ?? false,
      });
    } catch (error) {
      if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
      err(`images: ${error.message}`);
      return EXIT_CODES.usage;
    }
    for (const argv of commands) {
      out(shellLine(argv));
      if (dryRun) continue;
      const result = spawnSync(argv[0]!, argv.slice(1), { cwd: root, stdio: 'inherit', env: { ...env } });
      if (result.status !== 0) {
        err(`images: failed (${result.error?.message ?? `exit ${result.status}`}): ${shellLine(argv)}`);
        return EXIT_CODES.failed;
      }
    }
    return EXIT_CODES.ok;
  },
};

/** The engine named, else the first installed one; buildah needs no daemon (this machine, CI). */
function engineOf(named: string | undefined, env: CommandContext['env']): ImageEngine {
  if (named !== undefined) {
    if (IMAGE_ENGINES.includes(named as ImageEngine)) return named as ImageEngine;
    throw new UsageError(`--engine '${named}' is not one of ${IMAGE_ENGINES.join(', ')}`);
  }
  const found = IMAGE_ENGINES.find(
    (engine) =>
      spawnSync('sh', ['-c', `command -v ${engine}`], { env: { PATH: env.PATH ?? '' } }).status === 0,
  );
  if (!found) throw new UsageError(`no image engine found. Fix: install one of ${IMAGE_ENGINES.join(', ')}`);
  return found;
}

function commitOf(root: string): string {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const commit = result.stdout?.trim();
  if (result.status !== 0 || !commit) {
    throw new UsageError(`cannot read the commit of ${root}. Fix: commit first, or pass --tag TAG`);
  }
  return commit;
}
