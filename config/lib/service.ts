import { Construct } from 'constructs';
import { Check, DISTINCT_ID_FIX, freeId } from './checks.ts';
import { DeclarationError } from './declaration-error.ts';
import { Platform } from './platform.ts';
import type { Image, ImageSpec, Secret, SecretSpec } from './values.ts';

/**
 * Ports every task reserves for itself: the anomaly sidecar's intake and the FireLens router's
 * forward and monitoring ports. awsvpc tasks share one network namespace, so the app must not use them.
 */
export const RESERVED_TASK_PORTS: Readonly<Record<number, string>> = {
  2020: 'the log router monitoring port',
  9880: 'the anomaly sidecar intake port',
  24224: 'the log router forward port',
};

/** Container health check, also used for the ALB target group of web services. */
export interface HealthCheckProps {
  /** HTTP path that answers 200 when the service is ready. @default '/healthz' */
  readonly path?: string;
  /** @default 10 */
  readonly intervalSeconds?: number;
  /** @default 5 */
  readonly timeoutSeconds?: number;
  /** Consecutive successes before a task takes traffic. @default 2 (fast start) */
  readonly healthyThreshold?: number;
  /** Consecutive failures before a task is replaced. @default 3 */
  readonly unhealthyThreshold?: number;
  /** Grace period after start during which failures do not count. @default 15 */
  readonly startPeriodSeconds?: number;
}

/** Task-count autoscaling on CPU. */
export interface ScalingProps {
  /** Fewest tasks; two spread over AZs keep the service up when an AZ fails. @default 2 */
  readonly min?: number;
  /** Most tasks. @default - the larger of 6 and `min` */
  readonly max?: number;
  /** Average service CPU the scaling policy tracks. @default 60 */
  readonly targetCpuPercent?: number;
  /** @default 120 */
  readonly scaleInCooldownSeconds?: number;
  /** @default 60 */
  readonly scaleOutCooldownSeconds?: number;
}

/** Log anomaly scoring of the service's tasks. */
export interface AnomalyProps {
  /** Run the anomaly sidecar and route logs to it. @default true */
  readonly enabled?: boolean;
  /** Score at or above which a line counts as anomalous. @default - the model's calibrated threshold */
  readonly threshold?: number;
  /** CPU units reserved for the sidecar (1024 = one vCPU). @default 64 */
  readonly sidecarCpuUnits?: number;
  /**
   * Memory reservation (soft) of the sidecar; its hard limit is twice this, at least 192 MiB. The
   * sidecar stays under 96 MiB at 50k lines/s (services/anomaly-sidecar/README.md). @default 128
   */
  readonly sidecarMemoryMiB?: number;
}

/** What a service may read of the platform itself, beyond its own task. Least privilege: nothing by default. */
export interface PlatformAccessProps {
  /**
   * Read the anomaly metrics and the anomaly log group (for an operations console). The service gets
   * the names it needs in its environment (`ANOMALY_SOURCE`, `ANOMALY_LOG_GROUP`, `SERVICES`) and the
   * read permissions on exactly those resources.
   * @default false
   */
  readonly readAnomalies?: boolean;
  /**
   * Invoke the platform's model endpoint (for example a prediction playground). The service gets
   * `MODEL_ENDPOINT_NAME` and `sagemaker:InvokeEndpoint` on exactly that endpoint.
   * @default false
   */
  readonly invokeModel?: boolean;
}

export interface ServiceProps {
  /** The image to run. */
  readonly image: Image;
  /** The port the app listens on. */
  readonly port: number;
  /** CPU units of the app container (1024 = one vCPU). @default 256 */
  readonly cpuUnits?: number;
  /** Memory hard limit of the app container. @default 512 */
  readonly memoryMiB?: number;
  /** @default - `/healthz`, 10 s interval, 5 s timeout, 2 healthy, 3 unhealthy, 15 s start period */
  readonly healthCheck?: HealthCheckProps;
  /** @default - 2 to 6 tasks tracking 60 % CPU */
  readonly scaling?: ScalingProps;
  /** Time the app has to exit after SIGTERM before SIGKILL. @default 30 */
  readonly stopTimeoutSeconds?: number;
  /** Plain, non-secret configuration. Values that look like secrets are refused; use `secrets`. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secrets injected by ECS at start, as references. @default {} */
  readonly secrets?: Readonly<Record<string, Secret>>;
  /** Services this one calls; each admits this one (and only its callers) through its security group. @default [] */
  readonly talksTo?: readonly InternalService[];
  /** @default - enabled, with the model's threshold */
  readonly anomaly?: AnomalyProps;
  /** @default - no access to platform data */
  readonly platformAccess?: PlatformAccessProps;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_LIKE_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY|CREDENTIAL)/i;

/** What every service shares; declare a {@link WebService} or an {@link InternalService}. */
export abstract class Service extends Construct {
  abstract readonly kind: 'web' | 'internal';
  readonly name: string;
  readonly image: ImageSpec;
  readonly port: number;
  readonly cpuUnits: number;
  readonly memoryMiB: number;
  readonly healthCheck: Required<HealthCheckProps>;
  readonly scaling: {
    readonly minTasks: number;
    readonly maxTasks: number;
    readonly targetCpuPercent: number;
    readonly scaleInCooldownSeconds: number;
    readonly scaleOutCooldownSeconds: number;
  };
  readonly stopTimeoutSeconds: number;
  readonly anomaly: {
    readonly enabled: boolean;
    readonly threshold: number | null;
    readonly sidecar: { readonly cpuUnits: number; readonly memoryMiB: number };
  };
  readonly platformAccess: { readonly readAnomalies: boolean; readonly invokeModel: boolean };
  private readonly env: Record<string, string>;
  private readonly secretRefs: Record<string, SecretSpec>;
  private readonly callees: InternalService[];

  protected constructor(scope: Platform, id: string, props: ServiceProps) {
    super(scope, freeId(scope, id, DISTINCT_ID_FIX));
    const check = new Check(this.node.path);
    this.name = check.pattern(
      'id',
      id,
      /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
      'must be 2-32 lowercase letters, digits or hyphens, starting with a letter',
      "rename the service, e.g. 'backend'",
    );
    this.image = props.image.spec;
    this.port = check.integer('port', props.port, 1024, 65535);
    const reserved = RESERVED_TASK_PORTS[this.port];
    if (reserved) {
      check.fail('port', this.port, `is ${reserved}`, 'choose another port, e.g. 8080');
    }
    this.cpuUnits = check.integer('cpuUnits', props.cpuUnits ?? 256, 128, 10240);
    this.memoryMiB = check.integer('memoryMiB', props.memoryMiB ?? 512, 128, 30720, 'MiB');

    const hc = props.healthCheck ?? {};
    const path = check.pattern(
      'healthCheck.path',
      hc.path ?? '/healthz',
      /^\/[\x21-\x7e]*$/,
      "must start with '/' and hold no spaces",
      "use a path such as '/healthz'",
    );
    const intervalSeconds = check.integer('healthCheck.intervalSeconds', hc.intervalSeconds ?? 10, 5, 300);
    const timeoutSeconds = check.integer('healthCheck.timeoutSeconds', hc.timeoutSeconds ?? 5, 2, 120);
    check.lessThan(
      'healthCheck.timeoutSeconds',
      timeoutSeconds,
      'healthCheck.intervalSeconds',
      intervalSeconds,
    );
    this.healthCheck = {
      path,
      intervalSeconds,
      timeoutSeconds,
      healthyThreshold: check.integer('healthCheck.healthyThreshold', hc.healthyThreshold ?? 2, 2, 10),
      unhealthyThreshold: check.integer('healthCheck.unhealthyThreshold', hc.unhealthyThreshold ?? 3, 2, 10),
      startPeriodSeconds: check.integer(
        'healthCheck.startPeriodSeconds',
        hc.startPeriodSeconds ?? 15,
        0,
        300,
      ),
    };

    const minTasks = check.integer('scaling.min', props.scaling?.min ?? 2, 1, 1000);
    const maxTasks = check.integer('scaling.max', props.scaling?.max ?? Math.max(6, minTasks), 1, 1000);
    check.atLeast('scaling.max', maxTasks, 'scaling.min', minTasks);
    this.scaling = {
      minTasks,
      maxTasks,
      targetCpuPercent: check.integer(
        'scaling.targetCpuPercent',
        props.scaling?.targetCpuPercent ?? 60,
        10,
        90,
      ),
      scaleInCooldownSeconds: check.integer(
        'scaling.scaleInCooldownSeconds',
        props.scaling?.scaleInCooldownSeconds ?? 120,
        0,
        3600,
      ),
      scaleOutCooldownSeconds: check.integer(
        'scaling.scaleOutCooldownSeconds',
        props.scaling?.scaleOutCooldownSeconds ?? 60,
        0,
        3600,
      ),
    };
    this.stopTimeoutSeconds = check.integer('stopTimeoutSeconds', props.stopTimeoutSeconds ?? 30, 2, 120);

    this.env = {};
    for (const [key, value] of Object.entries(props.environment ?? {})) {
      check.pattern(
        `environment.${key}`,
        key,
        ENV_NAME,
        'is not a valid variable name',
        'use letters, digits and underscores, not starting with a digit',
      );
      if (SECRET_LIKE_NAME.test(key)) {
        check.fail(
          `environment.${key}`,
          '(value hidden)',
          'looks like a secret; environment values are stored in plain text in the task definition',
          `move it to secrets: { ${key}: Secret.fromSecretsManager('…') }`,
        );
      }
      this.env[key] = value;
    }
    this.secretRefs = {};
    for (const [key, secret] of Object.entries(props.secrets ?? {})) {
      check.pattern(
        `secrets.${key}`,
        key,
        ENV_NAME,
        'is not a valid variable name',
        'use letters, digits and underscores, not starting with a digit',
      );
      if (key in this.env) {
        check.fail(
          `secrets.${key}`,
          key,
          'is also set in environment',
          'declare it in one of environment or secrets',
        );
      }
      this.secretRefs[key] = secret.spec;
    }

    this.callees = [...(props.talksTo ?? [])];
    for (const [i, callee] of this.callees.entries()) {
      if (!(callee instanceof InternalService)) {
        check.fail(
          `talksTo[${i}]`,
          (callee as Construct).node?.path,
          'is not an InternalService',
          'only internal services can be called; web services are reached through the ALB',
        );
      }
      if ((callee as Construct) === this)
        check.fail(`talksTo[${i}]`, callee.name, 'is the service itself', 'remove it from talksTo');
      if (Platform.of(callee) !== Platform.of(this)) {
        check.fail(
          `talksTo[${i}]`,
          callee.node.path,
          'belongs to another platform',
          'declare both services in the same Platform',
        );
      }
    }

    this.platformAccess = {
      readAnomalies: props.platformAccess?.readAnomalies ?? false,
      invokeModel: props.platformAccess?.invokeModel ?? false,
    };

    const anomaly = props.anomaly ?? {};
    const threshold = anomaly.threshold ?? null;
    if (threshold !== null) check.number('anomaly.threshold', threshold, 0, 1);
    this.anomaly = {
      enabled: anomaly.enabled ?? true,
      threshold,
      sidecar: {
        cpuUnits: check.integer('anomaly.sidecarCpuUnits', anomaly.sidecarCpuUnits ?? 64, 16, 1024),
        memoryMiB: check.integer(
          'anomaly.sidecarMemoryMiB',
          anomaly.sidecarMemoryMiB ?? 128,
          64,
          2048,
          'MiB',
        ),
      },
    };
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

/** Props of a {@link WebService}. */
export interface WebServiceProps extends ServiceProps {
  /**
   * ALB path patterns routed to this service. One web service may take the default (`/*`); the others
   * need their own patterns, matched first in declaration order.
   * @default ['/*']
   */
  readonly paths?: readonly string[];
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

  constructor(scope: Platform, id: string, props: WebServiceProps) {
    super(scope, id, props);
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
    super(scope, id, props);
  }
}

export { DeclarationError };
