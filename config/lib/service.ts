import { Construct } from 'constructs';
import { Check, DISTINCT_ID_FIX, freeId } from './checks.ts';
import { DeclarationError } from './declaration-error.ts';
import {
  type ApprovalSpec,
  Deployment,
  type DeploymentSpec,
  type ManualApproval,
  RollbackAlarm,
  type RollbackAlarmSpec,
} from './deployment.ts';
import { checkWorkloadEnvironments, type ServiceEnvironmentProps } from './environments.ts';
import { Platform } from './platform.ts';
import {
  checkAnomaly,
  checkApproval,
  checkDeployment,
  checkEnvironment,
  checkHealthCheck,
  checkImageRun,
  checkLocalRun,
  checkPlatformAccess,
  checkPort,
  checkRollbackOn,
  checkScaling,
  checkSecrets,
  checkServiceName,
  type ResolvedAnomaly,
  type ResolvedScaling,
} from './service-checks.ts';
import type { AnomalyProps, HealthCheckProps, PlatformAccessProps, ScalingProps } from './service-props.ts';
import type { Image, ImageSpec, Secret, SecretSpec } from './values.ts';

export { RESERVED_TASK_PORTS } from './service-checks.ts';
export * from './service-props.ts';

/** What every task of the platform declares, whatever its kind (a service, a worker, a scheduled job). */
export interface TaskProps {
  /** CPU units of the app container (1024 = one vCPU). @default 256 */
  readonly cpuUnits?: number;
  /** Memory hard limit of the app container. @default 512 */
  readonly memoryMiB?: number;
  /** Plain, non-secret configuration. Values that look like secrets are refused; use `secrets`. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secrets injected by ECS at start, as references. @default {} */
  readonly secrets?: Readonly<Record<string, Secret>>;
  /** Services it calls; each admits it (and only its callers) through its security group. @default [] */
  readonly talksTo?: readonly InternalService[];
  /** @default - enabled, with the model's threshold */
  readonly anomaly?: AnomalyProps;
}

export interface ServiceProps extends TaskProps {
  /** The image to run. */
  readonly image: Image;
  /** The port the app listens on. */
  readonly port: number;
  /** @default - `/healthz`, 10 s interval, 5 s timeout, 2 healthy, 3 unhealthy, 15 s start period */
  readonly healthCheck?: HealthCheckProps;
  /** @default - 2 to 6 tasks tracking 60 % CPU */
  readonly scaling?: ScalingProps;
  /** Time the app has to exit after SIGTERM before SIGKILL. @default 30 */
  readonly stopTimeoutSeconds?: number;
  /** @default - no access to platform data */
  readonly platformAccess?: PlatformAccessProps;
  /**
   * How new revisions replace old ones. Canary, linear and blue/green shift traffic at the load
   * balancer, so they need a web service.
   * @default - `Deployment.rolling()`
   */
  readonly deployment?: Deployment;
  /**
   * A pause in every release, at the chosen stage, until a person answers `deploy continue` or
   * `deploy abort`. Needs a strategy that shifts traffic.
   * @default - none: releases go through without waiting for a person
   */
  readonly approval?: ManualApproval;
  /**
   * Alarms that roll a deployment back while it runs, each measured on the new revision.
   * @default - the new revision's anomaly rate ≥ 5 %; web services also its 5xx rate ≥ 5 % and any unhealthy target
   */
  readonly rollbackOn?: readonly RollbackAlarm[];
  /**
   * How `start` runs the service on a developer's machine instead of its image: a command (any
   * language; a dev server with reload), run in the repository with the same wiring variables (PORT,
   * callee URLs, …). Never used on AWS.
   * @default - the image's TypeScript entry if it has one, else the Dockerfile's own ENTRYPOINT/CMD
   */
  readonly local?: LocalRunProps;
  /**
   * What differs in each of the platform's environments: its scaling (merged over `scaling`) and its
   * deployment (replacing `deployment`). Keys are the platform's declared environments.
   * @default - every environment runs the service as declared here
   */
  readonly environments?: Readonly<Record<string, ServiceEnvironmentProps>>;
}

/** A service's local run. */
export interface LocalRunProps {
  /** The program and its arguments, e.g. `['python3', 'app.py']`, run from the repository's root. */
  readonly command: readonly string[];
}

/** What a service, worker or job declares of its environment and of the services it calls. */
export interface DeclaredCalls {
  readonly environment?: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, Secret>>;
  readonly talksTo?: readonly InternalService[];
}

/**
 * What every construct that runs a container shares: its declared environment, secrets and callees,
 * checked once ({@link declareCalls}, called where each constructor checks them) and handed out as copies.
 */
export abstract class Workload extends Construct {
  private env: Record<string, string> = {};
  private secretRefs: Record<string, SecretSpec> = {};
  private callees: InternalService[] = [];

  /** Checks and keeps the declared environment, secrets and callees. */
  protected declareCalls(check: Check, props: DeclaredCalls): void {
    this.env = checkEnvironment(check, props.environment);
    this.secretRefs = checkSecrets(check, props.secrets, this.env);
    this.callees = checkTalksTo(this, check, props.talksTo ?? []);
  }

  /** Plain environment (a copy). */
  get environment(): Record<string, string> {
    return { ...this.env };
  }

  /** Secret references (a copy). */
  get secrets(): Record<string, SecretSpec> {
    return { ...this.secretRefs };
  }

  /** The services this one calls (a copy). */
  get talksTo(): InternalService[] {
    return [...this.callees];
  }
}

/** What every service shares; declare a {@link WebService} or an {@link InternalService}. */
export abstract class Service extends Workload {
  abstract readonly kind: 'web' | 'internal';
  readonly name: string;
  readonly image: ImageSpec;
  readonly port: number;
  readonly cpuUnits: number;
  readonly memoryMiB: number;
  readonly healthCheck: Required<HealthCheckProps>;
  readonly scaling: ResolvedScaling;
  readonly stopTimeoutSeconds: number;
  readonly anomaly: ResolvedAnomaly;
  readonly platformAccess: { readonly readAnomalies: boolean; readonly invokeModel: boolean };
  readonly deployment: DeploymentSpec;
  /** The release's pause for a person; null when releases do not wait. */
  readonly approval: ApprovalSpec | null;
  readonly rollbackOn: readonly RollbackAlarmSpec[];
  /** How the local runtime starts it when not from its image's entry; null: from the image. */
  readonly local: { readonly command: readonly string[] } | null;
  private readonly perEnvironment = new Map<
    string,
    { readonly scaling: ResolvedScaling; readonly deployment: DeploymentSpec }
  >();

  protected constructor(scope: Platform, id: string, props: ServiceProps, kind: 'web' | 'internal') {
    super(scope, freeId(scope, id, DISTINCT_ID_FIX));
    const check = new Check(this.node.path);
    this.name = checkServiceName(check, id);
    this.image = props.image.spec;
    this.local = checkLocalRun(check, this.image, props.local);
    this.port = checkPort(check, props.port);
    checkImageRun(check, this.image, this.port);
    this.cpuUnits = check.integer('cpuUnits', props.cpuUnits ?? 256, 128, 10240);
    this.memoryMiB = check.integer('memoryMiB', props.memoryMiB ?? 512, 128, 30720, 'MiB');
    this.healthCheck = checkHealthCheck(check, props.healthCheck);
    this.scaling = checkScaling(check, props.scaling);
    this.stopTimeoutSeconds = check.integer('stopTimeoutSeconds', props.stopTimeoutSeconds ?? 30, 2, 120);
    this.declareCalls(check, props);
    this.deployment = checkDeployment(
      check,
      props.deployment ?? Deployment.rolling(),
      kind,
      this.healthCheck.path,
    );
    this.approval = props.approval ? checkApproval(check, props.approval.spec, this.deployment) : null;
    this.rollbackOn = checkRollbackOn(check, props.rollbackOn ?? defaultRollbackAlarms(kind));
    this.platformAccess = checkPlatformAccess(props.platformAccess);
    this.anomaly = checkAnomaly(check, props.anomaly);
    const overrides = checkWorkloadEnvironments(
      check,
      props.environments,
      scope.environments,
      scope.node.id,
      ['scaling', 'deployment'],
      'service',
    );
    for (const [name, override] of overrides) {
      const within = check.within(`environments.${name}.`);
      const deployment = override.deployment
        ? checkDeployment(within, override.deployment, kind, this.healthCheck.path)
        : this.deployment;
      if (props.approval) checkApproval(within, props.approval.spec, deployment);
      this.perEnvironment.set(name, {
        scaling: checkScaling(within, { ...props.scaling, ...override.scaling }),
        deployment,
      });
    }
  }

  /** Its scaling in `environment` (null: as declared, shared). */
  scalingIn(environment: string | null): ResolvedScaling {
    return (environment !== null && this.perEnvironment.get(environment)?.scaling) || this.scaling;
  }

  /** Its deployment in `environment` (null: as declared, shared). */
  deploymentIn(environment: string | null): DeploymentSpec {
    return (environment !== null && this.perEnvironment.get(environment)?.deployment) || this.deployment;
  }
}

/** Props of a {@link WebService}. */
export interface WebServiceProps extends ServiceProps {
  /**
   * ALB path patterns routed to this service. One web service may take the default (`/*`); the others
   * need their own patterns, matched first in declaration order.
   * @default ['/*']
   */
  readonly paths?: readonly string[];
  /**
   * Reachable from the internet without signing in. Off by default: the ALB authenticates people
   * (Cognito or the declared OIDC provider) before forwarding to the service.
   * @default false
   */
  readonly public?: boolean;
}

/**
 * A public service behind the internet-facing ALB.
 *
 * @example
 * new WebService(platform, 'frontend', {
 *   image: Image.fromDockerfile('Dockerfile.frontend', { entry: 'services/frontend/server/main.ts' }),
 *   port: 8080,
 *   talksTo: [backend],
 * });
 */
export class WebService extends Service {
  readonly kind = 'web' as const;
  readonly paths: readonly string[];
  readonly public: boolean;

  constructor(scope: Platform, id: string, props: WebServiceProps) {
    super(scope, id, props, 'web');
    const paths = [...(props.paths ?? ['/*'])];
    const check = new Check(this.node.path);
    if (paths.length === 0 || paths.length > 5) {
      check.fail(
        'paths',
        paths,
        'must hold 1 to 5 patterns (an ALB rule condition allows 5)',
        "use e.g. ['/*'] or ['/docs/*']",
      );
    }
    for (const [i, p] of paths.entries()) {
      check.pattern(
        `paths[${i}]`,
        p,
        /^\/[A-Za-z0-9_\-.$/~"'@:+*?&=]*$/,
        "must be an ALB path pattern starting with '/'",
        "use a pattern such as '/api/*'",
      );
    }
    this.paths = paths;
    this.public = props.public ?? false;
  }
}

/**
 * A private service, reachable only from the services that declare it in `talksTo`.
 *
 * @example
 * const backend = new InternalService(platform, 'backend', {
 *   image: Image.fromDockerfile('Dockerfile.backend', { entry: 'services/backend/main.ts' }),
 *   port: 8081,
 * });
 */
export class InternalService extends Service {
  readonly kind = 'internal' as const;

  constructor(scope: Platform, id: string, props: ServiceProps) {
    super(scope, id, props, 'internal');
  }
}

/**
 * Callees must be internal services of the same platform, other than `caller` itself (services and
 * workers call the same way).
 */
export function checkTalksTo(
  caller: Construct,
  check: Check,
  talksTo: readonly InternalService[],
): InternalService[] {
  const callees = [...talksTo];
  for (const [i, callee] of callees.entries()) {
    if (!(callee instanceof InternalService)) {
      check.fail(
        `talksTo[${i}]`,
        (callee as Construct).node?.path,
        'is not an InternalService',
        'only internal services can be called; web services are reached through the ALB',
      );
    }
    if ((callee as Construct) === caller)
      check.fail(`talksTo[${i}]`, callee.name, 'is the service itself', 'remove it from talksTo');
    if (Platform.of(callee) !== Platform.of(caller)) {
      check.fail(
        `talksTo[${i}]`,
        callee.node.path,
        'belongs to another platform',
        'declare both services in the same Platform',
      );
    }
  }
  return callees;
}

/** The alarms a deployment rolls back on when the declaration names none. */
function defaultRollbackAlarms(kind: 'web' | 'internal'): RollbackAlarm[] {
  return kind === 'web'
    ? [RollbackAlarm.anomalyRate(), RollbackAlarm.errorRate(), RollbackAlarm.unhealthyTargets()]
    : [RollbackAlarm.anomalyRate()];
}

export { DeclarationError };
