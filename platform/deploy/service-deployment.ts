import {
  DescribeServiceDeploymentsCommand,
  ListServiceDeploymentsCommand,
  type ServiceDeployment,
  type ServiceDeploymentStatus,
} from '@aws-sdk/client-ecs';
import { LIFECYCLE_STAGES, type LifecycleStage } from './args.ts';
import { callEcs, type DeployDeps } from './context.ts';

/**
 * ECS service deployments (the 2024+ API behind every ECS-controller deployment, and the only view of
 * BLUE_GREEN / LINEAR / CANARY lifecycle stages, traffic weights and hooks): reading them and describing
 * them the way the progress lines print them.
 */

/** Statuses after which a service deployment changes no more. */
export const FINAL_STATUSES: readonly ServiceDeploymentStatus[] = [
  'SUCCESSFUL',
  'STOPPED',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
];

/** Statuses of a deployment that can still be rolled back, continued or aborted. */
export const ACTIVE_STATUSES: ServiceDeploymentStatus[] = ['PENDING', 'IN_PROGRESS'];

/** The service deployment, or undefined (with the failure's reason) when ECS does not return it. */
export async function findServiceDeployment(
  deps: DeployDeps,
  serviceDeploymentArn: string,
): Promise<ServiceDeployment | undefined> {
  return (await readServiceDeployment(deps, serviceDeploymentArn)).found;
}

/** @throws Error naming the ARN and ECS's reason when the deployment is not returned. */
export async function describeServiceDeployment(
  deps: DeployDeps,
  serviceDeploymentArn: string,
): Promise<ServiceDeployment> {
  const { found, reason } = await readServiceDeployment(deps, serviceDeploymentArn);
  if (!found) throw new Error(`service deployment ${serviceDeploymentArn} could not be read (${reason})`);
  return found;
}

async function readServiceDeployment(deps: DeployDeps, serviceDeploymentArn: string) {
  const response = await callEcs(deps, 'DescribeServiceDeployments', () =>
    deps.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] })),
  );
  const found = response.serviceDeployments?.find((d) => d.serviceDeploymentArn === serviceDeploymentArn);
  return { found, reason: response.failures?.[0]?.reason ?? 'not returned' };
}

/** The service's deployment in progress (PENDING or IN_PROGRESS), newest first; undefined when none. */
export async function activeServiceDeployment(
  deps: DeployDeps,
  cluster: string,
  service: string,
): Promise<ServiceDeployment | undefined> {
  const listed = await callEcs(deps, 'ListServiceDeployments', () =>
    deps.ecs.send(
      new ListServiceDeploymentsCommand({ cluster, service, status: ACTIVE_STATUSES, maxResults: 5 }),
    ),
  );
  const newest = [...(listed.serviceDeployments ?? [])].sort(
    (a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0),
  )[0];
  return newest?.serviceDeploymentArn
    ? describeServiceDeployment(deps, newest.serviceDeploymentArn)
    : undefined;
}

/** Pause hooks waiting for `continue` or `abort`. */
export function pausedHooks(deployment: ServiceDeployment) {
  return (deployment.lifecycleHookDetails ?? []).filter(
    (h) => h.targetType === 'PAUSE' && h.status === 'AWAITING_ACTION' && h.hookId,
  );
}

/** True once the deployment has reached `stage` or gone beyond it (a finished deployment passed them all). */
export function reachedStage(deployment: ServiceDeployment, stage: LifecycleStage): boolean {
  if (deployment.status === 'SUCCESSFUL') return true;
  const current = LIFECYCLE_STAGES.indexOf(deployment.lifecycleStage as LifecycleStage);
  return current >= LIFECYCLE_STAGES.indexOf(stage);
}

/**
 * `frontend: IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT running 2/2, pending 0, production traffic 10% new`:
 * the deployment's status and stage, the new revision's tasks and the traffic it is asked to take.
 */
export function stageLine(service: string, d: ServiceDeployment): string {
  const target = d.targetServiceRevision;
  const parts = [
    `${service}: ${d.status ?? 'UNKNOWN'}${d.lifecycleStage ? ` ${d.lifecycleStage}` : ''}`,
    ` running ${target?.runningTaskCount ?? 0}/${target?.requestedTaskCount ?? 0}, pending ${target?.pendingTaskCount ?? 0}`,
  ];
  if (target?.requestedTestTrafficWeight !== undefined) {
    parts.push(`, test traffic ${target.requestedTestTrafficWeight}% new`);
  }
  if (target?.requestedProductionTrafficWeight !== undefined) {
    parts.push(`, production traffic ${target.requestedProductionTrafficWeight}% new`);
  }
  const hooks = (d.lifecycleHookDetails ?? []).filter(
    (h) => h.status === 'IN_PROGRESS' || h.status === 'AWAITING_ACTION',
  );
  for (const hook of hooks) {
    parts.push(`, ${hook.targetType === 'PAUSE' ? 'pause hook' : 'hook'} ${hook.status}`);
  }
  return parts.join('');
}

/** Why a finished deployment did not succeed, in one sentence. */
export function describeFinalFailure(d: ServiceDeployment): string {
  const reason = d.rollback?.reason ?? d.statusReason ?? 'no reason given';
  const back = d.sourceServiceRevisions?.[0]?.arn;
  switch (d.status) {
    case 'ROLLBACK_SUCCESSFUL':
      return `rolled back: ${reason}${back ? `; the service runs ${back} again` : ''}`;
    case 'ROLLBACK_FAILED':
      return `rollback FAILED: ${reason}; the service may run both revisions, look at it in the console`;
    default:
      return `deployment ${d.status}: ${reason}`;
  }
}

/** `arn:aws:ecs:…:service-deployment/acme/frontend/Ab12` → `frontend/Ab12`: what a person reads. */
export function shortArn(arn: string): string {
  return arn.split('/').slice(-2).join('/');
}
