import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { callEcs, type DeployDeps } from './context.ts';
import type { DeployOptions, ImageUpdate, ServiceTarget } from './targets.ts';
import { type ImageChange, renderTaskDefinitionRevision, UnknownContainerError } from './task-definition.ts';

/** What the deploy will do to one service, worked out with read-only calls only. */
export interface ServicePlan {
  readonly service: string;
  /** The running task definition, as DescribeTaskDefinition returned it. */
  readonly current: TaskDefinition;
  readonly currentTaskDefinitionArn: string;
  readonly registerInput: RegisterTaskDefinitionCommandInput;
  readonly changes: readonly ImageChange[];
  /**
   * The family's latest ACTIVE revision, which the new one is built from, when it is not the running
   * one: CloudFormation registered it for an infrastructure change the service does not run yet.
   */
  readonly baseTaskDefinitionArn?: string;
  /** Event ids already on the service before the deploy, so only new events are printed while following. */
  readonly seenEventIds: readonly string[];
  /** The service deployment current before this deploy, so following never mistakes it for the new one. */
  readonly previousServiceDeploymentArn?: string;
}

export interface DeployPlan {
  readonly cluster: string;
  readonly services: readonly ServicePlan[];
}

/** The plan cannot be made: a service, container or cluster does not exist, or cannot be deployed this way. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

// DescribeServices accepts at most 10 services per call.
const DESCRIBE_SERVICES_BATCH = 10;

/**
 * Reads every service and its current task definition and renders the next revision of each, before
 * anything is changed: a typo in the last service must not leave the first one half-deployed.
 *
 * @throws PlanError for a missing service, an inactive one, one not deployed by ECS itself, or a
 *   container the task definition does not have. AWS errors (access denied, missing cluster) propagate.
 */
export async function planDeploy(options: DeployOptions, deps: DeployDeps): Promise<DeployPlan> {
  const described = await describeServices(options.cluster, options.services, deps);
  const services: ServicePlan[] = [];
  for (const target of options.services) {
    services.push(await planService(target, described.get(target.service), options.cluster, deps));
  }
  return { cluster: options.cluster, services };
}

async function describeServices(
  cluster: string,
  targets: readonly ServiceTarget[],
  deps: DeployDeps,
): Promise<Map<string, Service>> {
  const found = new Map<string, Service>();
  const problems: string[] = [];
  for (let i = 0; i < targets.length; i += DESCRIBE_SERVICES_BATCH) {
    const names = targets.slice(i, i + DESCRIBE_SERVICES_BATCH).map((t) => t.service);
    const response = await callEcs(deps, 'DescribeServices', () =>
      deps.ecs.send(new DescribeServicesCommand({ cluster, services: names })),
    );
    for (const failure of response.failures ?? []) {
      const name = failure.arn?.split('/').pop() ?? '?';
      problems.push(
        `service '${name}' not found in cluster '${cluster}' (${failure.reason ?? 'no reason given'})`,
      );
    }
    for (const service of response.services ?? []) {
      if (service.serviceName) found.set(service.serviceName, service);
    }
  }
  for (const target of targets) {
    const service = found.get(target.service);
    // An INACTIVE or DRAINING service is a deleted one: ECS still describes it for a while.
    if (service && service.status !== 'ACTIVE') {
      problems.push(`service '${target.service}' in cluster '${cluster}' is ${service.status}, not ACTIVE`);
    } else if (!service && !problems.some((p) => p.includes(`'${target.service}'`))) {
      problems.push(`service '${target.service}' not found in cluster '${cluster}'`);
    }
  }
  if (problems.length > 0) throw new PlanError(problems.join('; '));
  return found;
}

async function planService(
  target: ServiceTarget,
  service: Service | undefined,
  cluster: string,
  deps: DeployDeps,
): Promise<ServicePlan> {
  if (!service?.taskDefinition) {
    throw new PlanError(`service '${target.service}' in cluster '${cluster}' has no task definition`);
  }
  const controller = service.deploymentController?.type ?? 'ECS';
  if (controller !== 'ECS') {
    // CODE_DEPLOY and EXTERNAL services reject a task-definition change through UpdateService.
    throw new PlanError(
      `service '${target.service}' uses the ${controller} deployment controller; this command rolls out ECS-controlled services only`,
    );
  }
  const revision = await nextRevision(
    familyOf(service.taskDefinition),
    target.images,
    `service '${target.service}'`,
    deps,
  );
  const base = revision.current.taskDefinitionArn;
  return {
    ...(base !== service.taskDefinition ? { baseTaskDefinitionArn: base } : {}),
    service: target.service,
    current: revision.current,
    currentTaskDefinitionArn: service.taskDefinition,
    registerInput: revision.registerInput,
    changes: revision.changes,
    seenEventIds: (service.events ?? []).flatMap((e) => (e.id ? [e.id] : [])),
    ...(service.currentServiceDeployment
      ? { previousServiceDeploymentArn: service.currentServiceDeployment }
      : {}),
  };
}

/** The next revision of a task-definition family, rendered from its latest ACTIVE one with the new images. */
export interface NextRevision {
  /** The family's latest ACTIVE revision, as DescribeTaskDefinition returned it. */
  readonly current: TaskDefinition & { readonly taskDefinitionArn: string };
  readonly registerInput: RegisterTaskDefinitionCommandInput;
  /** Only the containers whose image changes; empty when the revision already runs these images. */
  readonly changes: readonly ImageChange[];
}

/**
 * Reads a family's latest ACTIVE revision (with its tags) and renders the next one with `images`: how
 * every release starts, a service's and a scheduled job's alike. The latest ACTIVE revision, not the
 * running one: an infrastructure change registers a revision (with the released images) that runs only
 * once it is released, and the release must carry that change instead of dropping it.
 *
 * @throws PlanError naming `owner` when the family has no revision, or lacks a container the wiring names.
 */
export async function nextRevision(
  family: string,
  images: readonly ImageUpdate[],
  owner: string,
  deps: DeployDeps,
): Promise<NextRevision> {
  const described = await callEcs(deps, 'DescribeTaskDefinition', () =>
    deps.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] })),
  );
  const current = described.taskDefinition;
  const arn = current?.taskDefinitionArn;
  if (!current || !arn) {
    throw new PlanError(
      `${owner} has no task definition in family '${family}'; apply the declaration (cdk deploy) before rolling out images`,
    );
  }
  try {
    const revision = renderTaskDefinitionRevision(current, described.tags, images);
    return {
      current: { ...current, taskDefinitionArn: arn },
      registerInput: revision.input,
      changes: revision.changes,
    };
  } catch (error) {
    if (!(error instanceof UnknownContainerError)) throw error;
    throw new PlanError(
      `task definition ${arn} of ${owner} ${error.message}, which the declaration's wiring names; apply the declaration (cdk deploy) before rolling out images`,
    );
  }
}

/** `arn:…:task-definition/acme-frontend:4` (or `acme-frontend:4`) → `acme-frontend`. */
export function familyOf(taskDefinition: string): string {
  return taskDefinition.replace(/^.*:task-definition\//, '').replace(/:\d+$/, '');
}

/** The service has something to roll out: new images, or a revision the infrastructure registered. */
export function needsRollout(plan: ServicePlan): boolean {
  return plan.changes.length > 0 || plan.baseTaskDefinitionArn !== undefined;
}

/** Human-readable plan lines, printed before applying and as the whole output of `--dry-run`. */
export function formatPlan(plan: DeployPlan): string[] {
  const lines = [`plan for cluster ${plan.cluster}:`];
  for (const service of plan.services) {
    if (!needsRollout(service)) {
      lines.push(
        `  ${service.service}: already running the requested images (${service.currentTaskDefinitionArn}); skip`,
      );
      continue;
    }
    const from = service.baseTaskDefinitionArn
      ? ` from ${service.baseTaskDefinitionArn} (infrastructure changed since the running revision)`
      : '';
    lines.push(
      `  ${service.service}: register a new revision of ${service.registerInput.family}${from} (now ${service.currentTaskDefinitionArn}), then update the service`,
    );
    for (const change of service.changes) {
      lines.push(`    ${change.container}: ${change.from} -> ${change.to}`);
    }
  }
  return lines;
}
