import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ContainerWiring } from '../wiring/index.ts';

/**
 * Running the image itself: on a container engine (Docker or Podman) where the machine has a working
 * one, else with buildah (`buildah from` + `buildah run --isolation chroot`: no daemon, and the one way
 * an image's own entrypoint starts in this sandbox, where podman and crun fail on rlimits and cgroups).
 * Both share the host's network, so the container listens on its loopback port and reaches its callees,
 * its sidecar and the model at the same 127.0.0.1 URLs as every other runner.
 *
 * What is decided here is pure (the launch's command lines, unit-tested); `container-launcher.mjs`
 * runs a launch, and {@link probeMachine} asks the machine what it has.
 */

export type Engine = 'docker' | 'podman';

/** What an image in local storage says it runs (its OCI config). */
export interface ImageConfig {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workdir: string;
}

/** What this machine can run images with. */
export interface Machine {
  /** A container engine that answers (`docker info` / `podman info` exit 0); undefined when none does. */
  engine(): Engine | undefined;
  /** buildah is installed and this process may use its storage (root). */
  buildah(): boolean;
  /** The image's config when it is in buildah's local storage; undefined otherwise. */
  localImage(reference: string): ImageConfig | undefined;
}

/**
 * One argument of a launch: literal, or a variable taken from the launcher's environment as `flag`
 * then `NAME=value` (both left out when the variable is unset).
 */
export type LaunchArg = string | { readonly flag: string; readonly env: string };

/**
 * Command lines the launcher runs: `cleanup` (a stale container of the same name; failures ignored,
 * output dropped), `prepare` (each must exit 0), `run` (the container, in the foreground, its output the
 * service's logs), then `cleanup` again (always, also after a signal).
 */
export interface ContainerLaunch {
  readonly cleanup: readonly (readonly LaunchArg[])[];
  readonly prepare: readonly (readonly LaunchArg[])[];
  readonly run: readonly LaunchArg[];
}

/**
 * How a service's app runs as a container, as planned: the runner, the image (built first from its
 * Dockerfile, or found by reference) and how it runs. The launch itself is made when the process is
 * spawned ({@link containerProcess}): only then are its label (a revision's) and variables final.
 */
export interface ImageRun {
  readonly runner: Engine | 'buildah';
  /** Names the working containers: `berth-<platform>`, then the process label. */
  readonly namePrefix: string;
  readonly image: string;
  readonly build?: ContainerRequest['build'];
  readonly container: ContainerRequest['container'];
  /** The image's own entrypoint, command and working directory (buildah runs them explicitly). */
  readonly config: ImageConfig;
}

/**
 * The process that runs an image: the launcher with the launch for this label and these variables.
 *
 * @example
 * containerProcess(run, 'echo@2', ['PORT', 'HOST']) // { program: '/usr/bin/node', args: [CONTAINER_LAUNCHER, '{…}'] }
 */
export function containerProcess(
  run: ImageRun,
  label: string,
  variables: readonly string[],
): { readonly program: string; readonly args: readonly string[] } {
  const request: ContainerRequest = {
    name: `${run.namePrefix}-${label.replace(/[^A-Za-z0-9_.-]/g, '-')}`,
    image: run.image,
    ...(run.build ? { build: run.build } : {}),
    container: run.container,
    variables: [...new Set([...variables, ...LOCAL_AWS_VARIABLES])],
  };
  const launch =
    run.runner === 'buildah' ? buildahLaunch(request, run.config) : engineLaunch(run.runner, request);
  return { program: process.execPath, args: [CONTAINER_LAUNCHER, JSON.stringify(launch)] };
}

/** The launcher that runs a {@link ContainerLaunch}: plain ESM, no loader, so it costs one small node. */
export const CONTAINER_LAUNCHER = fileURLToPath(new URL('./container-launcher.mjs', import.meta.url));

/**
 * Variables the container receives besides the wiring's, when the runtime sets them: the local AWS
 * settings every child gets (static credentials, no instance-metadata lookups).
 */
export const LOCAL_AWS_VARIABLES = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_EC2_METADATA_DISABLED',
] as const;

/** What a container is started from: the image, how it runs (the wiring's), and its variables' names. */
export interface ContainerRequest {
  /** The working container's name: one per service revision, so a stale one is found and removed. */
  readonly name: string;
  readonly image: string;
  /** Build it first (a Dockerfile image): the Dockerfile and context, absolute. */
  readonly build?: { readonly dockerfile: string; readonly context: string };
  readonly container: Pick<ContainerWiring, 'user' | 'command' | 'entryPoint' | 'tmpfs'>;
  /** The variables to pass (their values are read from the launcher's environment, never argv). */
  readonly variables: readonly string[];
}

/**
 * An engine's launch: `docker run` (or podman's, the same flags) on the host network, read-only root,
 * the declared user, tmpfs mounts and entrypoint/command; variables by name (the client reads their
 * values from its environment, so no secret is on a command line).
 *
 * @example
 * engineLaunch('docker', { name: 'berth-shop-echo', image: 'ghcr.io/a/echo:1', container, variables: ['PORT'] })
 */
export function engineLaunch(engine: Engine, request: ContainerRequest): ContainerLaunch {
  const { container } = request;
  const build = request.build
    ? [[engine, 'build', '-f', request.build.dockerfile, '-t', request.image, request.build.context]]
    : [];
  return {
    cleanup: [[engine, 'rm', '--force', request.name]],
    prepare: build,
    run: [
      engine,
      'run',
      '--rm',
      '--name',
      request.name,
      '--network',
      'host',
      '--read-only',
      ...(container.user ? ['--user', container.user] : []),
      ...(container.tmpfs ?? []).flatMap((t) => ['--tmpfs', `${t.path}:rw,nosuid,nodev,size=${t.sizeMiB}m`]),
      ...request.variables.flatMap((name) => ['--env', name]),
      // Docker drops the image's CMD when the entrypoint is replaced, as ECS does.
      ...(container.entryPoint ? ['--entrypoint', container.entryPoint[0]!] : []),
      request.image,
      ...(container.entryPoint ? container.entryPoint.slice(1) : []),
      ...(container.command ?? []),
    ],
  };
}

/**
 * buildah's launch: a working container from the image (removing a stale one of the same name first),
 * the variables set in its config (`buildah config --env`, so their values stay off the long-lived
 * command line), then `buildah run --isolation chroot` of the image's own entrypoint and command — or
 * the declared ones — as the wiring's user, with the declared writable paths as tmpfs mounts.
 */
export function buildahLaunch(request: ContainerRequest, config: ImageConfig): ContainerLaunch {
  const { container } = request;
  const build = request.build
    ? [
        [
          'buildah',
          'bud',
          '--isolation',
          'chroot',
          '--layers',
          '--pull=never',
          '--quiet',
          '-f',
          request.build.dockerfile,
          '-t',
          request.image,
          request.build.context,
        ],
      ]
    : [];
  const command = imageCommand(config, container);
  return {
    cleanup: [['buildah', 'rm', request.name]],
    prepare: [
      ...build,
      ['buildah', 'from', '--pull=never', '--quiet', '--name', request.name, request.image],
      ...(request.variables.length > 0
        ? [
            [
              'buildah',
              'config',
              ...request.variables.map((name) => ({ flag: '--env', env: name })),
              request.name,
            ],
          ]
        : []),
    ],
    run: [
      'buildah',
      'run',
      '--isolation',
      'chroot',
      ...(container.user ? ['--user', container.user] : []),
      ...(config.workdir ? ['--workingdir', config.workdir] : []),
      ...(container.tmpfs ?? []).flatMap((t) => [
        '--mount',
        `type=tmpfs,destination=${t.path},tmpfs-size=${t.sizeMiB}m`,
      ]),
      request.name,
      '--',
      ...command,
    ],
  };
}

/**
 * What the container runs: the declared entrypoint (which drops the image's CMD, as Docker and ECS do)
 * or the image's, then the declared command or the image's CMD.
 */
export function imageCommand(
  config: ImageConfig,
  container: Pick<ContainerWiring, 'command' | 'entryPoint'>,
): string[] {
  const entrypoint = container.entryPoint ?? config.entrypoint;
  const cmd = container.command ?? (container.entryPoint ? [] : config.cmd);
  return [...entrypoint, ...cmd];
}

/** The container's command line as printed at start (variables by name, never their values). */
export function describeLaunch(launch: ContainerLaunch): string {
  return launch.run.map((a) => (typeof a === 'string' ? a : `${a.flag} ${a.env}=…`)).join(' ');
}

/** The machine as it is, each answer asked once per process. */
export function probeMachine(): Machine {
  let engine: Engine | undefined | null = null;
  let buildah: boolean | null = null;
  const images = new Map<string, ImageConfig | undefined>();
  const answers = (program: string, args: string[]) => {
    const result = spawnSync(program, args, { stdio: 'ignore', timeout: 10_000 });
    return result.error === undefined && result.status === 0;
  };
  return {
    engine() {
      // A docker client without a daemon is no engine (this machine, many CI images): ask the engine.
      if (engine === null) {
        engine = answers('docker', ['info']) ? 'docker' : answers('podman', ['info']) ? 'podman' : undefined;
      }
      return engine;
    },
    buildah() {
      if (buildah === null) buildah = process.getuid?.() === 0 && answers('buildah', ['--version']);
      return buildah;
    },
    localImage(reference) {
      if (!images.has(reference)) images.set(reference, this.buildah() ? inspect(reference) : undefined);
      return images.get(reference);
    },
  };
}

/** The image's run-time config from buildah's storage; undefined when it is not there. */
function inspect(reference: string): ImageConfig | undefined {
  const result = spawnSync('buildah', ['inspect', '--type', 'image', reference], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: 10_000,
  });
  if (result.status !== 0) return undefined;
  // buildah 1.28's --format has no `json` function: read the whole inspection.
  const config = (
    JSON.parse(result.stdout) as {
      OCIv1?: { config?: { Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string } };
    }
  ).OCIv1?.config;
  return {
    entrypoint: config?.Entrypoint ?? [],
    cmd: config?.Cmd ?? [],
    workdir: config?.WorkingDir ?? '',
  };
}
