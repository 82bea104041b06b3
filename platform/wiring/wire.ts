import type {
  DeploymentStrategyManifest,
  Manifest,
  ServiceManifest,
  WorkerManifest,
} from '../../config/index.ts';
import { errorBody } from '../../contracts/errors.ts';
import {
  appContainer,
  CONTAINER_NAMES,
  logRouterContainer,
  sidecarContainer,
  workerContainer,
} from './containers.ts';
import { deliveryStagesOf, physicalNamesOf, promotionSourceOf } from './environment.ts';
import { WiringInvariantError } from './invariant.ts';
import { wireJobs } from './jobs.ts';
import { wirePause, wireTeardown, wireTestRoute } from './lifecycle.ts';
import { wireApi, wireImages, wireModel, wireRoutes, wireServiceDirectory } from './platform-parts.ts';
import { ROLLBACK_POLICY } from './rollback-policy.ts';
import type {
  ContainerWiring,
  DefaultRouteWiring,
  DeliveryWiring,
  PlatformWiring,
  TaskWiring,
} from './types.ts';

export {
  APP_USER,
  CONTAINER_NAMES,
  PLATFORM_IMAGES,
  PREDICTION_TIMING,
  serviceUrlVariable,
} from './containers.ts';
export { repositoryName, repositoryPrefix } from './environment.ts';
export { nextJobFire, TIMEOUT_EXIT_CODE } from './jobs.ts';
export { MODEL_CONTRACT, PREDICTION_REQUEST_SCHEMA, PREDICTION_STAGE } from './platform-parts.ts';
export { ROLLBACK_POLICY } from './rollback-policy.ts';

/**
 * The listener's answer when no rule matches (a platform with no `/*` web service): the platform's
 * error shape as JSON, the same bytes from the ALB's fixed response and the local ALB.
 */
export const DEFAULT_ROUTE: DefaultRouteWiring = {
  status: 404,
  contentType: 'application/json',
  body: JSON.stringify(errorBody('not_found', 'no listener rule matches this path')),
};

/** Seconds the ALB keeps sending in-flight requests to a deregistering target: tasks stop within their stop timeout anyway, and rollouts stay fast. */
const DEREGISTRATION_DELAY_SECONDS = 15;

/** Seconds past the container's start period ECS ignores failing target health checks (the ALB's first checks). */
const GRACE_BEYOND_START_PERIOD_SECONDS = 30;

/** How long a discovered address may be cached: callers see replaced tasks within seconds of a rollout. */
const DISCOVERY_TTL_SECONDS = 10;

/**
 * Decides, once, every fact about every task of a manifest: containers, environment sources, ports,
 * health checks, stop timeouts, start order, grants, listener routes and the prediction function.
 * Pure: the AWS renderer (platform/aws) and the local runtime (platform/local) only translate it.
 *
 * @example
 * const wiring = wirePlatform(declarePlatform().synth());
 * wiring.tasks[0].containers.map((c) => c.name); // ['log_router', 'app', 'anomaly-sidecar']
 */
export function wirePlatform(declaration: Manifest): PlatformWiring {
  const manifest = physicalNamesOf(declaration);
  const scored = (s: ServiceManifest | WorkerManifest) => s.anomaly.enabled && manifest.model !== null;
  const testRoute = wireTestRoute(manifest);
  const tasks = [
    ...manifest.services.map((service) => wireTask(manifest, service, scored(service), testRoute !== null)),
    ...manifest.workers.map((worker) => wireWorkerTask(manifest, worker, scored(worker))),
  ];
  const jobs = wireJobs(manifest);
  const declared = [...manifest.services, ...manifest.workers, ...manifest.jobs];
  const platform = manifest.platform;
  return {
    platform: platform.name,
    environment: manifest.environment ? { ...manifest.environment } : null,
    images: wireImages(manifest, [...tasks, ...jobs]),
    rolloutOrder: calleesFirst([...manifest.services, ...manifest.workers]).map((s) => s.name),
    namespace: `${platform.name}.internal`,
    tasks,
    jobs,
    routes: wireRoutes(manifest),
    defaultRoute: DEFAULT_ROUTE,
    network: {
      ...platform.network,
      // issue 13: a Secrets Manager endpoint only when a declared secret needs it.
      secretsManagerEndpoint: declared.some((s) =>
        Object.values(s.secrets).some((secret) => secret.source === 'secretsmanager'),
      ),
    },
    capacity: {
      ...platform.capacity,
      instanceTypes: [...platform.capacity.instanceTypes],
      // HTTPS to the internet only for images from public registries (no VPC endpoint); every
      // platform image, the log router's included, comes from the registry stack's ECR repositories.
      internetImagePulls: declared.some((s) => s.image.kind === 'registry'),
    },
    edge: { ...platform.edge, auth: { ...platform.edge.auth } },
    observability: { ...platform.observability },
    remediation: { ...platform.remediation },
    delivery: platform.delivery ? wireDelivery(declaration, platform.delivery) : null,
    model: manifest.model ? wireModel(manifest.model) : null,
    api: manifest.model ? wireApi({ ...manifest, model: manifest.model }) : null,
    serviceDirectory: wireServiceDirectory(tasks),
    rollbackPolicy: ROLLBACK_POLICY,
    testRoute,
    teardown: wireTeardown(manifest),
  };
}

/** The declared delivery with every stage of the promotion, and this environment's place in it. */
function wireDelivery(
  declaration: Manifest,
  delivery: NonNullable<Manifest['platform']['delivery']>,
): DeliveryWiring {
  const stages = deliveryStagesOf(declaration);
  return {
    ...delivery,
    promotedFrom: promotionSourceOf(declaration, stages),
    declaredPlatform: declaration.platform.name,
    stages,
  };
}

function wireTask(
  manifest: Manifest,
  service: ServiceManifest,
  scored: boolean,
  hasTestRoute: boolean,
): TaskWiring {
  const shiftsTraffic = service.deployment.strategy !== 'rolling';
  const containers: ContainerWiring[] = [logRouterContainer(scored), appContainer(manifest, service)];
  if (scored) containers.push(sidecarContainer(service));
  const hc = service.healthCheck;
  return {
    service: service.name,
    path: service.path,
    kind: service.kind,
    image: { ...service.image },
    local: service.local ? { command: [...service.local.command] } : null,
    family: `${manifest.platform.name}-${service.name}`,
    containers,
    entryContainer: CONTAINER_NAMES.app,
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
      gateStages: shiftsTraffic ? [...ROLLBACK_POLICY.gateStages] : [],
      pause: wirePause(service),
    },
    discovery:
      service.reachableFrom.length > 0
        ? { name: service.name, port: service.port, dnsTtlSeconds: DISCOVERY_TTL_SECONDS }
        : null,
    scaling: { ...service.scaling },
    // The ALB checks the same path at the same pace as the container check, with its own thresholds.
    targetGroup:
      service.kind === 'web'
        ? {
            port: service.port,
            health: {
              path: hc.path,
              intervalSeconds: hc.intervalSeconds,
              timeoutSeconds: hc.timeoutSeconds,
              healthyThreshold: hc.healthyThreshold,
              unhealthyThreshold: hc.unhealthyThreshold,
              healthyHttpCodes: '200-299',
            },
            deregistrationDelaySeconds: DEREGISTRATION_DELAY_SECONDS,
            healthCheckGracePeriodSeconds: hc.startPeriodSeconds + GRACE_BEYOND_START_PERIOD_SECONDS,
          }
        : null,
    scored,
  };
}

/**
 * A worker's task: no port, no discovery, no target group. It rolls (no load balancer to shift traffic
 * at), so there are no gate stages and no probes; its anomaly-rate alarm and the circuit breaker decide.
 */
function wireWorkerTask(manifest: Manifest, worker: WorkerManifest, scored: boolean): TaskWiring {
  const containers: ContainerWiring[] = [logRouterContainer(scored), workerContainer(worker)];
  if (scored) containers.push(sidecarContainer(worker));
  return {
    service: worker.name,
    path: worker.path,
    kind: 'worker',
    image: { ...worker.image },
    // A worker declares no local command yet: start runs its image's entry or its Dockerfile's CMD.
    local: null,
    family: `${manifest.platform.name}-${worker.name}`,
    containers,
    entryContainer: CONTAINER_NAMES.app,
    reachableFrom: [],
    ...(scored ? { alertBudget: worker.anomaly.budget } : {}),
    deployment: {
      strategy: { strategy: 'rolling' },
      probes: [],
      // Without gate stages nothing judges on errors; the anomaly-rate alarm rolls back, scorer or not.
      onScorerOutage: 'judge-on-errors',
      rollbackOn: worker.rollbackOn.map((a) => ({ ...a })),
      shiftsTraffic: false,
      testTraffic: false,
      gateStages: [],
      // No person approves a worker's release: its anomaly-rate alarm decides.
      pause: null,
    },
    discovery: null,
    scaling: { ...worker.scaling },
    targetGroup: null,
    scored,
  };
}

/** What ECS is told of a deployment: the strategy, without the gate's judgement settings. */
function strategyOf(deployment: ServiceManifest['deployment']): DeploymentStrategyManifest {
  const { probes: _probes, onScorerOutage: _onScorerOutage, ...strategy } = deployment;
  return strategy;
}

/** What the rollout order needs of a service or worker. */
interface Caller {
  readonly name: string;
  readonly path: string;
  readonly talksTo: readonly string[];
}

/** Orders services (and workers) so every callee precedes its callers; throws on a cycle, naming it. */
export function calleesFirst<S extends Caller>(services: readonly S[]): S[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: S[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (service: S, chain: string[]): void => {
    if (state.get(service.name) === 'done') return;
    if (state.get(service.name) === 'visiting') {
      throw new WiringInvariantError(
        service.path,
        `talksTo forms a cycle (${[...chain, service.name].join(' → ')}), which a declaration cannot make (a callee exists before its callers)`,
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
