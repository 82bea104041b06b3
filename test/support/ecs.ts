import type {
  Deployment,
  Service,
  ServiceDeployment,
  ServiceEvent,
  TaskDefinition,
} from '@aws-sdk/client-ecs';

/**
 * One ECS world for every test that fakes ECS (the deploy command, the backend's operations views,
 * the remediation and gate functions): builders that answer the way the real API does, with the read-only
 * fields and ARNs it fills in. The account, region and cluster are fixed (`acme` in eu-west-1).
 */

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

/** A deployment of a service as DescribeServices returns it; `extra` adds fields (times, a reason). */
export function deployment(
  id: string,
  status: 'PRIMARY' | 'ACTIVE',
  taskDefinition: string,
  rolloutState: Deployment['rolloutState'],
  counts: { running: number; desired: number; pending: number; failed?: number },
  rolloutStateReason?: string,
  extra: Partial<Deployment> = {},
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
    ...extra,
  };
}

export function event(id: string, second: number, message: string): ServiceEvent {
  return { id, createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, second)), message };
}

/** A service as DescribeServices returns it; `extra` adds fields (counts, the deployment strategy). */
export function service(
  name: string,
  taskDefinitionArn: string,
  deployments: Deployment[],
  events: ServiceEvent[],
  extra: Partial<Service> = {},
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
    ...extra,
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
