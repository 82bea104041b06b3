import {
  ContinueServiceDeploymentCommand,
  type Deployment,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  type ServiceDeployment,
  type ServiceEvent,
  StopServiceDeploymentCommand,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { DeployDeps } from '../context.ts';

/** Shared builders for the deploy tests: one ECS world, described the way the real API answers. */

export const CLUSTER = 'acme';
export const ACCOUNT_PREFIX = 'arn:aws:ecs:eu-west-1:123456789012';
export const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
export const DIGEST = `sha256:${'a'.repeat(64)}`;
export const SIDECAR_DIGEST = `sha256:${'b'.repeat(64)}`;

export const tdArn = (family: string, revision: number) =>
  `${ACCOUNT_PREFIX}:task-definition/${family}:${revision}`;

/** A task definition as DescribeTaskDefinition returns it, read-only fields included. */
export function taskDefinition(family: string, revision: number): TaskDefinition {
  return {
    taskDefinitionArn: tdArn(family, revision),
    family,
    revision,
    status: 'ACTIVE',
    taskRoleArn: `arn:aws:iam::123456789012:role/${family}-task`,
    executionRoleArn: `arn:aws:iam::123456789012:role/${family}-execution`,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['EC2'],
    compatibilities: ['EC2'],
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.logging-driver.awsfirelens' }],
    cpu: '512',
    memory: '1024',
    registeredAt: new Date('2026-01-01T00:00:00Z'),
    registeredBy: 'arn:aws:sts::123456789012:assumed-role/deploy/gh',
    volumes: [],
    placementConstraints: [],
    containerDefinitions: [
      {
        name: family.replace('acme-', ''),
        image: `${REGISTRY}/acme/${family.replace('acme-', '')}:old`,
        essential: true,
        readonlyRootFilesystem: true,
        user: '1000',
        portMappings: [{ containerPort: 8081, protocol: 'tcp' }],
        logConfiguration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch_logs' } },
      },
      {
        name: 'anomaly-sidecar',
        image: `${REGISTRY}/acme/sidecar:old`,
        essential: false,
        readonlyRootFilesystem: true,
      },
      {
        name: 'log-router',
        image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4',
        essential: true,
        firelensConfiguration: { type: 'fluentbit' },
      },
    ],
  };
}

export function deployment(
  id: string,
  status: 'PRIMARY' | 'ACTIVE',
  taskDefinition: string,
  rolloutState: Deployment['rolloutState'],
  counts: { running: number; desired: number; pending: number; failed?: number },
  rolloutStateReason?: string,
): Deployment {
  return {
    id,
    status,
    taskDefinition,
    rolloutState,
    runningCount: counts.running,
    desiredCount: counts.desired,
    pendingCount: counts.pending,
    failedTasks: counts.failed ?? 0,
    ...(rolloutStateReason ? { rolloutStateReason } : {}),
  };
}

export function event(id: string, second: number, message: string): ServiceEvent {
  return { id, createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, second)), message };
}

export function service(
  name: string,
  taskDefinitionArn: string,
  deployments: Deployment[],
  events: ServiceEvent[],
): Service {
  return {
    serviceName: name,
    serviceArn: `${ACCOUNT_PREFIX}:service/${CLUSTER}/${name}`,
    clusterArn: `${ACCOUNT_PREFIX}:cluster/${CLUSTER}`,
    status: 'ACTIVE',
    taskDefinition: taskDefinitionArn,
    deploymentController: { type: 'ECS' },
    deployments,
    events,
  };
}

/** The steady service before a deploy: one COMPLETED PRIMARY deployment of revision 3. */
export function steadyService(name: string): Service {
  const family = `acme-${name}`;
  return service(
    name,
    tdArn(family, 3),
    [
      deployment('ecs-svc/old', 'PRIMARY', tdArn(family, 3), 'COMPLETED', {
        running: 2,
        desired: 2,
        pending: 0,
      }),
    ],
    [event(`${name}-e1`, 0, `(service ${name}) has reached a steady state.`)],
  );
}

/**
 * A task definition named as this repository's wiring names its containers (`log_router`, `app`,
 * `anomaly-sidecar`), as the CDK renders it: the deploy command addresses containers by these names.
 */
export function wiredTaskDefinition(family: string, revision: number): TaskDefinition {
  const legacy = taskDefinition(family, revision);
  const [app, sidecar, router] = legacy.containerDefinitions ?? [];
  return {
    ...legacy,
    containerDefinitions: [
      { ...router, name: 'log_router' },
      { ...app, name: 'app' },
      { ...sidecar, name: 'anomaly-sidecar' },
    ],
  };
}

/**
 * A mocked ECS client (every ECSClient instance) with the read side of the given services stubbed;
 * `wired`: their task definitions carry the wiring's container names.
 */
export function ecsWorld(names: string[], options: { wired?: boolean } = {}) {
  const ecs = mockClient(ECSClient);
  const render = options.wired ? wiredTaskDefinition : taskDefinition;
  for (const name of names) {
    // The running revision, and the family's latest ACTIVE one the deploy builds from: the same here.
    for (const taskDefinition of [tdArn(`acme-${name}`, 3), `acme-${name}`]) {
      ecs.on(DescribeTaskDefinitionCommand, { taskDefinition }).resolves({
        taskDefinition: render(`acme-${name}`, 3),
        tags: [{ key: 'platform', value: 'acme' }],
      });
    }
    ecs.on(RegisterTaskDefinitionCommand, { family: `acme-${name}` }).resolves({
      taskDefinition: { ...render(`acme-${name}`, 4), taskDefinitionArn: tdArn(`acme-${name}`, 4) },
    });
  }
  return ecs;
}

/** The service right after UpdateService: the new PRIMARY deployment has not started a task yet. */
export function justUpdated(name: string): Service {
  const family = `acme-${name}`;
  return service(
    name,
    tdArn(family, 4),
    [
      deployment(`ecs-svc/${name}-new`, 'PRIMARY', tdArn(family, 4), 'IN_PROGRESS', {
        running: 0,
        desired: 2,
        pending: 0,
      }),
      deployment('ecs-svc/old', 'ACTIVE', tdArn(family, 3), 'COMPLETED', {
        running: 2,
        desired: 2,
        pending: 0,
      }),
    ],
    steadyService(name).events ?? [],
  );
}

export {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
};

/** Fake time: `sleep` advances the clock instantly and records each pause. */
export function fakeDeps() {
  let now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const sleeps: number[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const deps: Omit<DeployDeps, 'ecs'> = {
    clock: { now: () => now },
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    random: () => 0,
  };
  return { deps, sleeps, out, err };
}

/** The names of the commands sent, in order: the shape of a run at a glance. */
export function commandNames(ecs: ReturnType<typeof mockClient>): string[] {
  return ecs.calls().map((call) => (call.args[0] as object).constructor.name);
}

export const sdArn = (service: string, id: string) =>
  `${ACCOUNT_PREFIX}:service-deployment/${CLUSTER}/${service}/${id}`;
export const revArn = (service: string, id: string) =>
  `${ACCOUNT_PREFIX}:service-revision/${CLUSTER}/${service}/${id}`;

/** A service deployment as DescribeServiceDeployments returns it: status, stage, the new revision's tasks and traffic. */
export function serviceDeployment(
  service: string,
  id: string,
  status: NonNullable<ServiceDeployment['status']>,
  stage: ServiceDeployment['lifecycleStage'],
  target: { running: number; requested: number; pending?: number; test?: number; production?: number },
  extra: Partial<ServiceDeployment> = {},
): ServiceDeployment {
  return {
    serviceDeploymentArn: sdArn(service, id),
    serviceArn: `${ACCOUNT_PREFIX}:service/${CLUSTER}/${service}`,
    clusterArn: `${ACCOUNT_PREFIX}:cluster/${CLUSTER}`,
    status,
    ...(stage ? { lifecycleStage: stage } : {}),
    sourceServiceRevisions: [{ arn: revArn(service, 'r3'), runningTaskCount: 2, requestedTaskCount: 2 }],
    targetServiceRevision: {
      arn: revArn(service, 'r4'),
      runningTaskCount: target.running,
      requestedTaskCount: target.requested,
      pendingTaskCount: target.pending ?? 0,
      ...(target.test !== undefined ? { requestedTestTrafficWeight: target.test } : {}),
      ...(target.production !== undefined ? { requestedProductionTrafficWeight: target.production } : {}),
    },
    ...extra,
  };
}

export {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
};
