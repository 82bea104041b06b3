import { resolve } from 'node:path';
import { localOnlyFunctionEnvironment, type PlatformWiring, WiringInvariantError } from '../wiring/index.ts';
import type { Machine } from './container-runners.ts';
import { functionHostHealth, healthPlan } from './health-plan.ts';
import { type JobPlan, planJob } from './job-plan.ts';
import { type LocalSources, renderLocalDirectory, renderLocalEnvironment } from './local-sources.ts';
import { type ProcessPlan, planTaskProcesses, loopbackUrl as url } from './process-plan.ts';
import type { ReadDockerfile } from './runners.ts';

/**
 * Pure planning: the wiring model (platform/wiring) rendered as local processes — value sources turned
 * into loopback values, plus the declared local-only variables. Nothing about a task is decided here.
 * A task's processes are planned by process-plan.ts, health checks translated by health-plan.ts, a
 * scheduled job's runs by job-plan.ts.
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
  const serviceDirectory = JSON.stringify(renderLocalDirectory(wiring.serviceDirectory, addressOf));
  // What every container's value sources share; each adds its own port, service and intake token.
  const shared = {
    platform: wiring.platform,
    region,
    calleeUrl,
    modelEndpointName: model?.name,
    serviceDirectory,
  };
  const secretValues = settings.secretValues ?? {};

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
    processes.push(
      ...planTaskProcesses(task, {
        sources: shared,
        secretValues,
        differences: differenceContext,
        root: settings.root,
        packageRoot,
        sidecarEntry: resolve(packageRoot, parts.sidecarEntry),
        platform: wiring.platform,
        portOf: (container) => containerPorts.get(portKey(task.service, container)) ?? null,
        ...(settings.readDockerfile ? { readDockerfile: settings.readDockerfile } : {}),
        ...(settings.machine ? { machine: settings.machine } : {}),
      }),
    );
  }

  const [handlerFile, handlerExport] = parts.predictHandler.split('#');
  const prediction = wiring.api?.function;
  if (prediction) {
    const sources: LocalSources = {
      ...shared,
      port: predictPort,
      service: prediction.functionName,
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

  const jobs = wiring.jobs.map((job) =>
    planJob(job, {
      sources: { ...shared, secretValues },
      differences: differenceContext,
      sidecarEntry: resolve(packageRoot, parts.sidecarEntry),
      runners: {
        root: settings.root,
        platform: wiring.platform,
        ...(settings.readDockerfile ? { readDockerfile: settings.readDockerfile } : {}),
        ...(settings.machine ? { machine: settings.machine } : {}),
      },
    }),
  );

  return {
    processes,
    jobs,
    model: model && modelUrl ? { url: modelUrl, endpointName: model.name } : null,
    wiring,
    addresses,
  };
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
