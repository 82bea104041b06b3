import type {
  ImageManifest,
  JobManifest,
  Manifest,
  ServiceManifest,
  WorkerManifest,
} from '../../config/index.ts';
import { JOB_DIRECTORY_VARIABLE, type JobDirectory } from '../../contracts/job-runs.ts';
import { SERVICE_DIRECTORY_VARIABLE, serviceUrlVariable } from '../../contracts/service-directory.ts';
import { LOG_ROUTER_IMAGE, SIDECAR_ENV, SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import { LOG_ROUTER_CONTAINER as LOG_ROUTER, SIDECAR_CONTAINER } from './platform-containers.ts';
import type { ContainerWiring, Grant, ValueSource } from './types.ts';

/**
 * The containers of a task as the wiring decides them: the FireLens log router, the service's app and,
 * when its logs are scored, the anomaly sidecar.
 */

/** Container names inside every task definition (the deploy command addresses containers by them). */
export const CONTAINER_NAMES = {
  app: 'app',
  logRouter: LOG_ROUTER.name,
  sidecar: SIDECAR_CONTAINER.name,
} as const;

/** The uid:gid of `node` in the Node.js base images every service image runs as. */
export const APP_USER = '1000:1000';

/**
 * The size of each declared writable path (a tmpfs counts against the container's memory limit; ECS
 * needs a size). 64 MiB holds the scratch files of a typical server (pid files, caches, uploads in flight).
 */
export const TMPFS_SIZE_MIB = 64;

/**
 * What the declaration says of how its image runs, as container settings: its user (else the platform's
 * non-root default), command, entrypoint and writable paths.
 */
export function declaredRun(
  image: ImageManifest,
): Pick<ContainerWiring, 'user' | 'command' | 'entryPoint' | 'tmpfs'> {
  const run = image.run;
  return {
    user: run?.user ?? APP_USER,
    ...(run?.command ? { command: [...run.command] } : {}),
    ...(run?.entrypoint ? { entryPoint: [...run.entrypoint] } : {}),
    ...(run && run.writablePaths.length > 0
      ? { tmpfs: run.writablePaths.map((path) => ({ path, sizeMiB: TMPFS_SIZE_MIB })) }
      : {}),
  };
}

/** Registry names of the platform's own images (not manifest services). */
export const PLATFORM_IMAGES = { sidecar: 'sidecar', logRouter: 'log-router', model: 'model' } as const;

/**
 * The prediction function's deadlines. The model call gives up first, so the function answers 504 in
 * the error shape rather than being killed; the function's own timeout stays under API Gateway's 29 s
 * integration limit.
 */
export const PREDICTION_TIMING = { modelTimeoutMs: 2000, functionTimeoutSeconds: 10 } as const;

/** How long a restarted sidecar must stay up before ECS counts restart attempts from zero again. */
const SIDECAR_RESTART_RESET_SECONDS = 60;

// The variable a caller receives for a service it talks to is a boundary name: the console's web server
// reads its API's by it.
export { serviceUrlVariable };

/** The deadline container's exit code when the timeout passes (coreutils `timeout`'s): the run failed. */
export const TIMEOUT_EXIT_CODE = 124;

/** A job's task-definition family: its runs are the family's tasks. */
export function jobFamily(manifest: Manifest, job: string): string {
  return `${manifest.platform.name}-${job}`;
}

/** What the console's API is told of the platform's jobs (contracts/job-runs.ts `JobDirectorySchema`). */
function jobDirectory(manifest: Manifest): JobDirectory {
  return manifest.jobs.map((job) => ({
    name: job.name,
    family: jobFamily(manifest, job.name),
    appContainer: CONTAINER_NAMES.app,
    timeoutExitCode: TIMEOUT_EXIT_CODE,
  }));
}

const literal = (value: string): ValueSource => ({ kind: 'literal', value });

export function logRouterContainer(scored: boolean): ContainerWiring {
  return {
    name: CONTAINER_NAMES.logRouter,
    role: 'log-router',
    image: PLATFORM_IMAGES.logRouter,
    // Essential: without the router the other containers' log driver has nowhere to write.
    essential: LOG_ROUTER.essential,
    port: null,
    environment: {
      [LOG_ROUTER_IMAGE.env.region]: { kind: 'region' },
      [LOG_ROUTER_IMAGE.env.logGroupName]: { kind: 'log-group', group: 'app' },
      [LOG_ROUTER_IMAGE.env.logStreamPrefix]: { kind: 'log-stream-prefix' },
      ...(scored
        ? {
            [LOG_ROUTER_IMAGE.env.anomalyLogGroupName]: { kind: 'log-group', group: 'anomaly' },
            [LOG_ROUTER_IMAGE.env.intakeToken]: { kind: 'intake-token' },
          }
        : {}),
    },
    // The TCP input FireLens adds to its generated config answers the uptime check.
    health: {
      probe: { kind: 'command', command: [...LOG_ROUTER.healthCheckCommand] },
      intervalSeconds: LOG_ROUTER.healthCheck.intervalSeconds,
      timeoutSeconds: LOG_ROUTER.healthCheck.timeoutSeconds,
      retries: LOG_ROUTER.healthCheck.retries,
      healthyThreshold: 1,
      startPeriodSeconds: LOG_ROUTER.healthCheck.startPeriodSeconds,
    },
    firelensConfigFile: scored ? LOG_ROUTER_IMAGE.configFiles.scored : LOG_ROUTER_IMAGE.configFiles.plain,
    stopTimeoutSeconds: LOG_ROUTER.stopTimeoutSeconds,
    startAfter: [],
    // The router writes the app's and the sidecar's records with the task role.
    grants: [
      { kind: 'write-log-group', group: 'app' },
      ...(scored ? [{ kind: 'write-log-group', group: 'anomaly' } as const] : []),
    ],
    logging: 'own',
    cpuUnits: LOG_ROUTER.cpuUnits,
    memoryReservationMiB: LOG_ROUTER.memoryReservationMiB,
    memoryLimitMiB: LOG_ROUTER.memoryLimitMiB,
    restart: null,
    user: null,
    readonlyRootFilesystem: true,
  };
}

/** What a service or worker declares of its own environment: variables, secrets, its callees' URLs. */
export function declaredEnvironment(
  declared: ServiceManifest | WorkerManifest | JobManifest,
): Record<string, ValueSource> {
  const environment: Record<string, ValueSource> = {};
  for (const [name, value] of Object.entries(declared.environment)) environment[name] = literal(value);
  for (const [name, secret] of Object.entries(declared.secrets))
    environment[name] = { kind: 'secret', secret };
  for (const callee of declared.talksTo) {
    environment[serviceUrlVariable(callee)] = { kind: 'callee-url', service: callee };
  }
  return environment;
}

export function appContainer(manifest: Manifest, service: ServiceManifest): ContainerWiring {
  const environment = declaredEnvironment(service);
  const grants: Grant[] = [];
  if (service.platformAccess.readAnomalies) {
    environment[SERVICE_DIRECTORY_VARIABLE] = { kind: 'service-directory' };
    environment.ANOMALY_SOURCE = { kind: 'anomaly-source' };
    environment.ANOMALY_LOG_GROUP = { kind: 'log-group', group: 'anomaly' };
    // The console's operations views: deployments, alarms, remediation, capacity.
    environment.OPERATIONS_SOURCE = { kind: 'operations-source' };
    environment.ECS_CLUSTER = { kind: 'cluster-name' };
    environment.REMEDIATION_TABLE = { kind: 'remediation-ledger' };
    environment.ALARM_NAME_PREFIX = { kind: 'alarm-name-prefix' };
    grants.push({ kind: 'read-anomalies' }, { kind: 'read-service-state' });
    // Job runs: the jobs' families' tasks (ListTasks and DescribeTasks of read-service-state) on AWS.
    if (manifest.jobs.length > 0) {
      environment[JOB_DIRECTORY_VARIABLE] = literal(JSON.stringify(jobDirectory(manifest)));
    }
    // The deployment view shows what the gate saw: there is a gate where a deployment shifts traffic.
    if (manifest.services.some((s) => s.deployment.strategy !== 'rolling')) {
      environment.GATE_LOG_GROUP = { kind: 'log-group', group: 'deployment-gate' };
      grants.push({ kind: 'read-gate-decisions' });
    }
  }
  if (service.platformAccess.invokeModel && manifest.model) {
    environment.MODEL_ENDPOINT_NAME = { kind: 'model-endpoint-name' };
    environment.MODEL_TIMEOUT_MS = literal(String(PREDICTION_TIMING.modelTimeoutMs));
    grants.push({ kind: 'invoke-model' });
  }
  // The AWS SDK for JavaScript reads the region from the environment only, and ECS on EC2 does not
  // set it; aws-cdk-lib's awsvpc EC2 task definitions add it to every container, so the wiring says so.
  environment.AWS_REGION = { kind: 'region' };
  environment.PORT = { kind: 'listen-port' };
  environment.HOST = { kind: 'listen-host', scope: 'network' };
  const hc = service.healthCheck;
  return {
    name: CONTAINER_NAMES.app,
    role: 'app',
    image: service.name,
    essential: true,
    port: { number: service.port, exposed: true },
    environment,
    health: {
      probe: { kind: 'http', port: service.port, path: hc.path },
      intervalSeconds: hc.intervalSeconds,
      timeoutSeconds: hc.timeoutSeconds,
      retries: hc.unhealthyThreshold,
      healthyThreshold: hc.healthyThreshold,
      startPeriodSeconds: hc.startPeriodSeconds,
    },
    stopTimeoutSeconds: service.stopTimeoutSeconds,
    startAfter: [CONTAINER_NAMES.logRouter],
    grants,
    logging: 'firelens',
    cpuUnits: service.cpuUnits,
    memoryReservationMiB: null,
    memoryLimitMiB: service.memoryMiB,
    restart: null,
    readonlyRootFilesystem: true,
    ...declaredRun(service.image),
  };
}

/**
 * A worker's app container: no port and no listen variables; its health is the declared command
 * (ECS exec form) or the process staying up.
 */
export function workerContainer(worker: WorkerManifest): ContainerWiring {
  const hc = worker.healthCheck;
  return {
    name: CONTAINER_NAMES.app,
    role: 'app',
    image: worker.name,
    essential: true,
    port: null,
    // The AWS SDK reads the region from the environment only (see appContainer).
    environment: { ...declaredEnvironment(worker), AWS_REGION: { kind: 'region' } },
    health: {
      probe: hc.command ? { kind: 'command', command: ['CMD', ...hc.command] } : { kind: 'process' },
      intervalSeconds: hc.intervalSeconds,
      timeoutSeconds: hc.timeoutSeconds,
      retries: hc.retries,
      healthyThreshold: 1,
      startPeriodSeconds: hc.startPeriodSeconds,
    },
    stopTimeoutSeconds: worker.stopTimeoutSeconds,
    startAfter: [CONTAINER_NAMES.logRouter],
    grants: [],
    logging: 'firelens',
    cpuUnits: worker.cpuUnits,
    memoryReservationMiB: null,
    memoryLimitMiB: worker.memoryMiB,
    restart: null,
    readonlyRootFilesystem: true,
    ...declaredRun(worker.image),
  };
}

export function sidecarContainer(service: Pick<ServiceManifest, 'name' | 'anomaly'>): ContainerWiring {
  const limits = service.anomaly.sidecar;
  const hc = SIDECAR_CONTAINER.healthCheck;
  return {
    name: CONTAINER_NAMES.sidecar,
    role: 'sidecar',
    image: PLATFORM_IMAGES.sidecar,
    // Non-essential: a sidecar crash or a failing endpoint never stops the app.
    essential: SIDECAR_CONTAINER.essential,
    // Not mapped: only the router in the same task reaches it, over 127.0.0.1.
    port: { number: SIDECAR_CONTAINER.port, exposed: false },
    environment: {
      [SIDECAR_ENV.port]: { kind: 'listen-port' },
      [SIDECAR_ENV.host]: { kind: 'listen-host', scope: 'task' },
      [SIDECAR_ENV.intakeToken]: { kind: 'intake-token' },
      [SIDECAR_ENV.serviceName]: literal(service.name),
      [SIDECAR_ENV.clusterName]: { kind: 'cluster-name' },
      [SIDECAR_ENV.endpointName]: { kind: 'model-endpoint-name' },
      [SIDECAR_ENV.logGroupName]: { kind: 'log-group', group: 'app' },
      AWS_REGION: { kind: 'region' },
      [SIDECAR_ENV.anomalyBudget]: literal(String(service.anomaly.budget)),
      ...(service.anomaly.threshold === null
        ? {}
        : { [SIDECAR_ENV.anomalyThreshold]: literal(String(service.anomaly.threshold)) }),
    },
    health: {
      probe: { kind: 'http', port: SIDECAR_CONTAINER.port, path: SIDECAR_PATHS.health },
      intervalSeconds: hc.intervalSeconds,
      timeoutSeconds: hc.timeoutSeconds,
      retries: hc.retries,
      healthyThreshold: 1,
      startPeriodSeconds: hc.startPeriodSeconds,
    },
    stopTimeoutSeconds: SIDECAR_CONTAINER.stopTimeoutSeconds,
    startAfter: [CONTAINER_NAMES.logRouter],
    grants: [{ kind: 'invoke-model' }],
    logging: 'firelens',
    cpuUnits: limits.cpuUnits,
    memoryReservationMiB: limits.memoryMiB,
    // The hard limit kills the sidecar, never the app, if a bug defeats its own bounds.
    memoryLimitMiB: Math.max(limits.memoryMiB * 2, SIDECAR_CONTAINER.memoryLimitFloorMiB),
    // A killed sidecar comes back in place; without it, scoring would stop unseen until the task is replaced.
    restart: { attemptResetPeriodSeconds: SIDECAR_RESTART_RESET_SECONDS },
    user: SIDECAR_CONTAINER.user,
    readonlyRootFilesystem: SIDECAR_CONTAINER.readonlyRootFilesystem,
  };
}
