import { Check, DISTINCT_ID_FIX, freeId } from './checks.ts';
import { RollbackAlarm, type RollbackAlarmSpec } from './deployment.ts';
import { checkWorkloadEnvironments, type WorkerEnvironmentProps } from './environments.ts';
import type { Platform } from './platform.ts';
import { type TaskProps, Workload } from './service.ts';
import {
  checkAnomaly,
  checkImageRun,
  checkProbeTiming,
  checkRollbackOn,
  checkScaling,
  checkServiceName,
  type ResolvedAnomaly,
  type ResolvedScaling,
} from './service-checks.ts';
import type { ScalingProps } from './service-props.ts';
import type { Image, ImageSpec } from './values.ts';

/** How a worker's health is known: a command in its container, or the process staying up. */
export interface WorkerHealthCheckProps {
  /**
   * A command run in the container, exec form (`['test', '-f', '/tmp/alive']`); exit 0 is healthy.
   * ECS runs it as `CMD`, the local runtime runs it beside the process.
   * @default - none: the worker is healthy while its process runs (ECS replaces a task whose essential container exits)
   */
  readonly command?: readonly string[];
  /** @default 30 */
  readonly intervalSeconds?: number;
  /** @default 5 */
  readonly timeoutSeconds?: number;
  /** Consecutive failures before the task is replaced. @default 3 */
  readonly retries?: number;
  /** Grace period after start during which failures do not count. @default 15 */
  readonly startPeriodSeconds?: number;
}

/** Props of a {@link WorkerService}. */
export interface WorkerServiceProps extends TaskProps {
  /** The image to run. */
  readonly image: Image;
  /** @default - healthy while the process runs */
  readonly healthCheck?: WorkerHealthCheckProps;
  /** @default - 2 to 6 tasks tracking 60 % CPU */
  readonly scaling?: ScalingProps;
  /** Time the worker has to finish its current item after SIGTERM before SIGKILL. @default 30 */
  readonly stopTimeoutSeconds?: number;
  /**
   * Alarms that roll a rolling deployment back while it runs. A worker answers no requests, so only the
   * new revision's anomaly rate can be watched.
   * @default - the new revision's anomaly rate ≥ 5 %
   */
  readonly rollbackOn?: readonly RollbackAlarm[];
  /**
   * What differs in each of the platform's environments: only its scaling (merged over `scaling`).
   * @default - every environment runs the worker as declared here
   */
  readonly environments?: Readonly<Record<string, WorkerEnvironmentProps>>;
}

/** Props that belong to services taking connections; refused on a worker, each with its reason. */
const CONNECTION_PROPS: Readonly<Record<string, { rule: string; fix: string }>> = {
  port: {
    rule: 'must not be set: a worker takes no connections, so it listens on no port',
    fix: 'remove port, or declare an InternalService (called by its callers) or a WebService (behind the ALB)',
  },
  paths: {
    rule: 'must not be set: a worker has no load balancer to route paths from',
    fix: 'remove paths, or declare a WebService to be routed from the ALB',
  },
  public: {
    rule: 'must not be set: a worker has no load balancer to be reached through',
    fix: 'remove public, or declare a WebService to be reached through the ALB',
  },
  deployment: {
    rule: 'must not be set: a worker is always deployed rolling (traffic-shifting strategies need a load balancer)',
    fix: 'remove deployment; the worker rolls, and its anomaly-rate alarm rolls it back',
  },
  platformAccess: {
    rule: 'is not available to workers',
    fix: 'remove platformAccess; give platform access to an InternalService the worker talksTo',
  },
};

/**
 * A long-running process that takes no connections: no port, no load balancer, reachable from nothing.
 * It scales on CPU, its logs are routed and scored like a service's, it may call internal services
 * (`talksTo`), and it is deployed rolling, rolled back on the new revision's anomaly rate.
 *
 * @example
 * new WorkerService(platform, 'mailer', {
 *   image: Image.fromDockerfile('mailer/Dockerfile', { entry: 'mailer/main.ts' }),
 *   talksTo: [orders],
 *   healthCheck: { command: ['test', '-f', '/tmp/alive'] },
 * });
 */
export class WorkerService extends Workload {
  readonly kind = 'worker' as const;
  readonly name: string;
  readonly image: ImageSpec;
  readonly cpuUnits: number;
  readonly memoryMiB: number;
  readonly healthCheck: {
    readonly command: readonly string[] | null;
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly retries: number;
    readonly startPeriodSeconds: number;
  };
  readonly scaling: ResolvedScaling;
  readonly stopTimeoutSeconds: number;
  readonly anomaly: ResolvedAnomaly;
  readonly rollbackOn: readonly AnomalyRateAlarmSpec[];
  private readonly perEnvironment = new Map<string, ResolvedScaling>();

  constructor(scope: Platform, id: string, props: WorkerServiceProps) {
    super(scope, freeId(scope, id, DISTINCT_ID_FIX));
    const check = new Check(this.node.path);
    this.name = checkServiceName(check, id);
    // A JavaScript declaration (or a spread of a service's props) can carry what the type leaves out.
    const given = props as unknown as Record<string, unknown>;
    for (const [prop, refusal] of Object.entries(CONNECTION_PROPS)) {
      if (given[prop] !== undefined) check.fail(prop, given[prop], refusal.rule, refusal.fix);
    }
    const healthPath = (props.healthCheck as { path?: unknown } | undefined)?.path;
    if (healthPath !== undefined) {
      check.fail(
        'healthCheck.path',
        healthPath,
        'must not be set: a worker answers no HTTP requests',
        'declare healthCheck.command (exit 0 is healthy), or omit it: the worker is healthy while its process runs',
      );
    }
    this.image = props.image.spec;
    checkImageRun(check, this.image, null);
    this.cpuUnits = check.integer('cpuUnits', props.cpuUnits ?? 256, 128, 10240);
    this.memoryMiB = check.integer('memoryMiB', props.memoryMiB ?? 512, 128, 30720, 'MiB');
    this.healthCheck = checkWorkerHealth(check, props.healthCheck);
    this.scaling = checkScaling(check, props.scaling);
    this.stopTimeoutSeconds = check.integer('stopTimeoutSeconds', props.stopTimeoutSeconds ?? 30, 2, 120);
    this.declareCalls(check, props);
    this.rollbackOn = checkWorkerRollbackOn(check, props.rollbackOn ?? [RollbackAlarm.anomalyRate()]);
    this.anomaly = checkAnomaly(check, props.anomaly);
    const overrides = checkWorkloadEnvironments(
      check,
      props.environments,
      scope.environments,
      scope.node.id,
      ['scaling'],
      'worker',
    );
    for (const [name, override] of overrides) {
      const within = check.within(`environments.${name}.`);
      this.perEnvironment.set(name, checkScaling(within, { ...props.scaling, ...override.scaling }));
    }
  }

  /** Its scaling in `environment` (null: as declared, shared). */
  scalingIn(environment: string | null): ResolvedScaling {
    return (environment !== null && this.perEnvironment.get(environment)) || this.scaling;
  }
}

/** ECS's bounds of a container health check (interval 5–300 s, timeout 2–120 s, retries 1–10, start 0–300 s). */
function checkWorkerHealth(check: Check, health: WorkerHealthCheckProps = {}): WorkerService['healthCheck'] {
  const command = health.command === undefined ? null : [...health.command];
  if (
    command !== null &&
    (command.length === 0 || command.some((part) => typeof part !== 'string' || !part))
  ) {
    check.fail(
      'healthCheck.command',
      command,
      'must hold a program and its arguments, none empty',
      "write it in exec form, e.g. ['test', '-f', '/tmp/alive']",
    );
  }
  const { intervalSeconds, timeoutSeconds } = checkProbeTiming(check, health, 30);
  return {
    command,
    intervalSeconds,
    timeoutSeconds,
    retries: check.integer('healthCheck.retries', health.retries ?? 3, 1, 10),
    startPeriodSeconds: check.integer(
      'healthCheck.startPeriodSeconds',
      health.startPeriodSeconds ?? 15,
      0,
      300,
    ),
  };
}

/** Only the anomaly rate: the other alarms watch answers at a load balancer a worker does not have. */
function checkWorkerRollbackOn(check: Check, alarms: readonly RollbackAlarm[]): AnomalyRateAlarmSpec[] {
  for (const [i, alarm] of alarms.entries()) {
    if (alarm.spec.kind !== 'anomaly-rate') {
      check.fail(
        `rollbackOn[${i}]`,
        alarm.spec.kind,
        'watches answers at a load balancer, and a worker answers no requests',
        'use RollbackAlarm.anomalyRate() (the default)',
      );
    }
  }
  return checkRollbackOn(check, alarms).filter((a): a is AnomalyRateAlarmSpec => a.kind === 'anomaly-rate');
}

/** The one rollback alarm a worker can have. */
type AnomalyRateAlarmSpec = Extract<RollbackAlarmSpec, { kind: 'anomaly-rate' }>;
