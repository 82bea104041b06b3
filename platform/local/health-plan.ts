import { type HealthWiring, WiringInvariantError } from '../wiring/index.ts';

/**
 * A process's health check as the supervisor runs it: the wiring's check (its probe and timing)
 * translated to loopback, or the Lambda host's own.
 */

/** How the supervisor knows a process is up. */
export type HealthPlan = HealthTiming &
  (
    | { readonly kind: 'http'; readonly url: string }
    /** A program run beside the process (ECS's `CMD` form; `CMD-SHELL` through `sh -c`); exit 0 passes. */
    | { readonly kind: 'command'; readonly file: string; readonly args: readonly string[] }
    /** Passes while the process runs and has stayed up {@link PROCESS_UP_MS} since it started. */
    | { readonly kind: 'process' }
  );

/**
 * How long a process without a health check must stay up to count as healthy: one that crashes at
 * start never does, as an ECS task whose essential container exits never reaches RUNNING for long.
 */
export const PROCESS_UP_MS = 1000;

/** The pace and thresholds of a health check. */
export interface HealthTiming {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly startPeriodMs: number;
}

/** A wired health check: an HTTP probe over loopback at `base`, the command beside the process, or its uptime. */
export function healthPlan(health: HealthWiring, base: string | undefined): HealthPlan {
  const probe = health.probe;
  const timing = healthTiming(health);
  switch (probe.kind) {
    case 'http':
      if (base === undefined)
        throw new WiringInvariantError(probe.path, 'an HTTP health check without a port');
      return { kind: 'http', url: `${base}${probe.path}`, ...timing };
    case 'command': {
      const [form, ...rest] = probe.command;
      // ECS's forms: CMD runs the program itself, CMD-SHELL hands one string to the shell.
      if (form === 'CMD-SHELL')
        return { kind: 'command', file: 'sh', args: ['-c', rest.join(' ')], ...timing };
      if (form !== 'CMD' || rest.length === 0)
        throw new WiringInvariantError(
          probe.command.join(' '),
          "a command health check is ECS's CMD or CMD-SHELL form",
        );
      return { kind: 'command', file: rest[0]!, args: rest.slice(1), ...timing };
    }
    case 'process':
      return { kind: 'process', ...timing };
  }
}

function healthTiming(health: HealthWiring): HealthTiming {
  return {
    intervalMs: health.intervalSeconds * 1000,
    timeoutMs: health.timeoutSeconds * 1000,
    healthyThreshold: health.healthyThreshold,
    unhealthyThreshold: health.retries,
    startPeriodMs: health.startPeriodSeconds * 1000,
  };
}

/** Health of the local Lambda host, which runs the function on AWS's behalf (no ECS task, not in the wiring). */
export function functionHostHealth(url: string): HealthPlan {
  return {
    kind: 'http',
    url: `${url}/ping`,
    intervalMs: 10_000,
    timeoutMs: 2000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    startPeriodMs: 15_000,
  };
}

/** A health check moved to another loopback port (a new revision's): only an HTTP probe names one. */
export function healthAtPort(health: HealthPlan, port: number): HealthPlan {
  if (health.kind !== 'http') return health;
  const moved = new URL(health.url);
  moved.port = String(port);
  return { ...health, url: moved.toString() };
}
