import {
  type Deployment,
  DescribeServicesCommand,
  type Service,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import { formatDuration } from './args.ts';
import { callEcs, type DeployDeps } from './context.ts';
import {
  describeFinalFailure,
  FINAL_STATUSES,
  findServiceDeployment,
  pausedHooks,
  shortArn,
  stageLine,
} from './service-deployment.ts';

export type RolloutOutcome =
  | { readonly kind: 'completed'; readonly elapsedMs: number }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'timeout'; readonly lastState: string };

export interface FollowRolloutInput {
  readonly cluster: string;
  readonly service: string;
  /** The deployment UpdateService started (the PRIMARY one running the new task definition). */
  readonly deploymentId: string;
  readonly taskDefinitionArn: string;
  /** The service as UpdateService returned it: its state is reported before the first poll. */
  readonly initial: Service;
  /** Event ids printed or seen before; updated in place so nothing is printed twice. */
  readonly seenEventIds: Set<string>;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  /**
   * The service deployment UpdateService started (`currentServiceDeployment`); when known it decides
   * the outcome and its lifecycle stages are printed. Undefined where ECS reports none.
   */
  readonly serviceDeploymentArn?: string;
}

/**
 * Follows one ECS deployment until it is done, printing a progress line whenever its state changes and
 * each new service event once, oldest first.
 *
 * With a service deployment ARN, its status decides (SUCCESSFUL; ROLLBACK_SUCCESSFUL after the circuit
 * breaker, an alarm or a hook answered FAILED; STOPPED) and the line shows the lifecycle stage, the new
 * revision's tasks and its traffic weights, which BLUE_GREEN, LINEAR and CANARY deployments only report
 * there. Without one, the rolling deployment's rolloutState decides, tracked by id rather than "whichever
 * is PRIMARY": when the circuit breaker rolls back, ECS starts a new PRIMARY deployment of the old task
 * definition, and that one completing must not read as success.
 */
export async function followRollout(input: FollowRolloutInput, deps: DeployDeps): Promise<RolloutOutcome> {
  const started = deps.clock.now();
  const deadline = started + input.timeoutMs;
  let lastProgress = '';
  let service = input.initial;

  let pauseHinted = '';
  for (;;) {
    printNewEvents(input, service, deps);
    if (input.serviceDeploymentArn) {
      // Right after UpdateService the new deployment may not be readable yet (eventual consistency).
      const sd = await findServiceDeployment(deps, input.serviceDeploymentArn);
      const progress = sd
        ? stageLine(input.service, sd)
        : `${input.service}: waiting for ECS to report deployment ${shortArn(input.serviceDeploymentArn)}`;
      if (progress !== lastProgress) {
        deps.out(progress);
        lastProgress = progress;
      }
      if (sd) {
        pauseHinted = hintPause(input.service, sd, pauseHinted, deps);
        const outcome = finalOutcome(sd, deps.clock.now() - started);
        if (outcome) return outcome;
      }
      const now = deps.clock.now();
      if (now >= deadline) return { kind: 'timeout', lastState: progress.slice(input.service.length + 2) };
      await deps.sleep(Math.min(input.pollIntervalMs, deadline - now));
      service = await describeOne(input, deps);
      continue;
    }
    const deployment = service.deployments?.find((d) => d.id === input.deploymentId);
    if (!deployment) {
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
      return {
        kind: 'failed',
        reason: `deployment ${input.deploymentId} is gone; the service now runs ${primary?.taskDefinition ?? 'an unknown task definition'} (another deploy replaced it?)`,
      };
    }
    const progress = progressLine(input.service, deployment);
    if (progress !== lastProgress) {
      deps.out(progress);
      lastProgress = progress;
    }

    if (deployment.rolloutState === 'COMPLETED') {
      return { kind: 'completed', elapsedMs: deps.clock.now() - started };
    }
    if (deployment.rolloutState === 'FAILED') {
      const rollback = service.deployments?.find(
        (d) => d.status === 'PRIMARY' && d.id !== input.deploymentId,
      );
      return {
        kind: 'failed',
        reason:
          `rollout FAILED: ${deployment.rolloutStateReason ?? 'no reason given'}` +
          (rollback
            ? `; the circuit breaker rolled back to ${rollback.taskDefinition} (deployment ${rollback.id})`
            : ''),
      };
    }
    if (deployment.status !== 'PRIMARY') {
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
      return {
        kind: 'failed',
        reason: `deployment ${input.deploymentId} was superseded by ${primary?.id ?? 'another deployment'} (${primary?.taskDefinition ?? 'unknown task definition'}) before it completed`,
      };
    }

    const now = deps.clock.now();
    if (now >= deadline) {
      return { kind: 'timeout', lastState: progress.slice(input.service.length + 2) };
    }
    await deps.sleep(Math.min(input.pollIntervalMs, deadline - now));
    service = await describeOne(input, deps);
  }
}

function finalOutcome(sd: ServiceDeployment, elapsedMs: number): RolloutOutcome | undefined {
  if (!sd.status || !FINAL_STATUSES.includes(sd.status)) return undefined;
  if (sd.status === 'SUCCESSFUL') return { kind: 'completed', elapsedMs };
  return { kind: 'failed', reason: describeFinalFailure(sd) };
}

// Once per paused hook: the deployment waits for a person, and the command says how to answer.
function hintPause(service: string, sd: ServiceDeployment, hinted: string, deps: DeployDeps): string {
  const paused = pausedHooks(sd)[0];
  if (!paused?.hookId || paused.hookId === hinted) return hinted;
  const expires = paused.expiresAt
    ? ` until ${paused.expiresAt.toISOString().slice(11, 19)} (then ${paused.timeoutAction ?? 'ROLLBACK'})`
    : '';
  deps.out(
    `${service}: paused at ${sd.lifecycleStage ?? 'a lifecycle stage'}${expires}; berth deploy continue --service ${service} (or abort)`,
  );
  return paused.hookId;
}

async function describeOne(input: FollowRolloutInput, deps: DeployDeps): Promise<Service> {
  const response = await callEcs(deps, 'DescribeServices', () =>
    deps.ecs.send(new DescribeServicesCommand({ cluster: input.cluster, services: [input.service] })),
  );
  const service = response.services?.find((s) => s.serviceName === input.service);
  if (!service) {
    const reason = response.failures?.[0]?.reason ?? 'not returned';
    throw new Error(`service '${input.service}' disappeared while rolling out (${reason})`);
  }
  return service;
}

function progressLine(name: string, d: Deployment): string {
  const failed = d.failedTasks ? `, ${d.failedTasks} failed` : '';
  return `${name}: ${d.rolloutState ?? 'UNKNOWN'} running ${d.runningCount ?? 0}/${d.desiredCount ?? 0}, pending ${d.pendingCount ?? 0}${failed}`;
}

function printNewEvents(input: FollowRolloutInput, service: Service, deps: DeployDeps): void {
  // ECS returns the newest events first (up to 100); print the unseen ones in the order they happened.
  const fresh = (service.events ?? []).filter((e) => e.id && !input.seenEventIds.has(e.id)).reverse();
  for (const event of fresh) {
    input.seenEventIds.add(event.id as string);
    const at = event.createdAt ? event.createdAt.toISOString().slice(11, 19) : '--:--:--';
    deps.out(`${input.service}: event ${at} ${event.message ?? ''}`);
  }
}

/** The message for an outcome that is not success, as printed on stderr. */
export function describeOutcome(service: string, outcome: RolloutOutcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case 'completed':
      return `${service}: rollout COMPLETED in ${formatDuration(outcome.elapsedMs)}`;
    case 'failed':
      return `${service}: ${outcome.reason}`;
    case 'timeout':
      return `${service}: rollout did not complete within ${formatDuration(timeoutMs)} (last: ${outcome.lastState}); ECS keeps deploying and its circuit breaker may still roll back`;
  }
}
