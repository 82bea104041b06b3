import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import type { TaskWiring } from '../wiring/index.ts';
import { parseDockerfile } from './dockerfile.ts';

/**
 * How `start` runs a service's app container: one runner per service, chosen here and printed at
 * start. In order: a declared `local.command` (any language, e.g. a dev server with reload); the image's
 * TypeScript or JavaScript entry (the fast path: node with tsx); else the Dockerfile's own ENTRYPOINT/CMD,
 * run on the host from its build context (no container engine is used: none is needed, and an image
 * whose base cannot be pulled could not be built). Every runner gets the same wiring variables.
 */

/** What a process runs: a node entry (with tsx), or a program. */
export type ProcessRun =
  | { readonly kind: 'node'; readonly entry: string }
  | {
      readonly kind: 'command';
      readonly program: string;
      readonly args: readonly string[];
      readonly cwd: string;
    };

/** The runner chosen for a service. */
export interface RunnerChoice {
  readonly run: ProcessRun;
  /** Variables the image itself sets (Dockerfile `ENV`), below the wiring's. */
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

/**
 * The runner of a service's app container.
 *
 * @example
 * chooseRunner(task, '/repo') // { run: { kind: 'command', program: 'python3', args: ['app.py'], cwd: '/repo/pyapi' }, … }
 */
export function chooseRunner(
  task: TaskWiring,
  root: string,
  readDockerfile: ReadDockerfile = readDockerfileFromDisk,
): RunnerChoice {
  if (task.local) {
    const [program, ...args] = task.local.command;
    return {
      run: { kind: 'command', program: program!, args, cwd: root },
      imageEnv: {},
      description: `declared local command: ${task.local.command.join(' ')}`,
    };
  }
  const image = task.image;
  if (image.kind === 'registry') {
    throw new RunnerError(
      `${task.path}: image ${image.uri} is a registry image, which start cannot run without a container engine. ` +
        "Fix: declare local: { command: [...] } for the service (e.g. ['python3', 'app.py']).",
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
  if (facts.command.length === 0) {
    throw new RunnerError(
      `${task.path}: ${image.dockerfile} has no CMD or ENTRYPOINT, so there is nothing to run. ` +
        'Fix: add CMD to the Dockerfile, or declare local: { command: [...] } for the service.',
    );
  }
  const context = resolve(root, image.context);
  // Paths under the image's WORKDIR are the build context's on the host (COPY . $WORKDIR, the usual).
  const onHost = (part: string) =>
    facts.workdir && (part === facts.workdir || part.startsWith(`${facts.workdir}/`))
      ? join(context, part.slice(facts.workdir.length))
      : part;
  const [program, ...args] = facts.command.map(onHost);
  const shown = relative(root, context) || '.';
  return {
    run: { kind: 'command', program: program!, args, cwd: context },
    imageEnv: facts.env,
    description:
      `the Dockerfile's own command on the host, in its build context ${shown}/: ${facts.command.join(' ')} ` +
      `(${engineNote()})`,
  };
}

/** Why the image itself does not run: what this machine has. */
function engineNote(): string {
  // A docker client without a daemon to talk to is no engine (CI images often ship the client alone).
  const docker =
    onPath('docker') !== undefined &&
    (process.env.DOCKER_HOST !== undefined || existsSync('/var/run/docker.sock'));
  const engines = [...(docker ? ['Docker'] : []), ...(onPath('podman') ? ['Podman'] : [])];
  return engines.length === 0
    ? 'no Docker or Podman engine on this machine'
    : `${engines.join(' and ')} found; running the image on an engine is not built yet`;
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
