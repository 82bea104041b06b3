import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import {
  CONTAINER_NAMES,
  type ContainerWiring,
  type HealthWiring,
  localOnlyEnvironment,
  localOnlyFunctionEnvironment,
  type PlatformWiring,
  type ScheduleWiring,
  WiringInvariantError,
} from '../wiring/index.ts';
import type { ImageRun, Machine } from './container-runners.ts';
import { type LocalSources, renderLocalDirectory, renderLocalEnvironment } from './local-sources.ts';
import { chooseRunner, type ProcessRun, type ReadDockerfile } from './runners.ts';

/**
 * Pure planning: the wiring model (platform/wiring) rendered as local processes — value sources turned
 * into loopback values, plus the declared local-only variables. Nothing about a task is decided here.
 */

/** The package's own parts the local runtime runs that the wiring does not name (relative to the package). */
export interface LocalParts {
  /** The anomaly sidecar's entry point (one process per service). */
  readonly sidecarEntry: string;
  /** The prediction function behind `POST /predict`: `module.ts#export`. */
  readonly predictHandler: string;
  /** The Lambda host that runs it. */
  readonly lambdaHostEntry: string;
}

export const DEFAULT_PARTS: LocalParts = {
  sidecarEntry: 'services/anomaly-sidecar/main.ts',
  predictHandler: 'functions/predict/handler.ts#handler',
  lambdaHostEntry: 'platform/local/lambda-host.ts',
};

/** Ports and switches chosen for one run. */
export interface RunSettings {
  /** The team's repository: its services' entries (and its own model's files) are relative to it. */
  readonly root: string;
  /**
   * The package's folder: the sidecar, the Lambda host, the prediction function and the model it ships
   * are relative to it. Installed, it is `node_modules/<package>`; in this repository, the root.
   * @default - root
   */
  readonly packageRoot?: string;
  readonly modelPort: number;
  /** Internal loopback ports, at least {@link portsNeeded} of them. */
  readonly internalPorts: readonly number[];
  /** The local "region"; no AWS call is ever made. @default 'local' */
  readonly region?: string;
  /** Let the backend's fault switch be flipped (local default: on). @default true */
  readonly faultsEnabled?: boolean;
  /** How a Dockerfile is read, for a service that runs its Dockerfile's command. @default - from disk */
  readonly readDockerfile?: ReadDockerfile;
  /** What this machine runs images with. @default - asked of the machine */
  readonly machine?: Machine;
  /** Values for the services' declared `secrets`, by variable name (read from the caller's environment). */
  readonly secretValues?: Readonly<Record<string, string>>;
  readonly parts?: LocalParts;
  /** The runtime's state files the console's backend reads (deployments, processes). @default - none */
  readonly stateFiles?: { readonly deployments: string; readonly processes: string; readonly jobs: string };
}

/** How the supervisor knows a process is up. */
export type HealthPlan = HealthTiming &
  (
    | { readonly kind: 'http'; readonly url: string }
    /** A program run beside the process (ECS's `CMD` form; `CMD-SHELL` through `sh -c`); exit 0 passes. */
    | { readonly kind: 'command'; readonly file: string; readonly args: readonly string[] }
    /** Passes while the process runs and has stayed up {@link PROCESS_UP_MS} since it started. */
    | { readonly kind: 'process' }
  );

/**
 * How long a process without a health check must stay up to count as healthy: one that crashes at
 * start never does, as an ECS task whose essential container exits never reaches RUNNING for long.
 */
export const PROCESS_UP_MS = 1000;

/** The pace and thresholds of a health check. */
export interface HealthTiming {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly startPeriodMs: number;
}

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

/** A scheduled job's runs: its app and, when scored, a sidecar started per run (as each ECS run is a task). */
export interface JobPlan {
  readonly job: string;
  /** What each run starts: chosen as a service's app is (runners.ts), from the team's repository. */
  readonly run: ProcessRun;
  /** The runner, as printed at start. */
  readonly runner: string;
  /** The app's environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly stopTimeoutMs: number;
  readonly timeoutMs: number;
  readonly schedule: ScheduleWiring;
  readonly allowOverlap: boolean;
  /** The per-run sidecar; its port (`PORT`) and revision label are chosen per run. */
  readonly sidecar: {
    readonly entry: string;
    readonly env: Readonly<Record<string, string>>;
    readonly stopTimeoutMs: number;
    /** What the run's log router presents to its sidecar (the wiring's `intake-token`). */
    readonly intakeToken: string;
  } | null;
}

/** The whole local deployment of a wiring. */
export interface LocalPlan {
  readonly processes: readonly ProcessPlan[];
  readonly jobs: readonly JobPlan[];
  /** URL of the SageMaker-runtime-compatible endpoint and the endpoint name callers use. */
  readonly model: { readonly url: string; readonly endpointName: string } | null;
  /** The wiring the plan renders. */
  readonly wiring: PlatformWiring;
  /** Each service's stable local addresses. */
  readonly addresses: readonly ServiceAddress[];
}

/** A service's stable loopback addresses, whatever revisions run behind them. */
export interface ServiceAddress {
  readonly service: string;
  /** Callers and health probes reach the service here (`<NAME>_URL`); a worker has none. */
  readonly port?: number;
  /** The service's sidecars' `/anomalies` and `/series`, merged over its revisions. */
  readonly sidecarPort?: number;
}

/**
 * Internal ports a wiring needs: each service's app and sidecar, its stable local address and its
 * sidecars' aggregated API, plus the predict function.
 */
export function portsNeeded(wiring: PlatformWiring): number {
  const perTask = (t: PlatformWiring['tasks'][number]) => (t.kind === 'worker' ? 0 : 2) + (t.scored ? 2 : 0);
  return wiring.tasks.reduce((n, t) => n + perTask(t), 0) + 1;
}

export { serviceUrlVariable } from '../wiring/index.ts';

/** What every child inherits from the supervisor's own environment: only what a process needs to run. */
export function baseEnvironment(source: NodeJS.ProcessEnv): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_OPTIONS', 'NO_COLOR', 'FORCE_COLOR'];
  const env: Record<string, string> = {};
  for (const key of keep) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * Plans the processes of a wiring (platform/wiring): the model server on `modelPort`, every task's app
 * and sidecar containers on internal ports, and the predict function's Lambda host. The log router
 * container is the in-process router here (a declared difference). Ports are fixed for the run, so a
 * restarted process comes back where its callers expect it.
 *
 * @example
 * const plan = planLocalRun(wiring, { root: process.cwd(), modelPort: 8082, internalPorts });
 */
export function planLocalRun(wiring: PlatformWiring, settings: RunSettings): LocalPlan {
  const parts = settings.parts ?? DEFAULT_PARTS;
  const region = settings.region ?? 'local';
  const needed = portsNeeded(wiring);
  if (settings.internalPorts.length < needed) {
    throw new Error(`planLocalRun: ${needed} internal ports needed, ${settings.internalPorts.length} given`);
  }
  const ports = [...settings.internalPorts];
  const take = () => ports.shift()!;
  checkRunnable(wiring, settings.secretValues ?? {});

  const packageRoot = settings.packageRoot ?? settings.root;
  const model = wiring.model;
  const modelRoot = model?.source === 'platform' ? packageRoot : settings.root;
  const modelUrl = model ? url(settings.modelPort) : undefined;
  const differenceContext = {
    region,
    modelUrl,
    faultsEnabled: settings.faultsEnabled !== false,
    ...(settings.stateFiles ? { stateFiles: settings.stateFiles } : {}),
  };

  // Every listening container gets a loopback port, in task order.
  const containerPorts = new Map<string, number>();
  const portKey = (service: string, container: string) => `${service}/${container}`;
  for (const task of wiring.tasks) {
    for (const container of task.containers) {
      if (container.role !== 'log-router' && container.port) {
        // An image with a fixed port listens there whatever PORT says: the declared port is honoured.
        const fixed = container.role === 'app' ? task.image.run?.port : undefined;
        containerPorts.set(portKey(task.service, container.name), fixed ?? take());
      }
    }
  }
  const predictPort = take();
  // Each service's stable local address (the proxy over its revisions, standing in for Cloud Map and
  // the target group) and, when scored, the aggregate of its revisions' sidecars (standing in for the
  // CloudWatch metrics and anomaly log group that aggregate every task on AWS).
  const addresses: ServiceAddress[] = wiring.tasks.map((task) => ({
    service: task.service,
    ...(task.kind === 'worker' ? {} : { port: take() }),
    ...(task.scored ? { sidecarPort: take() } : {}),
  }));
  const addressOf = (service: string) => addresses.find((a) => a.service === service)!;
  const calleeUrl = (callee: string) => {
    const port = addressOf(callee).port;
    if (port === undefined) throw new WiringInvariantError(callee, "a worker is nobody's callee");
    return url(port);
  };
  const sidecarPort = (service: string) => containerPorts.get(portKey(service, CONTAINER_NAMES.sidecar));
  const serviceDirectory = JSON.stringify(renderLocalDirectory(wiring.serviceDirectory, addressOf));

  const processes: ProcessPlan[] = [];
  if (model) {
    processes.push({
      label: 'model',
      role: 'model',
      entry: resolve(modelRoot, model.image.entry),
      port: settings.modelPort,
      env: {
        PORT: String(settings.modelPort),
        HOST: '127.0.0.1',
        MODEL_DIR: resolve(modelRoot, model.artifactDir),
      },
      health: healthPlan(model.health, url(settings.modelPort)),
      stopTimeoutMs: 5000,
    });
  }

  for (const task of wiring.tasks) {
    // What the task's router (here the in-process log router) and its sidecar share, and no one else.
    const intakeToken = randomBytes(24).toString('hex');
    for (const container of task.containers) {
      if (container.role === 'log-router') continue;
      const port = containerPorts.get(portKey(task.service, container.name)) ?? null;
      const sources: LocalSources = {
        port: port ?? undefined,
        service: task.service,
        platform: wiring.platform,
        region,
        calleeUrl,
        modelEndpointName: model?.name,
        serviceDirectory,
        secretValues: settings.secretValues ?? {},
        intakeToken,
      };
      const env = {
        ...renderLocalEnvironment(container.environment, sources),
        ...localOnlyEnvironment(container, differenceContext),
      };
      const sidecar = sidecarPort(task.service);
      const isApp = container.role === 'app';
      // The console's images are this package's own: their paths are relative to it.
      const imageRoot =
        task.image.kind === 'dockerfile' && task.image.source === 'platform' ? packageRoot : settings.root;
      const runner = isApp
        ? chooseRunner(task, {
            root: imageRoot,
            platform: wiring.platform,
            ...(settings.readDockerfile ? { readDockerfile: settings.readDockerfile } : {}),
            ...(settings.machine ? { machine: settings.machine } : {}),
          })
        : undefined;
      if (!container.health) {
        throw new WiringInvariantError(
          `${task.service}/${container.name}`,
          'a local container needs a health check',
        );
      }
      const run: ProcessRun = runner?.run ?? {
        kind: 'node',
        entry: resolve(packageRoot, parts.sidecarEntry),
      };
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
        health: healthPlan(container.health, port === null ? undefined : url(port)),
        stopTimeoutMs: container.stopTimeoutSeconds * 1000,
        container: container.name,
        ...(isApp && sidecar
          ? { logIntake: { url: `${url(sidecar)}${SIDECAR_PATHS.intake}`, token: intakeToken } }
          : {}),
      });
    }
  }

  const [handlerFile, handlerExport] = parts.predictHandler.split('#');
  const prediction = wiring.api?.function;
  if (prediction) {
    const sources: LocalSources = {
      port: predictPort,
      service: prediction.functionName,
      platform: wiring.platform,
      region,
      calleeUrl,
      modelEndpointName: model?.name,
      serviceDirectory,
      secretValues: {},
    };
    processes.push({
      label: prediction.functionName,
      role: 'function',
      entry: resolve(packageRoot, parts.lambdaHostEntry),
      port: predictPort,
      env: {
        ...renderLocalEnvironment(prediction.environment, sources),
        ...localOnlyFunctionEnvironment(prediction, differenceContext),
        PORT: String(predictPort),
        HOST: '127.0.0.1',
        LAMBDA_HANDLER: `${resolve(packageRoot, handlerFile!)}#${handlerExport}`,
        AWS_LAMBDA_FUNCTION_NAME: prediction.functionName,
        AWS_LAMBDA_FUNCTION_TIMEOUT: String(prediction.timeoutSeconds),
      },
      health: functionHostHealth(url(predictPort)),
      stopTimeoutMs: 3000,
    });
  }

  const jobs = wiring.jobs.map((job): JobPlan => {
    const intakeToken = randomBytes(24).toString('hex');
    const sources: LocalSources = {
      intakeToken,
      // A run's sidecar gets its port per run (its PORT is set then).
      port: 0,
      service: job.job,
      platform: wiring.platform,
      region,
      calleeUrl,
      modelEndpointName: model?.name,
      serviceDirectory,
      secretValues: settings.secretValues ?? {},
    };
    const envOf = (container: ContainerWiring) => ({
      ...renderLocalEnvironment(container.environment, sources),
      ...localOnlyEnvironment(container, differenceContext),
    });
    const app = job.containers.find((c) => c.role === 'app')!;
    const sidecar = job.containers.find((c) => c.role === 'sidecar');
    const runner = chooseRunner(
      { path: job.path, service: job.job, image: job.image, containers: job.containers },
      {
        root: settings.root,
        platform: wiring.platform,
        ...(settings.readDockerfile ? { readDockerfile: settings.readDockerfile } : {}),
        ...(settings.machine ? { machine: settings.machine } : {}),
      },
    );
    return {
      job: job.job,
      run: runner.run,
      runner: runner.description,
      // The image's own ENV first: the wiring's variables win.
      env: { ...runner.imageEnv, ...envOf(app) },
      stopTimeoutMs: app.stopTimeoutSeconds * 1000,
      timeoutMs: job.timeoutSeconds * 1000,
      schedule: job.schedule,
      allowOverlap: job.allowOverlap,
      sidecar: sidecar
        ? {
            entry: resolve(packageRoot, parts.sidecarEntry),
            env: envOf(sidecar),
            stopTimeoutMs: sidecar.stopTimeoutSeconds * 1000,
            intakeToken,
          }
        : null,
    };
  });

  return {
    processes,
    jobs,
    model: model && modelUrl ? { url: modelUrl, endpointName: model.name } : null,
    wiring,
    addresses,
  };
}

const url = (port: number) => `http://127.0.0.1:${port}`;

/** A health check moved to another loopback port (a new revision's): only an HTTP probe names one. */
export function healthAtPort(health: HealthPlan, port: number): HealthPlan {
  if (health.kind !== 'http') return health;
  const moved = new URL(health.url);
  moved.port = String(port);
  return { ...health, url: moved.toString() };
}

/** The port a plan listens on; throws for a worker's, which listens on none. */
export function listeningPort(plan: ProcessPlan): number {
  if (plan.port === null) throw new WiringInvariantError(plan.label, 'listens on no port (a worker)');
  return plan.port;
}

/** The local API Gateway's routes: the wiring's prediction route, at the API's root (no stage prefix). */
export function apiRoutes(wiring: PlatformWiring): { method: string; resource: string }[] {
  return wiring.api ? [{ method: wiring.api.route.method, resource: wiring.api.route.path }] : [];
}

/**
 * What this runtime cannot run, refused before anything starts: a declared secret without a local value
 * (locally secrets are never read from AWS). A service no runner can start is refused by runners.ts.
 */
function checkRunnable(wiring: PlatformWiring, secretValues: Readonly<Record<string, string>>): void {
  for (const task of [...wiring.tasks, ...wiring.jobs]) {
    for (const container of task.containers) {
      for (const [key, source] of Object.entries(container.environment)) {
        if (source.kind === 'secret' && secretValues[key] === undefined) {
          throw new Error(
            `${task.path}: secret ${key} has no local value. Set it in the environment of npm start ` +
              `(${key}=… npm start); locally secrets are never read from AWS`,
          );
        }
      }
    }
  }
}

/** A wired health check: an HTTP probe over loopback at `base`, the command beside the process, or its uptime. */
function healthPlan(health: HealthWiring, base: string | undefined): HealthPlan {
  const probe = health.probe;
  const timing = healthTiming(health);
  switch (probe.kind) {
    case 'http':
      if (base === undefined)
        throw new WiringInvariantError(probe.path, 'an HTTP health check without a port');
      return { kind: 'http', url: `${base}${probe.path}`, ...timing };
    case 'command': {
      const [form, ...rest] = probe.command;
      // ECS's forms: CMD runs the program itself, CMD-SHELL hands one string to the shell.
      if (form === 'CMD-SHELL')
        return { kind: 'command', file: 'sh', args: ['-c', rest.join(' ')], ...timing };
      if (form !== 'CMD' || rest.length === 0)
        throw new WiringInvariantError(
          probe.command.join(' '),
          "a command health check is ECS's CMD or CMD-SHELL form",
        );
      return { kind: 'command', file: rest[0]!, args: rest.slice(1), ...timing };
    }
    case 'process':
      return { kind: 'process', ...timing };
  }
}

function healthTiming(health: HealthWiring): HealthTiming {
  return {
    intervalMs: health.intervalSeconds * 1000,
    timeoutMs: health.timeoutSeconds * 1000,
    healthyThreshold: health.healthyThreshold,
    unhealthyThreshold: health.retries,
    startPeriodMs: health.startPeriodSeconds * 1000,
  };
}

/** Health of the local Lambda host, which runs the function on AWS's behalf (no ECS task, not in the wiring). */
function functionHostHealth(url: string): HealthPlan {
  return {
    kind: 'http',
    url: `${url}/ping`,
    intervalMs: 10_000,
    timeoutMs: 2000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    startPeriodMs: 15_000,
  };
}
