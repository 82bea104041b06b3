import type { Deployment as EcsDeployment, Service } from '@aws-sdk/client-ecs';
import type { Deployment, Rollback, ServiceDeployments } from '../../../contracts/console-ops.ts';

/**
 * From one ECS service (DescribeServices) to the console's deployments view. Pure, so the mapping is
 * tested without the SDK.
 *
 * - revision: the task definition's `family:revision` (the last part of its ARN).
 * - traffic share: with the ECS rolling strategy every running task sits behind the same target
 *   group, so a revision receives its share of the running tasks.
 * - rollbacks: the circuit breaker (or a rollback alarm) marks the abandoned deployment `FAILED` with
 *   a reason and starts a new primary one with the previous revision.
 */
export function toServiceDeployments(name: string, service: Service): ServiceDeployments {
  const ecs = service.deployments ?? [];
  const totalRunning = ecs.reduce((sum, d) => sum + (d.runningCount ?? 0), 0);
  const deployments = ecs
    .map((d) => toDeployment(d, totalRunning))
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const primary = deployments.find((d) => d.status === 'primary');
  const rollbacks: Rollback[] = deployments
    .filter((d) => d.status !== 'primary' && d.rolloutState === 'failed')
    .map((d) => ({
      fromRevision: d.revision,
      toRevision: primary?.revision ?? 'unknown',
      reason: d.reason ?? 'the deployment failed',
      at: d.updatedAt,
    }));
  return {
    service: name,
    strategy: strategyOf(service),
    progressPercent: primary ? progressOf(primary) : 100,
    deployments,
    rollbacks,
  };
}

function toDeployment(d: EcsDeployment, totalRunning: number): Deployment {
  const running = d.runningCount ?? 0;
  const createdAt = (d.createdAt ?? new Date(0)).toISOString();
  return {
    id: d.id ?? '(unknown)',
    revision: revisionOf(d.taskDefinition),
    status: d.status === 'PRIMARY' ? 'primary' : d.status === 'ACTIVE' ? 'active' : 'inactive',
    rolloutState:
      d.rolloutState === 'FAILED' ? 'failed' : d.rolloutState === 'COMPLETED' ? 'completed' : 'in-progress',
    ...(d.rolloutStateReason ? { reason: d.rolloutStateReason } : {}),
    desired: d.desiredCount ?? 0,
    running,
    pending: d.pendingCount ?? 0,
    trafficPercent: totalRunning === 0 ? 0 : Math.round((running / totalRunning) * 1000) / 10,
    createdAt,
    updatedAt: (d.updatedAt ?? d.createdAt ?? new Date(0)).toISOString(),
    judgements: [],
  };
}

/** `arn:aws:ecs:eu-west-1:123456789012:task-definition/backend:42` → `backend:42`. */
export function revisionOf(taskDefinitionArn: string | undefined): string {
  if (!taskDefinitionArn) return 'unknown';
  return taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf('/') + 1);
}

function progressOf(primary: Deployment): number {
  if (primary.rolloutState === 'completed') return 100;
  if (primary.desired === 0) return 100;
  return Math.min(100, Math.round((primary.running / primary.desired) * 100));
}

function strategyOf(service: Service): ServiceDeployments['strategy'] {
  const strategy = service.deploymentConfiguration?.strategy;
  if (strategy === 'BLUE_GREEN') return 'blue-green';
  if (strategy === 'LINEAR') return 'linear';
  if (strategy === 'CANARY') return 'canary';
  return 'rolling';
}
