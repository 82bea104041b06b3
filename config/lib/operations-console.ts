import {
  CONSOLE_API_SERVICE_VARIABLE,
  CONSOLE_BASE_PATH_VARIABLE,
  CONSOLE_PATH_PATTERN,
  DEFAULT_CONSOLE_API_SERVICE,
} from '../../contracts/console-web.ts';
import { Check } from './checks.ts';
import { Deployment } from './deployment.ts';
import type { ServiceEnvironmentProps } from './environments.ts';
import { Platform } from './platform.ts';
import { InternalService, WebService } from './service.ts';
import type { ScalingProps } from './service-props.ts';
import { Image } from './values.ts';

/** The console's two images, in this package (paths relative to it): the web server and its API. */
export const CONSOLE_IMAGES = {
  web: { dockerfile: 'Dockerfile.frontend', entry: 'services/frontend/server/main.ts', port: 8080 },
  api: { dockerfile: 'Dockerfile.backend', entry: 'services/backend/main.ts', port: 8081 },
} as const;

/**
 * What the web server is told beyond its defaults (served at the root, its API named `backend`): a
 * console declared with those gets no variable at all.
 */
function consoleWebEnvironment(path: string, apiName: string): Record<string, string> {
  return {
    ...(path === '/' ? {} : { [CONSOLE_BASE_PATH_VARIABLE]: path }),
    ...(apiName === DEFAULT_CONSOLE_API_SERVICE ? {} : { [CONSOLE_API_SERVICE_VARIABLE]: apiName }),
  };
}

/** What a platform team may tune of one of the console's two services. */
export interface ConsoleServiceProps {
  /** @default - 2 to 6 tasks tracking 60 % CPU */
  readonly scaling?: ScalingProps;
  /** @default - the web server: a 10 % canary baked 5 minutes; the API: rolling, probed on `/healthz` and `/api/deployments` */
  readonly deployment?: Deployment;
  /** @default 256 */
  readonly cpuUnits?: number;
  /** @default 512 */
  readonly memoryMiB?: number;
  /** What differs in each of the platform's environments (scaling, deployment), as for any service. @default {} */
  readonly environments?: Readonly<Record<string, ServiceEnvironmentProps>>;
}

/** Props of an {@link OperationsConsole}. */
export interface OperationsConsoleProps {
  /**
   * The URL path the console is served under on the platform's ALB (one segment, e.g. `/console`), so
   * the team's own web service keeps the default route; `/` takes the default route itself.
   * @default '/'
   */
  readonly path?: string;
  /**
   * The name of the console's API service (its ECS service, registry repository and local process).
   * @default `<id>-api`
   */
  readonly apiName?: string;
  /** The web server (static console, `/api` proxied to the API). */
  readonly web?: ConsoleServiceProps;
  /** The API: private, reachable only from the web server. */
  readonly api?: ConsoleServiceProps;
}

/**
 * The operations console, as one construct: a web service of this package's own console image (served
 * under `path`) and its private API, which reads every service's, worker's and job's health, anomalies,
 * deployments, alarms, capacity and job runs, and may call the model endpoint (the prediction
 * playground). The construct is the web service; the API is declared beside it, named `apiName`.
 * At most one per platform.
 *
 * @example
 * new OperationsConsole(platform, 'console', { path: '/console' });
 * // → web service `console` (ALB `/console`, `/console/*`) and internal service `console-api`
 */
export class OperationsConsole extends WebService {
  /** The console's API service. */
  readonly api: InternalService;
  /** The path it is served under (`/` for the default route). */
  readonly basePath: string;

  constructor(scope: Platform, id: string, props: OperationsConsoleProps = {}) {
    const { api, path } = declareConsoleApi(scope, id, props);
    super(scope, id, {
      image: Image.fromPlatform(CONSOLE_IMAGES.web.dockerfile, CONSOLE_IMAGES.web.entry),
      port: CONSOLE_IMAGES.web.port,
      talksTo: [api],
      paths: path === '/' ? ['/*'] : [path, `${path}/*`],
      environment: consoleWebEnvironment(path, api.name),
      scaling: props.web?.scaling ?? { min: 2, max: 6, targetCpuPercent: 60 },
      // 10 % of traffic to a new console for 5 minutes, rolled back on its anomaly rate, 5xx or health.
      deployment: props.web?.deployment ?? Deployment.canary({ percent: 10, bakeMinutes: 5 }),
      ...(props.web?.cpuUnits !== undefined ? { cpuUnits: props.web.cpuUnits } : {}),
      ...(props.web?.memoryMiB !== undefined ? { memoryMiB: props.web.memoryMiB } : {}),
      ...(props.web?.environments ? { environments: props.web.environments } : {}),
    });
    this.api = api;
    this.basePath = path;
  }
}

/**
 * Checks what must hold before either service exists (one console, free names, a routable path) and
 * declares the API first, so the web service can name it in `talksTo`.
 */
function declareConsoleApi(
  scope: Platform,
  id: string,
  props: OperationsConsoleProps,
): { api: InternalService; path: string } {
  const path = scope.node.path ? `${scope.node.path}/${id}` : id;
  const check = new Check(path);
  const other = Platform.of(scope)
    .node.findAll()
    .find((c) => c instanceof OperationsConsole);
  if (other) {
    check.fail(
      'id',
      id,
      `is a second operations console; a platform has at most one (${other.node.path})`,
      'remove it: one console shows every service, worker and job of the platform',
    );
  }
  const apiName = props.apiName ?? `${id}-api`;
  for (const [prop, name] of [
    ['id', id],
    ['apiName', apiName],
  ] as const) {
    const holder = scope.node.tryFindChild(name);
    if (holder) {
      check.fail(
        prop,
        name,
        `is already the name of the ${holder.constructor.name} ${holder.node.path}`,
        `give the console another id (its services are named <id> and <id>-api)${prop === 'apiName' ? ', or set apiName to a free name' : ''}`,
      );
    }
  }
  const basePath = props.path ?? '/';
  if (basePath !== '/' && !CONSOLE_PATH_PATTERN.test(basePath)) {
    check.fail(
      'path',
      basePath,
      "must be '/' or one path segment such as '/console' (letters, digits, '-' or '_')",
      "use e.g. path: '/console', or leave it out for the ALB's default route",
    );
  }
  const api = new InternalService(scope, apiName, {
    image: Image.fromPlatform(CONSOLE_IMAGES.api.dockerfile, CONSOLE_IMAGES.api.entry),
    port: CONSOLE_IMAGES.api.port,
    scaling: props.api?.scaling ?? { min: 2, max: 6, targetCpuPercent: 60 },
    // Anomaly series and lines of every service, worker and job; the prediction playground.
    platformAccess: { readAnomalies: true, invokeModel: true },
    // Rolling (no load balancer to shift traffic at), rolled back on the new revision's anomaly rate;
    // an idle release is probed on its health path and on an API route the console reads.
    deployment: props.api?.deployment ?? Deployment.rolling({ probes: ['/healthz', '/api/deployments'] }),
    ...(props.api?.cpuUnits !== undefined ? { cpuUnits: props.api.cpuUnits } : {}),
    ...(props.api?.memoryMiB !== undefined ? { memoryMiB: props.api.memoryMiB } : {}),
    ...(props.api?.environments ? { environments: props.api.environments } : {}),
  });
  return { api, path: basePath };
}
