import { MAX_BUDGET, thresholdForBudget } from '../../contracts/alert-budget.ts';
import type { Check } from './checks.ts';
import type {
  ApprovalSpec,
  DeploymentSpec,
  DeploymentStrategySpec,
  JudgementOptions,
  RollbackAlarm,
  RollbackAlarmSpec,
} from './deployment.ts';
import type { AnomalyProps, HealthCheckProps, PlatformAccessProps, ScalingProps } from './service-props.ts';
import type { ImageSpec, SecretSpec } from './values.ts';

/**
 * The checks of a service's props, one function per prop group: each applies the documented defaults
 * once and throws a DeclarationError naming the prop, the value and the fix.
 */

/**
 * Ports every task reserves for itself: the anomaly sidecar's intake and the FireLens router's
 * forward and monitoring ports. awsvpc tasks share one network namespace, so the app must not use them.
 */
export const RESERVED_TASK_PORTS: Readonly<Record<number, string>> = {
  2020: 'the log router monitoring port',
  9880: 'the anomaly sidecar intake port',
  24224: 'the log router forward port',
};

/**
 * Names a service may not take: the platform's own images are pushed to the registry under these
 * names, and a service's Dockerfile image under the service's name, so one would replace the other.
 */
export const RESERVED_SERVICE_NAMES: Readonly<Record<string, string>> = {
  sidecar: "the anomaly sidecar's image",
  'log-router': "the log router's image",
  model: "the model endpoint's image",
};

export function checkServiceName(check: Check, id: string): string {
  const name = check.pattern(
    'id',
    id,
    /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
    'must be 2-32 lowercase letters, digits or hyphens, starting with a letter',
    "rename the service, e.g. 'backend'",
  );
  const reserved = RESERVED_SERVICE_NAMES[name];
  if (reserved)
    check.fail('id', name, `is the registry name of ${reserved}`, "rename the service, e.g. 'web'");
  return name;
}

export interface ResolvedScaling {
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly targetCpuPercent: number;
  readonly scaleInCooldownSeconds: number;
  readonly scaleOutCooldownSeconds: number;
}

export interface ResolvedAnomaly {
  readonly enabled: boolean;
  /** The declared alert budget; null: the model endpoint's (resolved when the app synthesises). */
  readonly budget: number | null;
  readonly threshold: number | null;
  readonly sidecar: { readonly cpuUnits: number; readonly memoryMiB: number };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_LIKE_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY|CREDENTIAL)/i;

export function checkPort(check: Check, port: number): number {
  const checked = check.integer('port', port, 1024, 65535);
  const reserved = RESERVED_TASK_PORTS[checked];
  if (reserved) check.fail('port', checked, `is ${reserved}`, 'choose another port, e.g. 8080');
  return checked;
}

/** A health check's interval and timeout (the timeout below the interval), for services and workers. */
export function checkProbeTiming(
  check: Check,
  health: { readonly intervalSeconds?: number; readonly timeoutSeconds?: number },
  defaultIntervalSeconds: number,
): { intervalSeconds: number; timeoutSeconds: number } {
  const intervalSeconds = check.integer(
    'healthCheck.intervalSeconds',
    health.intervalSeconds ?? defaultIntervalSeconds,
    5,
    300,
  );
  const timeoutSeconds = check.integer('healthCheck.timeoutSeconds', health.timeoutSeconds ?? 5, 2, 120);
  check.lessThan(
    'healthCheck.timeoutSeconds',
    timeoutSeconds,
    'healthCheck.intervalSeconds',
    intervalSeconds,
  );
  return { intervalSeconds, timeoutSeconds };
}

export function checkHealthCheck(check: Check, hc: HealthCheckProps = {}): Required<HealthCheckProps> {
  const path = check.pattern(
    'healthCheck.path',
    hc.path ?? '/healthz',
    /^\/[\x21-\x7e]*$/,
    "must start with '/' and hold no spaces",
    "use a path such as '/healthz'",
  );
  const { intervalSeconds, timeoutSeconds } = checkProbeTiming(check, hc, 10);
  return {
    path,
    intervalSeconds,
    timeoutSeconds,
    healthyThreshold: check.integer('healthCheck.healthyThreshold', hc.healthyThreshold ?? 2, 2, 10),
    unhealthyThreshold: check.integer('healthCheck.unhealthyThreshold', hc.unhealthyThreshold ?? 3, 2, 10),
    startPeriodSeconds: check.integer('healthCheck.startPeriodSeconds', hc.startPeriodSeconds ?? 15, 0, 300),
  };
}

export function checkScaling(check: Check, scaling: ScalingProps = {}): ResolvedScaling {
  const minTasks = check.integer('scaling.min', scaling.min ?? 2, 1, 1000);
  const maxTasks = check.integer('scaling.max', scaling.max ?? Math.max(6, minTasks), 1, 1000);
  check.atLeast('scaling.max', maxTasks, 'scaling.min', minTasks);
  return {
    minTasks,
    maxTasks,
    targetCpuPercent: check.integer('scaling.targetCpuPercent', scaling.targetCpuPercent ?? 60, 10, 90),
    scaleInCooldownSeconds: check.integer(
      'scaling.scaleInCooldownSeconds',
      scaling.scaleInCooldownSeconds ?? 120,
      0,
      3600,
    ),
    scaleOutCooldownSeconds: check.integer(
      'scaling.scaleOutCooldownSeconds',
      scaling.scaleOutCooldownSeconds ?? 60,
      0,
      3600,
    ),
  };
}

/** Plain variables: valid names, none that looks like a secret (those belong in `secrets`). */
export function checkEnvironment(
  check: Check,
  environment: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) {
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
    env[key] = value;
  }
  return env;
}

/** Secret references: valid names, none also set as a plain variable. */
export function checkSecrets(
  check: Check,
  secrets: Readonly<Record<string, { readonly spec: SecretSpec }>> = {},
  environment: Readonly<Record<string, string>>,
): Record<string, SecretSpec> {
  const refs: Record<string, SecretSpec> = {};
  for (const [key, secret] of Object.entries(secrets)) {
    check.pattern(
      `secrets.${key}`,
      key,
      ENV_NAME,
      'is not a valid variable name',
      'use letters, digits and underscores, not starting with a digit',
    );
    if (key in environment) {
      check.fail(
        `secrets.${key}`,
        key,
        'is also set in environment',
        'declare it in one of environment or secrets',
      );
    }
    refs[key] = secret.spec;
  }
  return refs;
}

export function checkRollbackOn(check: Check, alarms: readonly RollbackAlarm[]): RollbackAlarmSpec[] {
  return alarms.map((alarm, i) => {
    if (alarm.spec.kind !== 'unhealthy-targets') {
      check.number(`rollbackOn[${i}].percent`, alarm.spec.percent, 0.1, 100);
    }
    return { ...alarm.spec };
  });
}

export function checkPlatformAccess(access: PlatformAccessProps = {}): Required<PlatformAccessProps> {
  return { readAnomalies: access.readAnomalies ?? false, invokeModel: access.invokeModel ?? false };
}

export function checkAnomaly(check: Check, anomaly: AnomalyProps = {}): ResolvedAnomaly {
  const threshold = anomaly.threshold ?? null;
  if (threshold !== null) check.number('anomaly.threshold', threshold, 0, 1);
  const budget = anomaly.budget === undefined ? null : checkBudget(check, 'anomaly.budget', anomaly.budget);
  if (threshold !== null && budget !== null) {
    check.fail(
      'anomaly.threshold',
      threshold,
      `would override anomaly.budget (${budget}); declare one`,
      `remove anomaly.threshold (the budget ${budget} is the score ${thresholdForBudget(budget)}) or anomaly.budget`,
    );
  }
  return {
    enabled: anomaly.enabled ?? true,
    budget,
    threshold,
    sidecar: {
      cpuUnits: check.integer('anomaly.sidecarCpuUnits', anomaly.sidecarCpuUnits ?? 64, 16, 1024),
      memoryMiB: check.integer('anomaly.sidecarMemoryMiB', anomaly.sidecarMemoryMiB ?? 128, 64, 2048, 'MiB'),
    },
  };
}

/**
 * Checks a strategy against ECS's bounds (canary 0.1–100 %, linear steps 3–100 %, bakes 0–1440 min) and its
 * judgement; applies the judgement's defaults.
 */
export function checkDeployment(
  check: Check,
  deployment: { readonly spec: DeploymentStrategySpec; readonly judgement: JudgementOptions },
  kind: 'web' | 'internal',
  healthPath: string,
): DeploymentSpec {
  const strategy = checkStrategy(check, deployment.spec, kind);
  const judgement = deployment.judgement;
  const probes =
    judgement.probes ?? (kind === 'web' && healthPath !== '/' ? [healthPath, '/'] : [healthPath]);
  checkProbes(check, probes);
  const onScorerOutage = judgement.onScorerOutage ?? 'judge-on-errors';
  if (onScorerOutage !== 'roll-back' && onScorerOutage !== 'judge-on-errors') {
    check.fail(
      'deployment.onScorerOutage',
      onScorerOutage,
      "must be 'roll-back' or 'judge-on-errors'",
      "use 'judge-on-errors' (the default: the error rates decide alone) or 'roll-back'",
    );
  }
  return { ...strategy, probes: [...probes], onScorerOutage };
}

/** Probes: enough paths to judge an idle release, few enough to stay a probe, each a GET path. */
const MAX_PROBES = 10;
const PROBE_PATH = /^\/[^\s*]{0,200}$/;

function checkProbes(check: Check, probes: readonly string[]): void {
  if (probes.length === 0) {
    check.fail(
      'deployment.probes',
      probes,
      'must list at least one path: an idle release is judged on its probes',
      'omit probes for the default (the health check path, and / for web services), or list GET paths such as /healthz',
    );
  }
  if (probes.length > MAX_PROBES) {
    check.fail(
      'deployment.probes',
      probes.length,
      `must list at most ${MAX_PROBES} paths`,
      'probe the routes that matter most',
    );
  }
  for (const [i, probe] of probes.entries()) {
    if (typeof probe !== 'string' || !PROBE_PATH.test(probe)) {
      check.fail(
        `deployment.probes[${i}]`,
        probe,
        "must be a path: '/' then up to 200 characters, no spaces or '*'",
        `write it as a GET path such as /${String(probe).replace(/^\/+/, '').replace(/[\s*]/g, '') || 'healthz'}`,
      );
    }
    if (probes.indexOf(probe) !== i) {
      check.fail(`deployment.probes[${i}]`, probe, 'is listed twice', 'list each path once');
    }
  }
}

function checkStrategy(
  check: Check,
  deployment: DeploymentStrategySpec,
  kind: 'web' | 'internal',
): DeploymentStrategySpec {
  if (deployment.strategy === 'rolling') return { ...deployment };
  if (kind === 'internal') {
    check.fail(
      'deployment',
      deployment.strategy,
      `a ${deployment.strategy} deployment shifts traffic at the load balancer, and an internal service has none`,
      'use Deployment.rolling() (the default) for internal services, or declare the service as a WebService',
    );
  }
  const tenths = (prop: string, value: number, min: number) => {
    check.number(prop, value, min, 100);
    if (Math.abs(value * 10 - Math.round(value * 10)) > 1e-9) {
      check.fail(prop, value, 'must be a multiple of 0.1 (ECS)', `round ${prop} to one decimal place`);
    }
  };
  if (deployment.strategy === 'canary') {
    tenths('deployment.percent', deployment.percent, 0.1);
    check.integer('deployment.bakeMinutes', deployment.bakeMinutes, 0, 1440, 'minutes');
  } else if (deployment.strategy === 'linear') {
    tenths('deployment.stepPercent', deployment.stepPercent, 3);
    check.integer('deployment.stepMinutes', deployment.stepMinutes, 0, 1440, 'minutes');
  } else {
    check.integer('deployment.bakeMinutes', deployment.bakeMinutes, 0, 1440, 'minutes');
  }
  return { ...deployment };
}

/** The smallest alert budget a declaration may ask for: one false alarm in a million lines. */
export const MIN_DECLARED_BUDGET = 0.000001;

/** An alert budget within (0, 0.05] (`contracts/alert-budget.ts`). */
export function checkBudget(check: Check, prop: string, budget: number): number {
  return check.number(prop, budget, MIN_DECLARED_BUDGET, MAX_BUDGET);
}

/** Entries the local runtime starts itself (node with tsx): TypeScript and JavaScript. */
const DIRECT_ENTRY = /\.(?:ts|mts|tsx|js|mjs)$/;

/**
 * A service's local run: a declared command, or an image entry the runtime can start directly. An
 * entry in another language with no command is refused: nothing here could start it.
 */
export function checkLocalRun(
  check: Check,
  image: ImageSpec,
  local: { readonly command: readonly string[] } | undefined,
): { readonly command: readonly string[] } | null {
  if (local !== undefined) {
    if (local.command.length === 0 || local.command.some((part) => part.length === 0)) {
      check.fail(
        'local.command',
        local.command,
        'must name a program and its arguments, none empty',
        "give e.g. ['python3', 'app.py']",
      );
    }
    return { command: [...local.command] };
  }
  if (image.kind === 'dockerfile' && image.entry !== null && !DIRECT_ENTRY.test(image.entry)) {
    check.fail(
      'image.entry',
      image.entry,
      'is not a TypeScript or JavaScript file, the only entries the local runtime starts itself',
      `declare local: { command: [...] } (e.g. ['python3', '${image.entry}']), or leave entry out to run the Dockerfile's CMD`,
    );
  }
  return null;
}

/**
 * What the declaration says of how its image runs (command, entrypoint, user, fixed port, writable
 * paths): each well-formed, never root, and a fixed port the service's own.
 */
export function checkImageRun(check: Check, image: ImageSpec, servicePort: number | null): void {
  const run = image.run;
  if (!run) return;
  for (const [prop, parts] of [
    ['command', run.command],
    ['entrypoint', run.entrypoint],
  ] as const) {
    if (parts !== null && (parts.length === 0 || parts.some((part) => part.length === 0))) {
      check.fail(
        `image ${prop}`,
        parts,
        'must name a program or its arguments, none empty',
        "give e.g. ['serve', '--port', '8080'], or leave it out to run the image's own",
      );
    }
  }
  if (run.user !== null && /^(root|0)(:.*)?$/.test(run.user)) {
    check.fail(
      'image user',
      run.user,
      'is root, which the platform never runs',
      "give a non-root uid[:gid] or user name, e.g. '1000:1000'",
    );
  }
  for (const [i, path] of run.writablePaths.entries()) {
    if (!path.startsWith('/') || path.replace(/\/+$/, '') === '') {
      check.fail(
        `image writablePaths[${i}]`,
        path,
        "must be an absolute path other than '/'",
        "give e.g. '/tmp'; the root filesystem stays read-only",
      );
    }
  }
  if (run.port !== null && servicePort !== null && run.port !== servicePort) {
    check.fail(
      'image port',
      run.port,
      `is the port the image listens on, but the service's port is ${servicePort}`,
      `set the service's port to ${run.port} (or drop the image's port if it reads PORT)`,
    );
  }
}

/** A manual approval pauses at a traffic-shift stage, so it needs a strategy that has one (ECS: 1–20160 minutes). */
export function checkApproval(
  check: Check,
  approval: ApprovalSpec,
  deployment: DeploymentStrategySpec,
): ApprovalSpec {
  if (deployment.strategy === 'rolling') {
    check.fail(
      'approval',
      approval.stage,
      'pauses at a traffic-shift stage, and a rolling deployment shifts no traffic',
      'declare deployment: Deployment.canary(), .linear() or .blueGreen() on a WebService, or remove approval',
    );
  }
  check.integer('approval.timeoutMinutes', approval.timeoutMinutes, 1, 20160, 'minutes');
  return { ...approval };
}
