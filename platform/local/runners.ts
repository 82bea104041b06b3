import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import type { TaskWiring } from '../wiring/index.ts';
import {
  type Engine,
  type ImageConfig,
  type ImageRun,
  imageCommand,
  type Machine,
  probeMachine,
} from './container-runners.ts';
import { parseDockerfile } from './dockerfile.ts';

/**
 * How `start` runs a service's (or a scheduled job's) app container: one runner per task, chosen here and printed at
 * start. In order: a declared `local.command` (any language, e.g. a dev server with reload); the image's
 * TypeScript or JavaScript entry (the fast path: node with tsx); the image itself on a Docker or Podman
 * engine that answers; the image with buildah where there is no engine (found in its local storage when
 * declared by reference, built there from its Dockerfile when every base image is local); else the
 * Dockerfile's own ENTRYPOINT/CMD run on the host from its build context, saying why the image could
 * not be had. Every runner gets the same wiring variables.
 */

/** What a process runs: a node entry (with tsx), a program, or an image (container-runners.ts). */
export type ProcessRun =
  | { readonly kind: 'node'; readonly entry: string }
  | {
      readonly kind: 'command';
      readonly program: string;
      readonly args: readonly string[];
      readonly cwd: string;
    }
  | { readonly kind: 'image'; readonly image: ImageRun };

/** The runner chosen for a service. */
export interface RunnerChoice {
  readonly run: ProcessRun;
  /** Variables the image itself sets (Dockerfile `ENV`), below the wiring's; an image run sets its own. */
  readonly imageEnv: Readonly<Record<string, string>>;
  /** One line for the start-up output: which runner, what it runs. */
  readonly description: string;
}

/** A service the local runtime cannot run, with the fix. */
export class RunnerError extends Error {
  override readonly name = 'RunnerError';
}

/** Reads a Dockerfile's text; undefined when it does not exist. */
export type ReadDockerfile = (path: string) => string | undefined;

export const readDockerfileFromDisk: ReadDockerfile = (path) =>
  existsSync(path) ? readFileSync(path, 'utf8') : undefined;

/** What the runner of a task is chosen from besides the task: where, on what machine, for which platform. */
export interface RunnerContext {
  /** The team's repository. */
  readonly root: string;
  /** The platform's name: working containers are named after it. */
  readonly platform: string;
  readonly readDockerfile?: ReadDockerfile;
  /** What this machine runs images with. @default - asked of the machine (container-runners.ts) */
  readonly machine?: Machine;
}

/** What a runner is chosen from: a service's task, or a scheduled job's (`service` its name, no `local`). */
export type RunnableTask = Pick<TaskWiring, 'path' | 'service' | 'image' | 'containers'> & {
  readonly local?: TaskWiring['local'];
};

/**
 * The runner of a service's (or a scheduled job's) app container.
 *
 * @example
 * chooseRunner(task, { root: '/repo', platform: 'shop' }) // { run: { kind: 'command', program: 'python3', … }, … }
 */
export function chooseRunner(task: RunnableTask, context: RunnerContext): RunnerChoice {
  const { root } = context;
  const readDockerfile = context.readDockerfile ?? readDockerfileFromDisk;
  const machine = context.machine ?? sharedMachine();
  if (task.local) {
    const [program, ...args] = task.local.command;
    return {
      run: { kind: 'command', program: program!, args, cwd: root },
      imageEnv: {},
      description: `declared local command: ${task.local.command.join(' ')}`,
    };
  }
  const image = task.image;
  const app = task.containers.find((c) => c.role === 'app');
  const container = {
    user: app?.user ?? null,
    ...(app?.command ? { command: app.command } : {}),
    ...(app?.entryPoint ? { entryPoint: app.entryPoint } : {}),
    ...(app?.tmpfs ? { tmpfs: app.tmpfs } : {}),
  };
  const namePrefix = `berth-${context.platform}`;
  if (image.kind === 'registry') {
    const engine = machine.engine();
    if (engine) {
      return imageChoice(
        { runner: engine, namePrefix, image: image.uri, container, config: NO_CONFIG },
        engine,
      );
    }
    const config = machine.localImage(image.uri);
    if (config) {
      return imageChoice({ runner: 'buildah', namePrefix, image: image.uri, container, config }, 'buildah');
    }
    throw new RunnerError(
      `${task.path}: image ${image.uri} is not in buildah's local storage and ${noEngine(machine)}, so start cannot run it (no registry is reachable to pull it). ` +
        `Fix: pull or build it into local storage (buildah pull ${image.uri}, or buildah bud -t ${image.uri} .), or declare local: { command: [...] } for the service.`,
    );
  }
  if (image.entry !== null) {
    return {
      run: { kind: 'node', entry: resolve(root, image.entry) },
      imageEnv: {},
      description: `TypeScript entry (fast path): ${image.entry}`,
    };
  }
  const text = readDockerfile(resolve(root, image.dockerfile));
  if (text === undefined) {
    throw new RunnerError(
      `${task.path}: Dockerfile ${image.dockerfile} does not exist in ${root}. Fix: create it, or correct the path in Image.fromDockerfile.`,
    );
  }
  const facts = parseDockerfile(text);
  const context_ = resolve(root, image.context);
  const build = { dockerfile: resolve(root, image.dockerfile), context: context_ };
  const tag = `localhost/${context.platform}/${task.service}:local`;
  const engine = machine.engine();
  if (engine) {
    return imageChoice(
      { runner: engine, namePrefix, image: tag, build, container, config: NO_CONFIG },
      engine,
    );
  }
  const missingBase = machine.buildah()
    ? baseImagesOf(text).find((base) => machine.localImage(base) === undefined)
    : undefined;
  if (machine.buildah() && missingBase === undefined) {
    // The built image's own command: its final stage's (ENTRYPOINT and CMD combined), else its base's.
    const base = facts.from && facts.from !== 'scratch' ? machine.localImage(facts.from) : undefined;
    const config: ImageConfig =
      facts.command.length > 0
        ? { entrypoint: [], cmd: [...facts.command], workdir: facts.workdir ?? base?.workdir ?? '' }
        : {
            entrypoint: [],
            cmd: [],
            workdir: '',
            ...base,
            ...(facts.workdir ? { workdir: facts.workdir } : {}),
          };
    return imageChoice({ runner: 'buildah', namePrefix, image: tag, build, container, config }, 'buildah');
  }
  if (facts.command.length === 0) {
    throw new RunnerError(
      `${task.path}: ${image.dockerfile} has no CMD or ENTRYPOINT, so there is nothing to run. ` +
        'Fix: add CMD to the Dockerfile, or declare local: { command: [...] } for the service.',
    );
  }
  // Paths under the image's WORKDIR are the build context's on the host (COPY . $WORKDIR, the usual).
  const onHost = (part: string) =>
    facts.workdir && (part === facts.workdir || part.startsWith(`${facts.workdir}/`))
      ? join(context_, part.slice(facts.workdir.length))
      : part;
  const [program, ...args] = facts.command.map(onHost);
  const shown = relative(root, context_) || '.';
  const why =
    missingBase !== undefined
      ? `its base image ${missingBase} is not in local storage and no registry is reachable; ${noEngine(machine)}`
      : `${noEngine(machine)} and buildah is not usable here (it needs root)`;
  return {
    run: { kind: 'command', program: program!, args, cwd: context_ },
    imageEnv: facts.env,
    description: `the Dockerfile's own command on the host, in its build context ${shown}/: ${facts.command.join(' ')} (${why})`,
  };
}

const NO_CONFIG: ImageConfig = { entrypoint: [], cmd: [], workdir: '' };

function imageChoice(run: ImageRun, runner: Engine | 'buildah'): RunnerChoice {
  const how =
    runner === 'buildah'
      ? `buildah (no Docker or Podman engine answers here): buildah run --isolation chroot, ${describeCommand(run)}`
      : `${runner === 'docker' ? 'Docker' : 'Podman'}: ${runner} run --network host --read-only`;
  return {
    run: { kind: 'image', image: run },
    imageEnv: {},
    description: `the image ${run.build ? `built from ${relativeToCwd(run.build.dockerfile)} as ` : ''}${run.image} on ${how}`,
  };
}

function describeCommand(run: ImageRun): string {
  const command = imageCommand(run.config, run.container);
  return command.length > 0 ? `its command ${command.join(' ')}` : 'no command (the image declares none)';
}

const relativeToCwd = (path: string) => relative(process.cwd(), path) || path;

/** Why no engine runs the image: what this machine's engines answered. */
function noEngine(machine: Machine): string {
  return machine.engine() === undefined ? 'no Docker or Podman engine answers here' : 'an engine answers';
}

/** The external base images of a Dockerfile (`FROM`s that are not earlier stages, nor scratch). */
export function baseImagesOf(text: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!match) continue;
    const image = match[1]!;
    if (!stages.has(image) && image !== 'scratch' && !bases.includes(image)) bases.push(image);
    if (match[2]) stages.add(match[2]);
  }
  return bases;
}

let machineOfProcess: Machine | undefined;
/** The machine's answers, asked once per process (each `docker info` costs up to seconds). */
function sharedMachine(): Machine {
  machineOfProcess ??= probeMachine();
  return machineOfProcess;
}

/** The program's path when `name` is found on PATH (or is a path that exists); undefined otherwise. */
export function onPath(name: string, cwd = process.cwd(), path = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) {
    const full = resolve(cwd, name);
    return existsSync(full) ? full : undefined;
  }
  for (const dir of path.split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
