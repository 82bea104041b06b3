import { randomBytes } from 'node:crypto';
import { SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import {
  CONTAINER_NAMES,
  type LocalOnlyContext,
  localOnlyEnvironment,
  type TaskWiring,
  WiringInvariantError,
} from '../wiring/index.ts';
import type { ImageRun, Machine } from './container-runners.ts';
import { type HealthPlan, healthPlan } from './health-plan.ts';
import { type LocalSources, renderLocalEnvironment } from './local-sources.ts';
import { chooseRunner, type ProcessRun, type ReadDockerfile } from './runners.ts';

/**
 * A process the local runtime supervises, and how a task's containers become processes: value sources
 * turned into loopback values, the runner each app uses, the health check it is watched by.
 */

/** One process to supervise. */
export interface ProcessPlan {
  /** Printed label and state-file key, e.g. `backend`, `backend/sidecar`, `model`, `predict`. */
  readonly label: string;
  readonly role: 'model' | 'service' | 'sidecar' | 'function';
  /** The declared service it belongs to (services and their sidecars). */
  readonly service?: string;
  /** TypeScript or JavaScript entry point (run by node with tsx), an absolute path; absent for a command. */
  readonly entry?: string;
  /** A program the process runs instead of an entry (a service's declared or Dockerfile command). */
  readonly command?: { readonly program: string; readonly args: readonly string[]; readonly cwd: string };
  /** An image the process runs as a container (its launch is made at spawn, for the final label and variables). */
  readonly image?: ImageRun;
  /** The runner of a service's app, as printed at start (runners.ts). */
  readonly runner?: string;
  /** The port it listens on; null for a worker, which listens on none. */
  readonly port: number | null;
  readonly env: Readonly<Record<string, string>>;
  readonly health: HealthPlan;
  readonly stopTimeoutMs: number;
  /**
   * The sidecar intake its stdout/stderr is forwarded to, and the task's intake token the forwarder
   * sends (app containers only).
   */
  readonly logIntake?: { readonly url: string; readonly token: string };
  /** The task container it runs (services and sidecars). */
  readonly container?: string;
}

/** What a task's processes are planned with: the run's shared values and where the task's ports are. */
export interface TaskProcessContext {
  /** The run's value sources; the container's port, service, secrets and intake token are added here. */
  readonly sources: Omit<LocalSources, 'port' | 'service' | 'secretValues' | 'intakeToken'>;
  readonly secretValues: Readonly<Record<string, string>>;
  readonly differences: LocalOnlyContext;
  /** The team's repository (its images' paths are relative to it). */
  readonly root: string;
  /** The package's folder (the console's images, this package's own, are relative to it). */
  readonly packageRoot: string;
  /** The anomaly sidecar's entry point, absolute. */
  readonly sidecarEntry: string;
  readonly platform: string;
  /** The loopback port of a container of the task; null for one that listens on none. */
  readonly portOf: (container: string) => number | null;
  readonly readDockerfile?: ReadDockerfile;
  readonly machine?: Machine;
}

/**
 * A task's processes: its app, run by the runner chosen for it (runners.ts), and its sidecar when
 * scored. Its log router is the in-process router here (a declared difference), so it has none.
 */
export function planTaskProcesses(task: TaskWiring, context: TaskProcessContext): ProcessPlan[] {
  const processes: ProcessPlan[] = [];
  // What the task's router (here the in-process log router) and its sidecar share, and no one else.
  const intakeToken = randomBytes(24).toString('hex');
  const sidecar = context.portOf(CONTAINER_NAMES.sidecar);
  for (const container of task.containers) {
    if (container.role === 'log-router') continue;
    const port = context.portOf(container.name);
    const sources: LocalSources = {
      ...context.sources,
      port: port ?? undefined,
      service: task.service,
      secretValues: context.secretValues,
      intakeToken,
    };
    const env = {
      ...renderLocalEnvironment(container.environment, sources),
      ...localOnlyEnvironment(container, context.differences),
    };
    const isApp = container.role === 'app';
    // The console's images are this package's own: their paths are relative to it.
    const imageRoot =
      task.image.kind === 'dockerfile' && task.image.source === 'platform'
        ? context.packageRoot
        : context.root;
    const runner = isApp
      ? chooseRunner(task, {
          root: imageRoot,
          platform: context.platform,
          ...(context.readDockerfile ? { readDockerfile: context.readDockerfile } : {}),
          ...(context.machine ? { machine: context.machine } : {}),
        })
      : undefined;
    if (!container.health) {
      throw new WiringInvariantError(
        `${task.service}/${container.name}`,
        'a local container needs a health check',
      );
    }
    const run: ProcessRun = runner?.run ?? { kind: 'node', entry: context.sidecarEntry };
    processes.push({
      label: isApp ? task.service : `${task.service}/sidecar`,
      role: isApp ? 'service' : 'sidecar',
      service: task.service,
      ...(run.kind === 'node'
        ? { entry: run.entry }
        : run.kind === 'image'
          ? { image: run.image }
          : { command: { program: run.program, args: run.args, cwd: run.cwd } }),
      ...(runner ? { runner: runner.description } : {}),
      port,
      // The image's own ENV first: the wiring's variables (PORT, callee URLs, …) win.
      env: { ...runner?.imageEnv, ...env },
      health: healthPlan(container.health, port === null ? undefined : loopbackUrl(port)),
      stopTimeoutMs: container.stopTimeoutSeconds * 1000,
      container: container.name,
      ...(isApp && sidecar !== null
        ? { logIntake: { url: `${loopbackUrl(sidecar)}${SIDECAR_PATHS.intake}`, token: intakeToken } }
        : {}),
    });
  }
  return processes;
}

/** A loopback address: every local process listens on 127.0.0.1 only. */
export const loopbackUrl = (port: number) => `http://127.0.0.1:${port}`;

/** The port a plan listens on; throws for a worker's, which listens on none. */
export function listeningPort(plan: ProcessPlan): number {
  if (plan.port === null) throw new WiringInvariantError(plan.label, 'listens on no port (a worker)');
  return plan.port;
}
