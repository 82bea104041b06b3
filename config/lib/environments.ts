import type { Check } from './checks.ts';
import type { Deployment } from './deployment.ts';
import type { EnvironmentProps } from './platform-props.ts';
import type { ScalingProps } from './service-props.ts';

export type { EnvironmentProps };

/**
 * Environments: one declaration deployed several times (staging, production), each copy differing from
 * the others only in what an environment may override. Everything else is the declaration's, shared,
 * so what staging proved is what production runs.
 */

/** What a service overrides in one environment. */
export interface ServiceEnvironmentProps {
  /** Merged over the service's own `scaling`. */
  readonly scaling?: ScalingProps;
  /** Replaces the service's `deployment` (e.g. a canary in production, rolling in staging). */
  readonly deployment?: Deployment;
}

/** What a worker overrides in one environment (it always rolls, so only its scaling). */
export interface WorkerEnvironmentProps {
  /** Merged over the worker's own `scaling`. */
  readonly scaling?: ScalingProps;
}

/** A declared environment, in promotion order. */
export interface DeclaredEnvironment {
  readonly name: string;
  readonly protected: boolean;
}

/** The environment `start` runs: the shared declaration, no override; no declared environment may take its name. */
export const LOCAL_ENVIRONMENT = 'local';

/**
 * The longest a platform's name may be, and so the longest `<platform>-<environment>` may be: the names
 * made from it keep within AWS's limits (the sign-in domain prefix `<name>-console-<account>` ≤ 63).
 */
export const PLATFORM_NAME_MAX = 32;

/** 2–16 characters: it becomes part of every physical name (`<platform>-<environment>`). */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,14}[a-z0-9]$/;

const PLATFORM_RULE =
  'is not overridable: environments differ only in capacity, scaling, domain (edge.domainName, edge.certificateArn), alarm subscribers (observability.alarmEmail), deployment strategy and protected';

/** The platform props an environment may set, and for grouped props which of their fields. */
const PLATFORM_OVERRIDABLE: Readonly<Record<string, readonly string[] | 'any'>> = {
  protected: 'any',
  capacity: 'any',
  edge: ['domainName', 'certificateArn'],
  observability: ['alarmEmail'],
};

/**
 * Checks the platform's environments (names, only overridable props) and returns them in promotion
 * order, the order they are declared in.
 */
export function checkEnvironments(
  check: Check,
  platformId: string,
  environments: Readonly<Record<string, EnvironmentProps>> | undefined,
): DeclaredEnvironment[] {
  const declared: DeclaredEnvironment[] = [];
  for (const [name, props] of Object.entries(environments ?? {})) {
    const at = `environments.${name}`;
    if (name === LOCAL_ENVIRONMENT) {
      check.fail(
        at,
        props,
        'is reserved: start runs the shared declaration as the local environment',
        "rename it, e.g. 'dev' or 'staging'",
      );
    }
    check.pattern(
      at,
      name,
      ENVIRONMENT_NAME,
      'must be 2-16 lowercase letters, digits or hyphens, starting with a letter (it is part of every physical name)',
      "rename it, e.g. 'production'",
    );
    const physical = `${platformId}-${name}`;
    if (physical.length > PLATFORM_NAME_MAX) {
      check.fail(
        at,
        props,
        `makes the physical names '${physical}' (${physical.length} characters), more than the ${PLATFORM_NAME_MAX} of a platform's name`,
        "shorten the environment's name or the platform's id",
      );
    }
    for (const [prop, value] of Object.entries(props ?? {})) {
      if (value === undefined) continue;
      const allowed = PLATFORM_OVERRIDABLE[prop];
      if (allowed === undefined) refuse(check, name, prop, value, PLATFORM_RULE, 'the Platform');
      if (allowed === 'any') continue;
      for (const [field, fieldValue] of Object.entries(value as object)) {
        if (fieldValue !== undefined && !allowed!.includes(field)) {
          refuse(check, name, `${prop}.${field}`, fieldValue, PLATFORM_RULE, 'the Platform');
        }
      }
    }
    declared.push({ name, protected: props?.protected ?? false });
  }
  return declared;
}

/**
 * Checks a workload's per-environment overrides: each names a declared environment and sets only the
 * props `overridable` lists. Returns them by environment name.
 */
export function checkWorkloadEnvironments<P extends object>(
  check: Check,
  environments: Readonly<Record<string, P>> | undefined,
  declared: readonly DeclaredEnvironment[],
  platformName: string,
  overridable: readonly (keyof P & string)[],
  kind: 'service' | 'worker',
): Map<string, P> {
  const rule = `is not overridable: a ${kind} differs between environments only in ${overridable.join(' and ')}`;
  const overrides = new Map<string, P>();
  const names = declared.map((e) => e.name);
  for (const [name, props] of Object.entries(environments ?? {})) {
    if (!names.includes(name)) {
      check.fail(
        `environments.${name}`,
        props,
        'is not an environment of the platform',
        `${names.length > 0 ? `use one of ${names.join(', ')}, or ` : ''}declare ${name} in new Platform(app, '${platformName}', { environments })`,
      );
    }
    for (const [prop, value] of Object.entries(props ?? {})) {
      if (value !== undefined && !(overridable as readonly string[]).includes(prop)) {
        refuse(check, name, prop, value, rule, `the ${kind}`);
      }
    }
    overrides.set(name, props);
  }
  return overrides;
}

function refuse(
  check: Check,
  environment: string,
  prop: string,
  value: unknown,
  rule: string,
  owner: string,
): never {
  // A factory's value (Deployment.canary(…)) is shown as what it declares.
  const shown = value instanceof Object && 'spec' in value ? (value as { spec: unknown }).spec : value;
  return check.fail(
    `environments.${environment}.${prop}`,
    shown,
    rule,
    `declare ${prop} once on ${owner} (every environment shares it), or remove it from environments.${environment}`,
  );
}

/** The message of a chosen environment the declaration does not declare. */
export function undeclaredEnvironment(
  platformName: string,
  environment: string,
  declared: readonly DeclaredEnvironment[],
): { rule: string; fix: string } {
  const names = declared.map((e) => e.name);
  if (names.length === 0) {
    return {
      rule: 'is not declared',
      fix: `declare environments in new Platform(app, '${platformName}', { environments: { ${environment}: {} } }), or choose none`,
    };
  }
  return {
    rule: 'is not declared',
    fix: `choose one of ${names.join(', ')} (--env or PLATFORM_ENVIRONMENT), or declare it in new Platform(app, '${platformName}', { environments })`,
  };
}

/**
 * Refuses `environments` on a construct that is the same in every environment (a scheduled job, the
 * model endpoint): a JavaScript declaration has no type to stop it, and it would be dropped silently.
 */
export function refuseEnvironments(check: Check, props: object, what: string): void {
  const environments = (props as { environments?: unknown }).environments;
  if (environments === undefined) return;
  check.fail(
    'environments',
    environments,
    `is not overridable: ${what} runs the same in every environment`,
    "remove environments; what differs between environments is the platform's capacity and the services' scaling and deployment",
  );
}
