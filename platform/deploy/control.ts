import {
  ContinueServiceDeploymentCommand,
  type ServiceDeployment,
  StopServiceDeploymentCommand,
} from '@aws-sdk/client-ecs';
import { EXIT_CODES, type ExitCode, formatDuration, type WaitTarget } from './args.ts';
import { callEcs, type DeployDeps, describeError } from './context.ts';
import { describeAll } from './inspect.ts';
import {
  activeServiceDeployment,
  describeFinalFailure,
  describeServiceDeployment,
  FINAL_STATUSES,
  pausedHooks,
  reachedStage,
  shortArn,
  stageLine,
} from './service-deployment.ts';

/** How long and how often `rollback`, `continue`, `abort` and `wait` follow a deployment. */
export interface FollowOptions {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  /** false: return once ECS accepted the request. */
  readonly wait: boolean;
  /**
   * Services were named with `--service`: one with nothing to act on is an error. Otherwise such
   * services are passed over, and only finding none to act on at all is.
   */
  readonly explicit?: boolean;
}

/** `skip`: nothing to act on for this service (no deployment in progress, no paused hook). */
type Outcome = { readonly code: ExitCode; readonly message: string; readonly skip?: boolean };

/**
 * `rollback`: StopServiceDeployment with stopType ROLLBACK on each service's deployment in progress,
 * then (unless `--no-wait`) follow it to ROLLBACK_SUCCESSFUL (exit 0). Nothing in progress, a failed
 * rollback, or a deployment that finished first: exit 1.
 */
export async function runRollback(
  cluster: string,
  services: readonly string[],
  options: FollowOptions,
  deps: DeployDeps,
): Promise<ExitCode> {
  return forEachService(services, deps, options.explicit ?? true, async (service) => {
    const active = await activeServiceDeployment(deps, cluster, service);
    if (!active?.serviceDeploymentArn) {
      return {
        code: EXIT_CODES.failed,
        message: `${service}: no deployment in progress to roll back`,
        skip: true,
      };
    }
    const arn = active.serviceDeploymentArn;
    await callEcs(deps, 'StopServiceDeployment', () =>
      deps.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' })),
    );
    deps.out(`${service}: rollback of ${shortArn(arn)} requested`);
    if (!options.wait) return { code: EXIT_CODES.ok, message: `${service}: rollback requested` };
    return untilFinal(service, arn, options, deps, 'ROLLBACK_SUCCESSFUL');
  });
}

/**
 * `continue` / `abort`: answer each service's paused pause hook with CONTINUE or ROLLBACK
 * (ContinueServiceDeployment), then (unless `--no-wait`) follow the deployment to its end: SUCCESSFUL
 * after continue, ROLLBACK_SUCCESSFUL after abort, exit 0; otherwise 1. No paused hook: exit 1.
 */
export async function runResume(
  cluster: string,
  services: readonly string[],
  action: 'CONTINUE' | 'ROLLBACK',
  options: FollowOptions,
  deps: DeployDeps,
): Promise<ExitCode> {
  return forEachService(services, deps, options.explicit ?? true, async (service) => {
    const active = await activeServiceDeployment(deps, cluster, service);
    const hook = active ? pausedHooks(active)[0] : undefined;
    if (!active?.serviceDeploymentArn || !hook?.hookId) {
      const where = active
        ? `${active.status} at ${active.lifecycleStage ?? 'no stage'}`
        : 'no deployment in progress';
      return {
        code: EXIT_CODES.failed,
        message: `${service}: no pause hook is waiting (${where})`,
        skip: true,
      };
    }
    const arn = active.serviceDeploymentArn;
    const hookId = hook.hookId;
    await callEcs(deps, 'ContinueServiceDeployment', () =>
      deps.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId, action })),
    );
    const verb = action === 'CONTINUE' ? 'continued' : 'rollback requested';
    deps.out(`${service}: ${shortArn(arn)} ${verb} at ${active.lifecycleStage ?? 'its pause'}`);
    if (!options.wait) return { code: EXIT_CODES.ok, message: `${service}: ${verb}` };
    return untilFinal(
      service,
      arn,
      options,
      deps,
      action === 'CONTINUE' ? 'SUCCESSFUL' : 'ROLLBACK_SUCCESSFUL',
    );
  });
}

/**
 * `wait --until stable|deployed|<STAGE>`, service after service under one deadline:
 * - `stable`: one deployment left, running = desired, nothing pending (as `aws ecs wait services-stable`);
 * - `deployed`: the current service deployment SUCCESSFUL (exit 1 when it rolled back or stopped);
 * - a stage: the current service deployment reached it or went beyond (exit 1 when it failed first).
 */
export async function runWait(
  cluster: string,
  services: readonly string[],
  until: WaitTarget,
  options: Omit<FollowOptions, 'wait'>,
  deps: DeployDeps,
): Promise<ExitCode> {
  const deadline = deps.clock.now() + options.timeoutMs;
  const label = until.kind === 'stage' ? until.stage : until.kind;
  return forEachService(services, deps, true, async (service) => {
    let last = '';
    for (;;) {
      const { found } = await describeAll(cluster, [service], deps);
      const s = found.get(service);
      if (!s) return { code: EXIT_CODES.failed, message: `${service}: not found in cluster '${cluster}'` };
      const sd = s.currentServiceDeployment
        ? await describeServiceDeployment(deps, s.currentServiceDeployment)
        : undefined;
      const line = sd
        ? stageLine(service, sd)
        : `${service}: running ${s.runningCount ?? 0}/${s.desiredCount ?? 0}, pending ${s.pendingCount ?? 0}, ${s.deployments?.length ?? 0} deployment(s)`;
      if (line !== last) deps.out(line);
      last = line;
      const settled = sd === undefined || FINAL_STATUSES.includes(sd.status ?? 'IN_PROGRESS');
      if (until.kind === 'stable') {
        const steady =
          settled &&
          (s.deployments?.length ?? 0) <= 1 &&
          s.runningCount === s.desiredCount &&
          (s.pendingCount ?? 0) === 0;
        if (steady) return { code: EXIT_CODES.ok, message: `${service}: stable` };
      } else if (!sd) {
        return {
          code: EXIT_CODES.failed,
          message: `${service}: ECS reports no service deployment to wait for`,
        };
      } else if (
        until.kind === 'stage' &&
        sd.status !== 'SUCCESSFUL' &&
        !settled &&
        reachedStage(sd, until.stage)
      ) {
        return { code: EXIT_CODES.ok, message: `${service}: reached ${until.stage}` };
      } else if (sd.status === 'SUCCESSFUL') {
        return {
          code: EXIT_CODES.ok,
          message: `${service}: ${until.kind === 'stage' ? `passed ${until.stage}; ` : ''}deployed`,
        };
      } else if (settled) {
        return { code: EXIT_CODES.failed, message: `${service}: ${describeFinalFailure(sd)}` };
      }
      const now = deps.clock.now();
      if (now >= deadline) {
        return {
          code: EXIT_CODES.timeout,
          message: `${service}: not ${label} within ${formatDuration(options.timeoutMs)} (last: ${line.slice(service.length + 2)})`,
        };
      }
      await deps.sleep(Math.min(options.pollIntervalMs, deadline - now));
    }
  });
}

/** Follows one service deployment until it is final; `expected` is the status that means success. */
async function untilFinal(
  service: string,
  arn: string,
  options: FollowOptions,
  deps: DeployDeps,
  expected: 'SUCCESSFUL' | 'ROLLBACK_SUCCESSFUL',
): Promise<Outcome> {
  const deadline = deps.clock.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const sd: ServiceDeployment = await describeServiceDeployment(deps, arn);
    const line = stageLine(service, sd);
    if (line !== last) deps.out(line);
    last = line;
    if (sd.status === expected) {
      return {
        code: EXIT_CODES.ok,
        message: `${service}: ${expected === 'SUCCESSFUL' ? 'deployed' : 'rolled back'}`,
      };
    }
    if (sd.status && FINAL_STATUSES.includes(sd.status)) {
      const message =
        sd.status === 'SUCCESSFUL'
          ? 'the deployment completed before the rollback took effect'
          : describeFinalFailure(sd);
      return { code: EXIT_CODES.failed, message: `${service}: ${message}` };
    }
    const now = deps.clock.now();
    if (now >= deadline) {
      return {
        code: EXIT_CODES.timeout,
        message: `${service}: not finished within ${formatDuration(options.timeoutMs)} (last: ${line.slice(service.length + 2)}); ECS keeps going`,
      };
    }
    await deps.sleep(Math.min(options.pollIntervalMs, deadline - now));
  }
}

/**
 * Runs `step` per service in order; stops at the first that does not succeed, printing its message.
 * Not `explicit`: skipped services are only reported, and it fails only when every one was skipped.
 */
async function forEachService(
  services: readonly string[],
  deps: DeployDeps,
  explicit: boolean,
  step: (service: string) => Promise<Outcome>,
): Promise<ExitCode> {
  const skipped: string[] = [];
  for (const service of services) {
    let outcome: Outcome;
    try {
      outcome = await step(service);
    } catch (error) {
      outcome = { code: EXIT_CODES.failed, message: `${service}: ${describeError(error)}` };
    }
    if (outcome.skip && !explicit) {
      skipped.push(outcome.message);
      continue;
    }
    if (outcome.code !== EXIT_CODES.ok) {
      deps.err(`deploy: ${outcome.message}`);
      return outcome.code;
    }
    deps.out(outcome.message);
  }
  if (skipped.length > 0 && skipped.length === services.length) {
    deps.err(`deploy: nothing to act on: ${skipped.join('; ')}`);
    return EXIT_CODES.failed;
  }
  return EXIT_CODES.ok;
}
