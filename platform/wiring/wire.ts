import type { DeploymentStrategyManifest, Manifest, ServiceManifest } from '../../config/index.ts';
import { errorBody } from '../../contracts/errors.ts';
import { SERVICE_DIRECTORY_VARIABLE } from '../../contracts/service-directory.ts';
import { LOG_ROUTER_IMAGE, SIDECAR_ENV, SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import { releaseParameterName, wirePause, wireTeardown, wireTestRoute } from './lifecycle.ts';
import { LOG_ROUTER_CONTAINER as LOG_ROUTER, SIDECAR_CONTAINER } from './platform-containers.ts';
import type {
  ContainerWiring,
  DefaultRouteWiring,
  Grant,
  ImageWiring,
  PlatformWiring,
  PredictionWiring,
  RollbackPolicyWiring,
  RouteWiring,
  TaskWiring,
  ValueSource,
} from './types.ts';

/**
 * The listener's answer when no rule matches (a platform with no `/*` web service): the platform's
 * error shape as JSON, the same bytes from the ALB's fixed response and the local ALB.
 */
export const DEFAULT_ROUTE: DefaultRouteWiring = {
  status: 404,
  contentType: 'application/json',
  body: JSON.stringify(errorBody('not_found', 'no listener rule matches this path')),
};

/** Container names inside every task definition (the deploy command addresses containers by them). */
export const CONTAINER_NAMES = {
  app: 'app',
  logRouter: LOG_ROUTER.name,
  sidecar: SIDECAR_CONTAINER.name,
} as const;

/** The uid:gid of `node` in the Node.js base images every service image runs as. */
export const APP_USER = '1000:1000';

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

/**
 * The variable a caller receives for a service it `talksTo`: `<NAME>_URL`, upper-case, hyphens as
 * underscores (`log-store` → `LOG_STORE_URL`).
 */
export function serviceUrlVariable(service: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_URL`;
}

const literal = (value: string): ValueSource => ({ kind: 'literal', value });

/**
 * Decides, once, every fact about every task of a manifest: containers, environment sources, ports,
 * health checks, stop timeouts, start order, grants, listener routes and the prediction function.
 * Pure: the AWS renderer (platform/aws) and the local runtime (platform/local) only translate it.
 *
 * @example
 * const wiring = wirePlatform(declarePlatform().synth());
 * wiring.tasks[0].containers.map((c) => c.name); // ['log_router', 'app', 'anomaly-sidecar']
 */
export function wirePlatform(manifest: Manifest): PlatformWiring {
  const scored = (s: ServiceManifest) => s.anomaly.enabled && manifest.model !== null;
  const testRoute = wireTestRoute(manifest);
  const tasks = manifest.services.map((service) =>
    wireTask(manifest, service, scored(service), testRoute !== null),
  );
  return {
    platform: manifest.platform.name,
    images: wireImages(manifest, tasks),
    rolloutOrder: calleesFirst(manifest.services).map((s) => s.name),
    namespace: `${manifest.platform.name}.internal`,
    tasks,
    routes: wireRoutes(manifest),
    defaultRoute: DEFAULT_ROUTE,
    prediction: manifest.model ? wirePrediction() : null,
    rollbackPolicy: ROLLBACK_POLICY,
    testRoute,
    teardown: wireTeardown(manifest),
  };
}

/**
 * The rollback policy of every deployment. The minimum volume is what a CloudWatch alarm period of one
 * minute can hold for a small service (50 lines, 20 requests) and enough for the gate's bounds: fewer
 * events leave the confidence bounds too wide to fail anything but a collapse, and a handful of requests
 * from an outsider can never decide. The gate's deadline: ten minutes, two sidecar EMF intervals and the
 * ALB's one-minute metrics long arrived, and time for probes to make up an idle release's volume.
 */
export const ROLLBACK_POLICY: RollbackPolicyWiring = {
  minimumVolume: { lines: 50, requests: 20 },
  gateDeadlineSeconds: 600,
};

function wireTask(
  manifest: Manifest,
  service: ServiceManifest,
  scored: boolean,
  hasTestRoute: boolean,
): TaskWiring {
  const shiftsTraffic = service.deployment.strategy !== 'rolling';
  const containers: ContainerWiring[] = [logRouterContainer(scored), appContainer(manifest, service)];
  if (scored) containers.push(sidecarContainer(service));
  return {
    service: service.name,
    kind: service.kind,
    family: `${manifest.platform.name}-${service.name}`,
    containers,
    entryContainer: CONTAINER_NAMES.app,
    discoverable: service.reachableFrom.length > 0,
    reachableFrom: [...service.reachableFrom],
    ...(scored ? { alertBudget: service.anomaly.budget } : {}),
    deployment: {
      strategy: strategyOf(service.deployment),
      probes: [...service.deployment.probes],
      onScorerOutage: service.deployment.onScorerOutage,
      rollbackOn: service.rollbackOn.map((a) => ({ ...a })),
      shiftsTraffic,
      testTraffic: shiftsTraffic && hasTestRoute,
      // Rolling deployments have no traffic-shift stages; the alarms and the circuit breaker decide.
      gateStages: shiftsTraffic ? ['POST_TEST_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT'] : [],
      pause: wirePause(service),
    },
  };
}

/** What ECS is told of a deployment: the strategy, without the gate's judgement settings. */
function strategyOf(deployment: ServiceManifest['deployment']): DeploymentStrategyManifest {
  const { probes: _probes, onScorerOutage: _onScorerOutage, ...strategy } = deployment;
  return strategy;
}

function logRouterContainer(scored: boolean): ContainerWiring {
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
    // The TCP input FireLens adds to its generated config answers the uptime check (see the contract).
    health: null,
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

function appContainer(manifest: Manifest, service: ServiceManifest): ContainerWiring {
  const environment: Record<string, ValueSource> = {};
  for (const [name, value] of Object.entries(service.environment)) environment[name] = literal(value);
  for (const [name, secret] of Object.entries(service.secrets))
    environment[name] = { kind: 'secret', secret };
  for (const callee of service.talksTo) {
    environment[serviceUrlVariable(callee)] = { kind: 'callee-url', service: callee };
  }
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
      port: service.port,
      path: hc.path,
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
    user: APP_USER,
    readonlyRootFilesystem: true,
  };
}

function sidecarContainer(service: ServiceManifest): ContainerWiring {
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
      port: SIDECAR_CONTAINER.port,
      path: SIDECAR_PATHS.health,
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

/** Every Dockerfile-built image a task container runs, once each, services first. */
function wireImages(manifest: Manifest, tasks: readonly TaskWiring[]): ImageWiring[] {
  const dockerfiles: Record<string, string> = {
    [PLATFORM_IMAGES.sidecar]: SIDECAR_CONTAINER.dockerfile,
    [PLATFORM_IMAGES.logRouter]: LOG_ROUTER.dockerfile,
  };
  for (const service of manifest.services) {
    if (service.image.kind === 'dockerfile') dockerfiles[service.name] = service.image.dockerfile;
  }
  const images: ImageWiring[] = [];
  for (const container of tasks.flatMap((t) => t.containers)) {
    const dockerfile = dockerfiles[container.image];
    if (dockerfile && !images.some((i) => i.name === container.image)) {
      images.push({
        name: container.image,
        dockerfile,
        releaseParameter: releaseParameterName(manifest.platform.name, container.image),
      });
    }
  }
  return images.sort((a, b) => rank(a.name) - rank(b.name));
}

const rank = (image: string) => (Object.values(PLATFORM_IMAGES).includes(image as never) ? 1 : 0);

/** Orders services so every callee precedes its callers; throws on a cycle, naming it. */
export function calleesFirst(services: readonly ServiceManifest[]): ServiceManifest[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: ServiceManifest[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (service: ServiceManifest, chain: string[]): void => {
    if (state.get(service.name) === 'done') return;
    if (state.get(service.name) === 'visiting') {
      throw new Error(
        `${service.path}: talksTo forms a cycle (${[...chain, service.name].join(' → ')}). Fix: remove one of the calls; a cycle cannot be rendered with discovery URLs.`,
      );
    }
    state.set(service.name, 'visiting');
    for (const callee of service.talksTo) {
      const target = byName.get(callee);
      if (target) visit(target, [...chain, service.name]);
    }
    state.set(service.name, 'done');
    ordered.push(service);
  };
  for (const service of services) visit(service, []);
  return ordered;
}

/** Web services' listener rules by priority, then the default (`/*`) service. */
function wireRoutes(manifest: Manifest): RouteWiring[] {
  return manifest.services
    .filter((s) => s.kind === 'web')
    .map((s) => ({ service: s.name, paths: [...s.paths], priority: s.priority, public: s.public }))
    .sort((a, b) => (a.priority === 0 ? 1 : b.priority === 0 ? -1 : a.priority - b.priority));
}

function wirePrediction(): PredictionWiring {
  return {
    method: 'POST',
    path: '/predict',
    functionName: 'predict',
    environment: {
      MODEL_ENDPOINT_NAME: { kind: 'model-endpoint-name' },
      MODEL_TIMEOUT_MS: literal(String(PREDICTION_TIMING.modelTimeoutMs)),
    },
    timeoutSeconds: PREDICTION_TIMING.functionTimeoutSeconds,
    grants: [{ kind: 'invoke-model' }],
  };
}

/** The wiring of one service's task; throws for a name the manifest does not declare. */
export function taskOf(wiring: PlatformWiring, service: string): TaskWiring {
  const task = wiring.tasks.find((t) => t.service === service);
  if (!task) {
    throw new Error(
      `no service '${service}' in platform '${wiring.platform}' (declared: ${wiring.tasks.map((t) => t.service).join(', ')})`,
    );
  }
  return task;
}
